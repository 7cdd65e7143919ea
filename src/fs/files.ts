/**
 * File data through the disk cache: create, open, read, write, truncate,
 * fsync, release. Opening an offline file for reading waits here, in open,
 * for the cache to stage it: a read blocked on tape would hold one of the
 * kernel's few background slots and stall reads of unrelated files.
 */
import { DeimosError } from '../core/index.js';
import type { Catalog, NsEntry, ObjectRow, PosixAttrs } from '../catalog/index.js';
import type { FileCache } from '../cache/interface.js';
import type { AttrCache } from './attrCache.js';
import { DirectLink } from './directLink.js';
import type { DirectPath } from './fuseBinding.js';
import { markWritten, type CacheOpen, type OpenFiles } from './handles.js';
import { parentPath } from './paths.js';
import { withType } from './stat.js';
import { HELD, O_ACCMODE, O_EXCL, O_TRUNC, S_IFREG, S_ISGID, type Caller } from './types.js';

export class FileOps {
  private direct: DirectPath | null = null;

  constructor(
    private readonly catalog: Catalog,
    private readonly cache: FileCache,
    private readonly attrs: AttrCache,
    private readonly table: OpenFiles,
  ) {}

  /** Serve the data of files opened from now on through `d` (the mount's direct path). */
  useDirect(d: DirectPath | null): void {
    this.direct = d;
  }

  /** Ownership of a new entry: the caller's, or the directory's group when it is setgid (as ext4 does). */
  async newOwner(path: string, caller: Caller): Promise<{ uid: number; gid: number; parentMode: number }> {
    const parent = await this.attrs.lookup(parentPath(path));
    if (!parent) throw new DeimosError('ENOENT', `directory '/${parentPath(path)}' does not exist`, 'create it first');
    if (parent.type !== 'dir') throw new DeimosError('ENOTDIR', `'/${parentPath(path)}' is not a directory`, 'choose a path below a directory');
    const sgid = (parent.row.mode & S_ISGID) !== 0;
    return { uid: caller.uid, gid: sgid ? parent.row.gid : caller.gid, parentMode: parent.row.mode };
  }

  async create(path: string, mode: number, flags: number, caller: Caller): Promise<number> {
    const owner = await this.newOwner(path, caller);
    const now = Date.now();
    const attrs: PosixAttrs = { mode: withType(mode, S_IFREG), uid: owner.uid, gid: owner.gid, atime: now, mtime: now, ctime: now };
    this.attrs.invalidate(path);
    const since = this.attrs.snapshot();
    const h = await this.cache.create(path, attrs, { exclusive: (flags & O_EXCL) !== 0 });
    // Cached for libfuse's getattr right after a create (unless the path changed meanwhile).
    if (!h.created || !this.attrs.putIfUnchanged(path, { type: 'file', row: h.created }, since)) this.attrs.invalidate(path);
    return this.add({ kind: 'cache', h, uuid: h.uuid, writable: true, written: false, lastWrite: now, pending: {}, pendingGen: 0, read: false, version: h.version });
  }

  async open(path: string, e: NsEntry | null, flags: number): Promise<number> {
    const row = fileRow(path, e);
    const write = (flags & O_ACCMODE) !== 0;
    const truncate = write && (flags & O_TRUNC) !== 0;
    const h = await this.cache.open(row, { write, truncate });
    const fd = this.add({ kind: 'cache', h, uuid: row.uuid, writable: write, written: truncate, lastWrite: Date.now(), pending: {}, pendingGen: 0, read: false, version: h.version });
    // Attributes cached until now (kept by the mount's addon too, even by a getattr during
    // this open) must not outlive the first write: dropped once the writer is in the table,
    // after which none is kept (Vfs.keepToken).
    if (write) this.attrs.invalidate(path);
    return fd;
  }

  /** Opens a version for reading (a deprecated one, from /.deimos/versions). */
  async openVersion(row: ObjectRow): Promise<number> {
    const h = await this.cache.open(row, { write: false, truncate: false });
    return this.add({ kind: 'cache', h, uuid: row.uuid, writable: false, written: false, lastWrite: 0, pending: {}, pendingGen: 0, read: false, version: h.version });
  }

  /** A new handle number for `f`, its data served by the direct path when there is one and its slot is free. */
  private add(f: CacheOpen): number {
    const fd = this.table.add(f);
    if (this.direct && f.h.fd >= 0 && this.direct.open(fd, f.h.fd)) {
      const link = new DirectLink(this.direct, fd, f);
      f.direct = link;
      f.h.attachDirect(link);
    }
    return fd;
  }

  async read(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
    const f = this.table.get(fd);
    if (f.kind === 'copy') return f.reader.read(buf, length, position);
    f.read = true;
    return f.h.read(buf, length, position);
  }

  async write(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
    const f = this.writer(fd);
    const n = await f.h.write(buf, length, position);
    this.touched(f);
    return n;
  }

  async ftruncate(fd: number, size: number): Promise<void> {
    const f = this.writer(fd);
    await f.h.truncate(size);
    this.touched(f);
  }

  /** truncate(2) by path: through a handle already open for writing, or a short-lived one. */
  async truncate(path: string, e: NsEntry | null, size: number): Promise<void> {
    const row = fileRow(path, e);
    const w = this.table.writersOf(row.uuid)[0];
    if (w) {
      await w.h.truncate(size);
      this.touched(w);
      return;
    }
    // Same size: nothing would change but a new version of an archived file.
    if (size === row.size) {
      const now = Date.now();
      await this.catalog.setObjectAttrs(path, { mtime: now, ctime: now }, HELD);
      this.attrs.invalidate(path);
      return;
    }
    const h = await this.cache.open(row, { write: true, truncate: size === 0 });
    try {
      if (size !== 0) await h.truncate(size);
    } finally {
      await this.cache.close(h);
      this.attrs.invalidate(path);
    }
  }

  async fsync(fd: number): Promise<void> {
    const f = this.table.get(fd);
    if (f.kind === 'cache' && f.writable) await f.h.fsync();
  }

  /**
   * The writer stays in the table until the cache has recorded the final
   * size (and the pending attributes are applied): until then getattr
   * answers from the writer, since the catalog still has the size at open
   * and a reader opened meanwhile would be told the file is shorter.
   * Returns the version's row when the handle was read (its atime may
   * move), null otherwise.
   */
  async release(fd: number): Promise<ObjectRow | null> {
    const f = this.table.get(fd);
    if (f.kind === 'copy') {
      this.table.remove(fd);
      await f.reader.close();
      return null;
    }
    const obj = await this.closeCache(fd, f);
    return f.read ? obj : null;
  }

  private async closeCache(fd: number, f: CacheOpen): Promise<ObjectRow> {
    try {
      // Before the cache closes the handle (and maybe its descriptor): no direct op runs after this.
      f.direct?.close();
      // Attributes set while the file was open go in the commit of its size (one commit per file, not two).
      let gen = f.pendingGen;
      const since = this.attrs.snapshot();
      const obj = await this.cache.close(f.h, { attrs: { ...f.pending } });
      // The row the close committed is what getattr would read next (libfuse asks after every setattr).
      if (obj.oid !== f.h.oid) this.attrs.invalidate(f.h.oid);
      if (obj.deprecatedAt === null) this.attrs.putIfUnchanged(obj.oid, { type: 'file', row: obj }, since);
      else this.attrs.invalidate(obj.oid);
      if (gen === f.pendingGen && applied(obj, f.pending)) return obj;
      // Attributes may still arrive while they are written: write until none did.
      while (Object.keys(f.pending).length > 0) {
        gen = f.pendingGen;
        // Renames may have happened since open: find the generation where it is now.
        const alive = await this.catalog.getObject({ uuid: f.uuid });
        if (!alive) return obj;
        await this.catalog.setObjectAttrs(alive.oid, { ...f.pending }, HELD);
        this.attrs.invalidate(alive.oid);
        if (gen === f.pendingGen) return obj;
      }
      return obj;
    } finally {
      this.table.remove(fd);
    }
  }

  /** Keeps attributes set while writers have the file open (see CacheOpen.pending); false when it has none. */
  notePending(uuid: string, patch: Partial<PosixAttrs>): boolean {
    const ws = this.table.writersOf(uuid);
    // Writes that came by the direct path before this change are taken in first: their mtime must not win over it.
    for (const w of ws) w.h.size();
    for (const w of ws) {
      Object.assign(w.pending, patch);
      w.pendingGen++;
    }
    return ws.length > 0;
  }

  private writer(fd: number): CacheOpen {
    const f = this.table.get(fd);
    if (f.kind !== 'cache' || !f.writable) throw new DeimosError('EBADF', 'the file is not open for writing', 'open it for writing');
    return f;
  }

  private touched(f: CacheOpen): void {
    markWritten(f, Date.now());
    // The write made the next version (the file was archived): cached rows of the path show the last one.
    // Rare (an update in place of an archived file), and the file may have been renamed since open: drop all.
    if (f.h.version !== f.version) {
      f.version = f.h.version;
      this.attrs.clear();
    }
  }
}

/** Whether `row` already has every attribute of `patch` (close committed them with the size). */
function applied(row: ObjectRow, patch: Partial<PosixAttrs>): boolean {
  return (Object.keys(patch) as (keyof PosixAttrs)[]).every((k) => row[k] === patch[k]);
}

export function fileRow(path: string, e: NsEntry | null): ObjectRow {
  if (!e) throw new DeimosError('ENOENT', `'/${path}' does not exist`, 'check the path');
  if (e.type === 'dir') throw new DeimosError('EISDIR', `'/${path}' is a directory`, 'give the path of a file');
  if (e.type === 'symlink') throw new DeimosError('ELOOP', `'/${path}' is a symlink`, 'give the path of a file');
  return e.row;
}
