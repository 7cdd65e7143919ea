/**
 * The table of open files: FUSE file handle numbers to cache handles (or
 * readers of one copy), and what an open writer knows that the catalog
 * does not yet (size, last write, times set while open).
 */
import { DeimosError } from '../core/index.js';
import type { PosixAttrs } from '../catalog/index.js';
import type { CacheHandle } from '../cache/interface.js';
import type { CopyReader, Stat } from './types.js';

export interface CacheOpen {
  kind: 'cache';
  h: CacheHandle;
  uuid: string;
  writable: boolean;
  /** Written (or truncated) since open: mtime is the last write's. */
  written: boolean;
  lastWrite: number;
  /**
   * Attributes set while the file was open (cp -p and tar set times before
   * or right after close, and FUSE delivers release later, asynchronously):
   * applied again once the cache has closed the version, which may stamp
   * its own mtime or make a new version.
   */
  pending: Partial<PosixAttrs>;
  /** Bumped at each change of `pending`, so that release knows whether it wrote the latest. */
  pendingGen: number;
  /** A read was served since open: atime moves at release (relatime), not at an open alone, as on Linux. */
  read: boolean;
  /** The version the handle writes, as of the last write through JS: a write that makes the next one drops cached rows. */
  version: number;
  /** Its end of the direct data path, when the mount serves its data on libfuse threads. */
  direct?: { close(): void };
}

/** A write happened at `at`: it shows as the mtime, and wins over times set before it. */
export function markWritten(f: CacheOpen, at: number): void {
  f.written = true;
  f.lastWrite = at;
  delete f.pending.mtime;
  delete f.pending.ctime;
}

export interface CopyOpen {
  kind: 'copy';
  reader: CopyReader;
}

export type OpenFile = CacheOpen | CopyOpen;

export class OpenFiles {
  private readonly fds = new Map<number, OpenFile>();
  private readonly writers = new Map<string, Set<CacheOpen>>();
  private next = 1;
  /** Counts writers closed, so that a getattr can tell its catalog read may predate one. */
  closedWriters = 0;

  add(f: OpenFile): number {
    // Handle numbers are 32-bit in libfuse2's file info; wrap before that and skip live ones.
    do {
      this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    } while (this.fds.has(this.next));
    const fd = this.next;
    this.fds.set(fd, f);
    if (f.kind === 'cache' && f.writable) {
      let s = this.writers.get(f.uuid);
      if (!s) this.writers.set(f.uuid, (s = new Set()));
      s.add(f);
    }
    return fd;
  }

  get(fd: number): OpenFile {
    const f = this.fds.get(fd);
    if (!f) throw new DeimosError('EBADF', `no open file with handle ${fd}`, 'open the file again');
    return f;
  }

  remove(fd: number): OpenFile {
    const f = this.get(fd);
    this.fds.delete(fd);
    if (f.kind === 'cache' && f.writable) {
      const s = this.writers.get(f.uuid);
      s?.delete(f);
      if (s && s.size === 0) this.writers.delete(f.uuid);
      this.closedWriters++;
    }
    return f;
  }

  /** Open writers of an object generation. */
  writersOf(uuid: string): CacheOpen[] {
    return [...(this.writers.get(uuid) ?? [])];
  }

  get size(): number {
    return this.fds.size;
  }

  /** Handle numbers of every open file. */
  handles(): number[] {
    return [...this.fds.keys()];
  }

  /**
   * What getattr shows for a file while writers have it open: their size
   * and times, not the catalog's yet. With `version`, only writers of that
   * version count (a version listed under /.deimos/versions).
   */
  overlay(s: Stat, uuid: string, version?: number): Stat {
    const ws = this.writers.get(uuid);
    if (!ws || ws.size === 0) return s;
    let out = s;
    for (const w of ws) {
      if (version !== undefined && w.h.version !== version) continue;
      const size = w.h.size();
      const mtime = w.pending.mtime ?? (w.written ? Math.max(w.lastWrite, s.mtime) : s.mtime);
      out = {
        ...out,
        size,
        blocks: Math.ceil(size / 512),
        mtime,
        ctime: w.written ? Math.max(out.ctime, w.lastWrite) : out.ctime,
        atime: w.pending.atime ?? out.atime,
        mode: w.pending.mode !== undefined ? (out.mode & ~0o7777) | (w.pending.mode & 0o7777) : out.mode,
        uid: w.pending.uid ?? out.uid,
        gid: w.pending.gid ?? out.gid,
      };
    }
    return out;
  }
}
