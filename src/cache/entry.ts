/**
 * One file of the cache: an object version's bytes, and what the cache must
 * know about them between catalog round trips. An Entry keeps its identity
 * (`id`) when its file becomes the next version's, so handles and the
 * write-back queue follow it across that change.
 */
import type { FileHandle } from 'node:fs/promises';
import type { CacheEntryInput } from '../catalog/index.js';
import type { CacheState, DirectMode } from './interface.js';
import { move } from './states.js';

export function keyOf(o: { uuid: string; version: number }): string {
  return `${o.uuid}.${o.version}`;
}

export class Entry {
  /** Bumped before and after every change of the bytes: a flush that saw another value is stale. */
  gen = 0;
  /** Writes issued and not yet done. */
  inflight = 0;
  /** Changed since the size was last committed to the catalog. */
  unsynced = false;
  /** Bytes written since the file was last fdatasynced (close leaves them to the kernel; fsync and the flusher sync them). */
  dataUnsynced = false;
  /** A write-behind sync failed (writeBehind.ts): the next sync reports it, as the kernel reported it to that one. */
  syncError: unknown = null;
  /** A new name in the directory (creation, rename) not yet made durable. */
  dirUnsynced = false;
  readers = 0;
  writers = 0;
  fh: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  /** Set while a flush records its copy: writers wait, then find the entry clean. */
  committing: Promise<void> | null = null;
  /** Commits of the size, one after the other. */
  sizeChain: Promise<unknown> = Promise.resolve();
  /** Open handles whose writes may also arrive by the mount's direct path: taken in before the size or state is used. */
  readonly direct = new Set<{ absorb(mode: DirectMode): void }>();

  constructor(
    readonly id: number,
    public uuid: string,
    public version: number,
    public file: string,
    public state: CacheState,
    public size: number,
    /** Wall time of the last change, for the object's mtime. */
    public mtime: number,
    public lastAccess: number,
    /** Wall time it became dirty (the catalog's dirty_since). */
    public dirtySince: number | null,
    /** The same instant on the cache's clock, for flush_age_ms. */
    public dirtySinceTick: number,
  ) {}

  get key(): string {
    return keyOf(this);
  }

  get openCount(): number {
    return this.readers + this.writers;
  }

  to(state: CacheState): void {
    move(this, state);
  }

  /** The one descriptor all handles of the entry share (opened on first use). */
  async handle(open: () => Promise<FileHandle>): Promise<FileHandle> {
    if (this.fh) return this.fh;
    this.opening ??= open().then((fh) => { this.fh = fh; return fh; }).finally(() => { this.opening = null; });
    return this.opening;
  }

  async closeHandle(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }

  row(flush: { attempts: number; notBefore: number | null } = { attempts: 0, notBefore: null }): CacheEntryInput {
    return {
      uuid: this.uuid, version: this.version, state: this.state, size: this.size, file: this.file,
      dirtySince: this.state === 'dirty' || this.state === 'flushing' ? this.dirtySince : null,
      lastAccess: this.lastAccess, flushAttempts: flush.attempts, flushAfter: flush.notBefore,
    };
  }
}
