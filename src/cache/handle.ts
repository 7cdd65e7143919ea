/**
 * An open file of the mount, and the two rules every change of the bytes
 * obeys:
 * - before: the entry is a version still being written (dirty, or flushing,
 *   which the change cancels); a clean entry first becomes the next version;
 *   room is made for what the write adds;
 * - committed: `commitSize` records size and mtime in the catalog. At close
 *   that commit is lazy (it survives a killed service, as the bytes written
 *   with write(2) do); at fsync, and before the flusher hands the file to
 *   the store, it is durable: the file (and its name) fsynced, then a synced
 *   catalog commit.
 */
import type { ObjectRow, PosixAttrs } from '../catalog/index.js';
import { DeimosError } from '../core/index.js';
import { resize, type Ctx } from './context.js';
import type { Entry } from './entry.js';
import type { CacheHandle, DirectMode, DirectWrites } from './interface.js';
import { nextVersion } from './versions.js';

/** Growth direct writes may make before a write comes through JS again (which makes room in the cache). */
const DIRECT_HEADROOM = 64 * 1024 * 1024;

export class Handle implements CacheHandle {
  closed = false;
  /** Something was written or truncated through this handle. */
  changed = false;
  created?: ObjectRow;
  private direct: DirectWrites | null = null;

  constructor(private readonly c: Ctx, readonly entry: Entry, readonly writable: boolean, readonly oid: string) {}

  get uuid(): string { return this.entry.uuid; }
  get version(): number { return this.entry.version; }
  get path(): string { return this.c.dir.path(this.entry.file); }
  get fd(): number { return this.entry.fh?.fd ?? -1; }

  size(): number {
    absorbDirect(this.entry);
    return this.entry.size;
  }

  attachDirect(d: DirectWrites): void {
    if (this.closed) return;
    this.direct = d;
    this.entry.direct.add(this);
    if (this.writable) this.c.writeBehind.add(this);
    // A new file (or one still being written) takes even its first write direct: most small files have only that one.
    this.allowDirect();
  }

  /** Takes in what the direct path wrote through this handle since last asked, as a write() would have changed the entry. */
  absorb(mode: DirectMode): void {
    const k = this.direct?.take(mode);
    if (!k || (k.writes === 0 && k.end === 0)) return;
    const e = this.entry;
    // A finished change: the begin and end marks of a write at once.
    e.gen += 2;
    markBytesChanged(e, Math.max(e.mtime, k.lastMs || this.c.wallNow()));
    if (k.end > e.size) resize(this.c, e, k.end);
    this.changed = true;
  }

  /** Stops direct writes for good (close): what they wrote is taken in first. */
  detachDirect(): void {
    if (!this.direct) return;
    this.absorb('stop');
    this.entry.direct.delete(this);
    this.c.writeBehind.remove(this);
    this.direct = null;
  }

  /**
   * After a write through here: the next writes may go direct while the
   * entry stays a version being written, up to the room the cache has now.
   * A flush recording its copy stops them (absorbDirect 'stop'), and the
   * write after that comes here again and makes the next version.
   */
  private allowDirect(): void {
    const e = this.entry;
    if (!this.direct || !this.writable || this.closed || e.state !== 'dirty' || e.committing) return;
    const room = Math.max(0, Math.min(DIRECT_HEADROOM, this.c.opts.highBytes - this.c.usage.bytes));
    this.absorb(e.size + room);
  }

  async read(buf: Buffer, length: number, position: number): Promise<number> {
    this.check(false);
    const e = this.entry;
    e.lastAccess = this.c.wallNow();
    const { bytesRead } = await e.fh!.read(buf, 0, Math.min(length, buf.length), position);
    return bytesRead;
  }

  async write(buf: Buffer, length: number, position: number): Promise<number> {
    this.check(true);
    const n = Math.min(length, buf.length);
    const e = await beginChange(this.c, this, position + n);
    try {
      let done = 0;
      while (done < n) {
        const { bytesWritten } = await e.fh!.write(buf, done, n - done, position + done);
        done += bytesWritten;
      }
      if (position + n > e.size) resize(this.c, e, position + n);
    } finally {
      endChange(this.c, e);
    }
    this.changed = true;
    this.allowDirect();
    return n;
  }

  async truncate(size: number): Promise<void> {
    this.check(true);
    if (!Number.isInteger(size) || size < 0) throw new DeimosError('EINVAL', `invalid size ${size}`, 'give a byte count');
    const e = await beginChange(this.c, this, size);
    try {
      await e.fh!.truncate(size);
      resize(this.c, e, size);
    } finally {
      endChange(this.c, e);
    }
    this.changed = true;
    this.allowDirect();
  }

  async fsync(): Promise<void> {
    this.check(false);
    await commitSize(this.c, this.entry, { durable: true });
  }

  private check(write: boolean): void {
    if (this.closed) throw new DeimosError('EBADF', `'${this.oid}' is closed`, 'open it again');
    if (write && !this.writable) throw new DeimosError('EBADF', `'${this.oid}' is open read-only`, 'open it for writing');
  }
}

/**
 * Makes `h`'s entry writable and marks a change as started. The marks are
 * set in the same tick as the last state check, so a flush deciding whether
 * to record its copy sees either the change or a clean entry, never neither.
 */
async function beginChange(c: Ctx, h: Handle, end: number): Promise<Entry> {
  absorbDirect(h.entry);
  const growth = end - h.entry.size;
  if (growth > 0 && !(await c.cleaner.makeRoom(growth))) {
    throw new DeimosError('ENOSPC', `the disk cache is full (${c.usage.bytes} of ${c.opts.sizeBytes} bytes, none evictable)`,
      'wait for dirty files to be flushed, or raise cache.size');
  }
  for (;;) {
    const e = h.entry;
    if (e.committing) {
      await e.committing;
      continue;
    }
    if (e.state === 'dirty' || e.state === 'flushing') {
      e.gen++;
      e.inflight++;
      markBytesChanged(e, c.wallNow());
      return e;
    }
    if (e.state !== 'clean') throw new DeimosError('EIO', `cache entry ${e.file} is ${e.state} under an open handle`, 'this is a bug; report it');
    await c.locks.run(e.key, async () => {
      if (e.state === 'clean' && !e.committing) await nextVersion(c, e, e);
    });
  }
}

/** The bytes changed at `at`: the size commit and the file's sync are due, and the version's mtime moves. */
function markBytesChanged(e: Entry, at: number): void {
  e.unsynced = true;
  e.dataUnsynced = true;
  e.mtime = at;
  e.lastAccess = at;
}

/** Takes in the direct writes of every handle of `e` (see Handle.absorb); 'stop' also ends them until a write through JS. */
export function absorbDirect(e: Entry, mode: 'keep' | 'stop' = 'keep'): void {
  for (const h of e.direct) h.absorb(mode);
}

function endChange(_c: Ctx, e: Entry): void {
  e.inflight--;
  e.gen++;
}

/**
 * Records the entry's size and mtime (and `attrs`) in the catalog, one
 * commit after the other per entry. durable: the file's bytes and its new
 * name are fsynced first and the commit is synced (or, with nothing left to
 * record, the catalog synced), so a power loss keeps what this returned
 * for. Otherwise the commit is lazy: a killed process loses nothing, a
 * machine crash may; with `defer` it may wait for the next writes (a killed
 * process loses it then, but recover reads the size from the file).
 * Returns the version's row when something was committed, null when
 * nothing had changed.
 */
export function commitSize(c: Ctx, e: Entry, o: { durable: boolean; defer?: boolean; attrs?: Partial<PosixAttrs> }): Promise<ObjectRow | null> {
  const attrs = o.attrs && Object.keys(o.attrs).length > 0 ? o.attrs : undefined;
  const run = async (): Promise<ObjectRow | null> => {
    absorbDirect(e);
    if (o.durable) await syncFile(c, e);
    // attrs alone go through setObjectAttrs (the caller's): an archived version's size cannot be committed.
    if (!e.unsynced) {
      if (o.durable) await c.catalog.sync();
      return null;
    }
    e.unsynced = false;
    try {
      return await c.catalog.setObjectSize(e.uuid, e.version, e.size, e.mtime, { durable: o.durable, defer: o.defer, attrs });
    } catch (err) {
      e.unsynced = true;
      throw err;
    }
  };
  const p = e.sizeChain.then(run, run);
  e.sizeChain = p.catch(() => undefined);
  return p;
}

/** Fdatasyncs what was written since the last sync, and makes a new name durable. */
export async function syncFile(c: Ctx, e: Entry): Promise<void> {
  // A write-behind sync on the same descriptor took the kernel's report of a lost write: it is this sync's to report.
  if (e.syncError) {
    const err = e.syncError;
    e.syncError = null;
    throw err;
  }
  if (e.dataUnsynced) {
    e.dataUnsynced = false;
    try {
      // An empty file has no bytes to lose: recover makes it again if its name is gone.
      if (e.size > 0 && e.fh) {
        await e.fh.datasync();
      } else if (e.size > 0) {
        const fh = await c.dir.openRw(e.file);
        try { await fh.datasync(); } finally { await fh.close(); }
      }
    } catch (err) {
      e.dataUnsynced = true;
      throw err;
    }
  }
  if (e.dirUnsynced && e.size > 0) {
    e.dirUnsynced = false;
    try {
      await c.dir.sync();
    } catch (err) {
      e.dirUnsynced = true;
      throw err;
    }
  }
}
