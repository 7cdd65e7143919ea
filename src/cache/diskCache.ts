/**
 * The disk cache of the FUSE front-end (ARCHITECTURE §6): the FileCache the
 * mount calls, built from small parts that share one context — versions.ts
 * (files becoming versions), handle.ts (changes and their durability),
 * writeback.ts + flush.ts (the flusher), residency.ts (recall, eviction),
 * cleaner.ts (watermarks), recover.ts (start-up).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Catalog, ObjectRow, PosixAttrs } from '../catalog/index.js';
import type { Clock } from '../clock/index.js';
import { DeimosError, type Config, type Logger } from '../core/index.js';
import type { Store } from '../store/index.js';
import { CacheDir } from './cacheDir.js';
import { Cleaner } from './cleaner.js';
import { entryRow, versionRow, type Ctx } from './context.js';
import { keyOf, type Entry } from './entry.js';
import { endGroup, flushEntry, startGroup } from './flush.js';
import { ForegroundGate } from './foreground.js';
import { commitSize, Handle, syncFile } from './handle.js';
import type { CacheHandle, CacheStats, FileCache, FileState } from './interface.js';
import { KeyedLock } from './keyedLock.js';
import { Lingering } from './linger.js';
import { WriteBehind } from './writeBehind.js';
import { cacheOptions, type CacheOptions, type CacheTuning } from './options.js';
import { recover, type RecoverReport } from './recover.js';
import { evict, Recalls } from './residency.js';
import { fileState } from './states.js';
import { timersOf } from './timers.js';
import { createObject, nextVersion, truncatesInPlace } from './versions.js';
import { WritebackQueue } from './writeback.js';

/** Descriptors of closed cache files kept open, and for how long (linger.ts). */
const LINGER_MAX = 128;
const LINGER_MS = 2000;

export interface CacheDeps {
  catalog: Catalog;
  store: Store;
  config: Config;
  log: Logger;
  /** Clock of flush ages and retries (default: real time, unscaled). */
  clock?: Clock;
  tuning?: CacheTuning;
}

export class DiskCache implements FileCache {
  /** 'flush-group' (ids, tick), 'flush-start', 'flushed', 'flush-cancelled', 'flush-failed' (with the error), 'evicted', 'staged' (uuid.version). */
  readonly events = new EventEmitter();
  readonly options: CacheOptions;
  private readonly c: Ctx;
  private readonly recalls: Recalls;
  private readonly handles = new Set<Handle>();
  private stopped = false;

  constructor(deps: CacheDeps) {
    const opts = cacheOptions(deps.config, deps.tuning);
    this.options = opts;
    const timers = timersOf(deps.clock);
    const log = deps.log;
    let ids = 0;
    const c = {
      catalog: deps.catalog, store: deps.store, dir: new CacheDir(opts.dir), opts, log, timers,
      wallNow: () => Date.now(),
      entries: new Map(), byId: new Map(), locks: new KeyedLock(),
      linger: new Lingering(LINGER_MAX, LINGER_MS, log),
      writeBehind: new WriteBehind(log),
      foreground: new ForegroundGate(timers, opts.flushYieldMs, () => c.usage.bytes > opts.highBytes),
      counters: { evictions: 0, flushes: 0, recalls: 0 }, usage: { bytes: 0 },
      events: this.events,
      nextId: () => ++ids,
    } as Omit<Ctx, 'queue' | 'cleaner'> as Ctx;
    // Group numbers restart with each cache: the prefix keeps batch names of two caches apart.
    const batchPrefix = randomUUID();
    c.queue = new WritebackQueue<number>({
      policy: { ageMs: opts.flushAgeMs, delayMs: opts.flushDelayMs, nb: opts.flushNb, bytes: opts.flushBytes, backoffBaseMs: opts.backoffBaseMs, backoffMaxMs: opts.backoffMaxMs, maxPuts: opts.maxPuts },
      timers,
      put: (id, group, forced) => flushEntry(c, id, `flush-${batchPrefix}-${group}`, forced).catch((err) => {
        this.events.emit('flush-failed', c.byId.get(id)?.key, err);
        throw err;
      }),
      onGroup: async (group) => {
        this.events.emit('flush-group', group, timers.now());
        await startGroup(c, group);
      },
      onGroupDone: (group) => endGroup(c, group),
      log,
    });
    c.cleaner = new Cleaner<Entry>({
      capacity: opts.sizeBytes, high: opts.highBytes, low: opts.lowBytes,
      used: () => c.usage.bytes,
      candidates: () => [...c.byId.values()].filter((e) => e.state === 'clean' && e.openCount === 0 && !c.locks.isLocked(e.key)),
      evict: (e) => evict(c, e),
      log,
    });
    this.c = c;
    this.recalls = new Recalls(c);
  }

  async recover(): Promise<RecoverReport> {
    return recover(this.c);
  }

  async create(oid: string, attrs: PosixAttrs, opts: { exclusive?: boolean } = {}): Promise<CacheHandle> {
    this.running();
    const alive = await this.c.catalog.getObject({ oid });
    if (!alive) {
      try {
        const { e, row } = await createObject(this.c, oid, attrs, (x) => this.claim(x, true));
        const h = await this.attach(e, true, oid, true);
        h.created = row;
        return h;
      } catch (err) {
        // Another writer created it meanwhile: without O_EXCL that is an open with O_TRUNC.
        if (!(err instanceof DeimosError && err.code === 'EEXIST') || opts.exclusive) throw err;
      }
    }
    if (opts.exclusive) throw new DeimosError('EEXIST', `'${oid}' already exists`, 'open it without O_EXCL, or choose another name');
    const now = await this.c.catalog.getObject({ oid });
    if (!now) throw new DeimosError('ENOENT', `'${oid}' was removed while being created`, 'create it again');
    return this.open(now, { write: true, truncate: true });
  }

  async open(obj: ObjectRow, mode: { write: boolean; truncate: boolean }): Promise<CacheHandle> {
    this.running();
    const c = this.c;
    if (mode.write && mode.truncate) {
      const e = c.entries.get(keyOf(obj));
      if (truncatesInPlace(e)) {
        const h = await this.attach(e, true, obj.oid);
        if (h.size() > 0) await h.truncate(0);
        return h;
      }
      // An archived version is never truncated: the new content is the next version.
      if (obj.size > 0) return this.attach(await nextVersion(c, obj, null, (x) => this.claim(x, true)), true, obj.oid, true);
    }
    for (;;) {
      const e = c.entries.get(keyOf(obj));
      if (e && e.state !== 'staging') return this.attach(e, mode.write, obj.oid);
      await this.recalls.recall(obj);
    }
  }

  async close(h: CacheHandle, opts: { attrs?: Partial<PosixAttrs> } = {}): Promise<ObjectRow> {
    const handle = this.own(h);
    if (handle.closed) throw new DeimosError('EBADF', `'${h.oid}' is already closed`, 'close a handle once');
    handle.detachDirect();
    handle.closed = true;
    this.handles.delete(handle);
    this.c.foreground.leave();
    const e = handle.entry;
    let row: ObjectRow | null = null;
    try {
      if (handle.writable) row = await commitSize(this.c, e, { durable: false, defer: true, attrs: opts.attrs });
    } finally {
      if (handle.writable) {
        if (handle.changed && this.c.byId.get(e.id) === e && e.state !== 'clean') this.c.queue.add(e.id, e.size, e.dirtySinceTick);
        e.writers--;
        this.c.queue.release(e.id);
      } else {
        e.readers--;
      }
      if (e.openCount === 0) this.c.linger.keep(e);
      this.c.cleaner.poke();
    }
    row ??= await versionRow(this.c, e);
    if (!row) throw new DeimosError('ENOENT', `'${h.oid}' was removed while open`, 'its bytes are gone');
    return row;
  }

  async syncNames(): Promise<void> {
    await this.c.dir.sync();
  }

  async stage(objs: ObjectRow[], opts: { wait: boolean } = { wait: false }): Promise<void> {
    this.running();
    const recalls: Promise<void>[] = [];
    for (const o of objs) {
      const e = this.c.entries.get(keyOf(o));
      if (e && e.state !== 'staging') continue;
      const p = this.recalls.recall(o);
      p.catch(() => undefined);
      recalls.push(p);
    }
    if (opts.wait) await Promise.all(recalls);
  }

  async flush(objs?: ObjectRow[], opts: { wait: boolean } = { wait: false }): Promise<void> {
    const ids = objs?.map((o) => this.c.entries.get(keyOf(o))?.id).filter((id): id is number => id !== undefined);
    await this.c.queue.flush(ids, { wait: opts.wait });
  }

  async release(obj: ObjectRow): Promise<void> {
    const e = this.c.entries.get(keyOf(obj));
    if (!e) return;
    if (e.state !== 'clean' || e.openCount > 0 || !(await evict(this.c, e))) {
      throw new DeimosError('EBUSY', `'${obj.oid}' is ${e.openCount > 0 ? 'open' : e.state === 'clean' ? 'busy' : e.state} in the cache`,
        e.state === 'clean' ? 'close it first' : 'wait for it to be flushed (user.deimos.flush)');
    }
  }

  async stateOf(obj: ObjectRow): Promise<FileState> {
    const e = this.c.entries.get(keyOf(obj));
    if (e) return fileState(e.state);
    return this.recalls.has(keyOf(obj)) ? 'staging' : 'offline';
  }

  stats(): CacheStats {
    const s: CacheStats = {
      sizeBytes: this.options.sizeBytes, usedBytes: this.c.usage.bytes, entries: this.c.byId.size,
      dirty: 0, dirtyBytes: 0, flushing: 0, staging: 0, ...this.c.counters,
    };
    for (const e of this.c.byId.values()) {
      if (e.state === 'dirty') { s.dirty++; s.dirtyBytes += e.size; }
      if (e.state === 'flushing') { s.flushing++; s.dirtyBytes += e.size; }
      if (e.state === 'staging') s.staging++;
    }
    return s;
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.c.queue.stop();
    await this.c.cleaner.stop();
    await this.recalls.settle();
    for (const h of [...this.handles]) await this.close(h).catch((err) => this.c.log.warn({ err, oid: h.oid }, 'closing a handle at shutdown'));
    // A clean stop writes everything out, as an unmount of a local file system does: the
    // sizes committed below must not outlive bytes that a power cut would then lose.
    for (const e of this.c.byId.values()) await syncFile(this.c, e).catch((err) => this.c.log.warn({ err, key: e.key }, 'syncing a cache file at shutdown'));
    await this.c.linger.closeAll();
    await this.c.dir.dropSpares();
    // Recency survives a clean restart; after a crash the order is approximate, which is all eviction needs.
    const rows = [...this.c.byId.values()].map((e) => entryRow(this.c, e));
    await this.c.catalog.upsertCacheEntries(rows).catch((err) => this.c.log.warn({ err }, 'cannot save cache access times'));
  }

  /** Counts an opener of `e`, synchronously: from then on it is neither evicted nor flushed by thresholds. */
  private claim(e: Entry, writable: boolean): void {
    if (writable) {
      e.writers++;
      this.c.queue.hold(e.id);
    } else {
      e.readers++;
    }
  }

  private async attach(e: Entry, writable: boolean, oid: string, claimed = false): Promise<Handle> {
    if (!claimed) this.claim(e, writable);
    try {
      await e.handle(() => this.c.dir.openRw(e.file));
    } catch (err) {
      if (writable) { e.writers--; this.c.queue.release(e.id); } else e.readers--;
      throw err;
    }
    e.lastAccess = this.c.wallNow();
    const h = new Handle(this.c, e, writable, oid);
    this.handles.add(h);
    this.c.foreground.enter();
    return h;
  }

  private own(h: CacheHandle): Handle {
    if (!(h instanceof Handle) || (!this.handles.has(h) && !h.closed)) {
      throw new DeimosError('EBADF', `'${h.oid}' is not a handle of this cache`, 'close handles with the cache that opened them');
    }
    return h;
  }

  private running(): void {
    if (this.stopped) throw new DeimosError('EIO', 'the disk cache is shut down', 'start the service again');
  }
}
