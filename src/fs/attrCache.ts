/**
 * Namespace entries by path, kept in memory so that the lookups and
 * getattrs of a tree walk do not each cost a catalog query, nor the lookups
 * of names about to be created (missing paths are kept too). Every change
 * made through the VFS invalidates what it touched; the TTL bounds how long
 * a change made behind our back (a CLI command on the service's socket) can
 * stay unseen, like the kernel's own attr_timeout.
 */
import { LRUCache } from 'lru-cache';
import type { Catalog, NsEntry } from '../catalog/index.js';

/** Told of every change, so that a copy of the answers elsewhere (the mount's addon) forgets them too. Catalog paths. */
export interface AttrListener {
  changed(path: string): void;
  changedTree(dir: string): void;
}

const TOUCHED_MAX = 50_000;
/** A path looked up and found missing: rsync and tar ask for each name before they create it, some twice. */
const ABSENT = { absent: true } as const;

export class AttrCache {
  private readonly lru: LRUCache<string, NsEntry | typeof ABSENT>;
  /** Bumped by every invalidation, so a lookup that raced a change does not store what it read before it. */
  private generation = 0;
  /** The generation of each path's last change, for putIfUnchanged; forgotten in bulk past TOUCHED_MAX. */
  private touched = new Map<string, number>();
  /** Changes at or before this generation are forgotten (a subtree dropped, or `touched` cleared). */
  private forgottenAt = 0;
  private listener: AttrListener | null = null;

  readonly ttlMs: number;

  constructor(private readonly catalog: Catalog, opts: { max?: number; ttlMs?: number } = {}) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.lru = new LRUCache({ max: opts.max ?? 20_000, ttl: this.ttlMs });
  }

  listen(l: AttrListener | null): void {
    this.listener = l;
  }

  async lookup(path: string): Promise<NsEntry | null> {
    const hit = this.lru.get(path);
    if (hit) return 'absent' in hit ? null : hit;
    const gen = this.generation;
    const e = await this.catalog.lookup(path);
    if (gen === this.generation) this.lru.set(path, e ?? ABSENT);
    return e;
  }

  /** The cached entry of `path`, with no catalog query: undefined when it is not cached or cached as missing. */
  peek(path: string): NsEntry | undefined {
    const hit = this.lru.get(path);
    return hit && !('absent' in hit) ? hit : undefined;
  }

  /** Stores an entry an operation just produced. */
  put(path: string, e: NsEntry): void {
    this.touch(path);
    this.lru.set(path, e);
    this.listener?.changed(path);
  }

  /**
   * Stores an entry an operation committed after `since` (a snapshot()),
   * unless another change of the path came after: a release finishing in
   * the background must not bring back a file unlinked meanwhile. False
   * (and the path dropped) when it did not store it.
   */
  putIfUnchanged(path: string, e: NsEntry, since: number): boolean {
    if (this.forgottenAt > since || (this.touched.get(path) ?? 0) > since) {
      this.invalidate(path);
      return false;
    }
    this.put(path, e);
    return true;
  }

  /** A token to pass to prime() for entries read after this call. */
  snapshot(): number {
    return this.generation;
  }

  /** Stores entries read from the catalog (a readdir), unless something changed since `snapshot`. */
  prime(entries: [string, NsEntry][], snapshot: number): void {
    if (snapshot !== this.generation) return;
    for (const [p, e] of entries) this.lru.set(p, e);
  }

  invalidate(...paths: string[]): void {
    for (const p of paths) {
      this.touch(p);
      this.lru.delete(p);
      this.listener?.changed(p);
    }
    this.generation++;
  }

  /** Drops `dir` and everything below it (a directory was renamed or removed). */
  invalidateTree(dir: string): void {
    this.generation++;
    this.forgottenAt = this.generation;
    this.listener?.changedTree(dir);
    if (dir === '') {
      this.lru.clear();
      return;
    }
    const prefix = dir + '/';
    for (const k of [...this.lru.keys()]) if (k === dir || k.startsWith(prefix)) this.lru.delete(k);
  }

  clear(): void {
    this.generation++;
    this.forgottenAt = this.generation;
    this.lru.clear();
    this.listener?.changedTree('');
  }

  private touch(path: string): void {
    this.generation++;
    if (this.touched.size >= TOUCHED_MAX) {
      this.touched.clear();
      this.forgottenAt = this.generation;
    }
    this.touched.set(path, this.generation);
  }
}
