/**
 * The file system of the mount as path-level operations: each returns a
 * value or throws a DeimosError whose errno FUSE passes on. No FUSE here
 * (fuseOps.ts is the glue), so tests run it directly.
 *
 * Paths are the mount's ('/a/b'). Alive objects are the files, directories
 * and symlinks are namespace entries of the catalog, and /.deimos is the
 * read-only control directory (control.ts), hidden from the root's listing.
 */
import { DeimosError } from '../core/index.js';
import type { NsEntry, ObjectRow, PosixAttrs } from '../catalog/index.js';
import { AttrCache } from './attrCache.js';
import { ControlTree } from './control.js';
import { FileOps } from './files.js';
import type { AttrMirror, DirectPath } from './fuseBinding.js';
import { OpenFiles } from './handles.js';
import { baseName, catalogPath, CONTROL, controlPart, parentPath, refuseControl } from './paths.js';
import { chmodPatch, chownPatch, utimensPatch } from './setattr.js';
import { statOfEntry } from './stat.js';
import { libraryStatFs } from './statfs.js';
import { HELD, LAZY, O_ACCMODE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, type Caller, type Stat, type StatFs, type TimeArg, type VfsDeps } from './types.js';
import { userKey, Xattrs, type XattrTarget } from './xattrs.js';

const RELATIME_MS = 24 * 3600 * 1000;

export class Vfs {
  readonly attrs: AttrCache;
  private readonly table = new OpenFiles();
  private readonly files: FileOps;
  private readonly control: ControlTree;
  private readonly xattrs: Xattrs;
  /** Work answered at once and finished later: releases, atime updates. */
  private readonly background = new Set<Promise<void>>();
  private mirror: AttrMirror | null = null;

  constructor(private readonly deps: VfsDeps) {
    this.attrs = new AttrCache(deps.catalog, { ttlMs: deps.attrTtlMs });
    this.files = new FileOps(deps.catalog, deps.cache, this.attrs, this.table);
    this.control = new ControlTree(deps.catalog, this.attrs, this.table);
    this.xattrs = new Xattrs(deps.catalog, deps.cache);
  }

  /** Gives the root directory times of its first mount (the catalog starts it at the epoch). */
  async init(): Promise<void> {
    const root = await this.deps.catalog.lookup('');
    if (root && root.row.mtime === 0 && root.row.ctime === 0) {
      const now = Date.now();
      await this.deps.catalog.setEntryAttrs('', { atime: now, mtime: now, ctime: now });
    }
  }

  /** Files opened from now on have their data served by `d` (the mount's direct path, see fuseBinding). */
  useDirect(d: DirectPath | null): void {
    this.files.useDirect(d);
  }

  /** getattr answers may be kept by `m` (the mount's addon), which then forgets each path the attribute cache drops. */
  useAttrMirror(m: AttrMirror | null): void {
    this.mirror = m;
    const mountPath = (p: string) => '/' + p;
    this.attrs.listen(m && { changed: (p) => m.forget(mountPath(p)), changedTree: (d) => m.forgetTree(mountPath(d)) });
  }

  /**
   * For a getattr of `p` begun at attribute generation `since` (attrs.snapshot())
   * that found the path or not: the mirror's token when its answer may be
   * kept, else undefined. Not when anything changed meanwhile, not under
   * /.deimos (computed views), and not a file open for writing (the direct
   * path changes its size with no call here).
   */
  keepToken(p: string, since: number, found: boolean): number | undefined {
    const token = this.mirrorToken(since);
    if (token === undefined) return undefined;
    const path = catalogPath(p);
    if (controlPart(path) !== null) return undefined;
    if (found) {
      const e = this.attrs.peek(path);
      if (!e || (e.type === 'file' && this.table.writersOf(e.row.uuid).length > 0)) return undefined;
    }
    return token;
  }

  /** keepToken for the entries of a readdir begun at `since`: a token where `keepable`, when nothing changed meanwhile. */
  keepTokens(since: number, keepable: boolean[]): (number | undefined)[] | undefined {
    const token = this.mirrorToken(since);
    return token === undefined ? undefined : keepable.map((k) => (k ? token : undefined));
  }

  /** The mirror's token, when there is a mirror and nothing changed since `since`. */
  private mirrorToken(since: number): number | undefined {
    return this.mirror && this.attrs.snapshot() === since ? this.mirror.token() : undefined;
  }

  /** Forgets cached attributes (the catalog was changed by someone else, e.g. a CLI command). */
  invalidate(): void {
    this.attrs.clear();
  }

  /** Files open right now. */
  get openFiles(): number {
    return this.table.size;
  }

  /**
   * Closes every file still open (at unmount, when the kernel will send no
   * more releases): what was written becomes a version the flusher takes.
   */
  async closeAll(): Promise<void> {
    await this.settled();
    for (const fd of this.table.handles()) {
      await this.release(fd).catch((e: unknown) => this.deps.log.error({ err: e, fd }, 'closing a file left open at unmount'));
    }
  }

  async getattr(p: string): Promise<Stat> {
    const path = catalogPath(p);
    const rest = controlPart(path);
    if (rest !== null) return (await this.control.resolve(rest)).stat;
    for (let attempt = 0; ; attempt++) {
      const closed = this.table.closedWriters;
      const e = await this.entry(path);
      if (e.type !== 'file') return statOfEntry(e);
      // A writer closed while the catalog was read: the row may predate its final size.
      if (closed === this.table.closedWriters || attempt === 3) return this.shown(e);
    }
  }

  /**
   * What getattr would answer, when that needs no catalog query (the entry
   * is cached, as it is right after most changes); else undefined. libfuse
   * asks getattr after every create, mkdir, symlink and attribute change:
   * answered with this, it costs no second round trip.
   */
  statNow(p: string): Stat | undefined {
    const path = catalogPath(p);
    if (controlPart(path) !== null) return undefined;
    const e = this.attrs.peek(path);
    return e && this.shown(e);
  }

  /** Entries with their attributes; `keepable`: which of those the addon may keep (see keepTokens). */
  async readdir(p: string): Promise<{ names: string[]; stats: Stat[]; keepable: boolean[] }> {
    const path = catalogPath(p);
    const rest = controlPart(path);
    const self = await this.getattr(p);
    if ((self.mode & S_IFMT) !== S_IFDIR) throw new DeimosError('ENOTDIR', `'${p}' is not a directory`, 'give the path of a directory');
    const names = ['.', '..'];
    const stats = [self, self];
    const keepable = [false, false];
    if (rest !== null) {
      for (const [n, s] of await this.control.readdir(rest)) { names.push(n); stats.push(s); keepable.push(false); }
      return { names, stats, keepable };
    }
    const snap = this.attrs.snapshot();
    const entries = await this.deps.catalog.readdir(path);
    const seen: [string, NsEntry][] = [];
    for (const e of entries) {
      const child = e.type === 'file' ? e.row.oid : e.row.path;
      // The control directory is reachable by path only, so tar, rsync and find do not descend into it.
      if (path === '' && child === CONTROL) continue;
      seen.push([child, e]);
      names.push(baseName(child));
      stats.push(this.shown(e));
      keepable.push(e.type !== 'file' || this.table.writersOf(e.row.uuid).length === 0);
    }
    this.attrs.prime(seen, snap);
    return { names, stats, keepable };
  }

  async readlink(p: string): Promise<string> {
    const path = catalogPath(p);
    if (controlPart(path) !== null) throw new DeimosError('EINVAL', `'${p}' is not a symlink`, 'readlink takes a symlink');
    const e = await this.entry(path);
    if (e.type !== 'symlink') throw new DeimosError('EINVAL', `'${p}' is not a symlink`, 'readlink takes a symlink');
    return e.row.target;
  }

  async mkdir(p: string, mode: number, c: Caller): Promise<void> {
    const path = catalogPath(p);
    refuseControl(path);
    const owner = await this.files.newOwner(path, c);
    const now = Date.now();
    // Directories inherit setgid, so that a whole tree keeps the group.
    const sgid = owner.parentMode & S_ISGID;
    const row = await this.deps.catalog.mkdir(path, { mode: S_IFDIR | (mode & 0o7777) | sgid, uid: owner.uid, gid: owner.gid, atime: now, mtime: now, ctime: now }, HELD);
    this.attrs.put(path, { type: 'dir', row });
    await this.dirsChanged(parentPath(path));
  }

  async rmdir(p: string, _c: Caller): Promise<void> {
    const path = catalogPath(p);
    refuseControl(path);
    // Only an empty directory goes, so nothing below it is cached.
    this.attrs.invalidate(path);
    await this.deps.catalog.rmdir(path, LAZY);
    this.attrs.invalidate(path);
    await this.dirsChanged(parentPath(path));
  }

  async symlink(target: string, p: string, c: Caller): Promise<void> {
    const path = catalogPath(p);
    refuseControl(path);
    const owner = await this.files.newOwner(path, c);
    const now = Date.now();
    const row = await this.deps.catalog.symlink(path, target, { mode: S_IFLNK | 0o777, uid: owner.uid, gid: owner.gid, atime: now, mtime: now, ctime: now }, HELD);
    this.attrs.put(path, { type: 'symlink', row });
    await this.dirsChanged(parentPath(path));
  }

  /** Removing a file deprecates its object: `deimos undelete` brings it back. */
  async unlink(p: string, _c: Caller): Promise<void> {
    const path = catalogPath(p);
    refuseControl(path);
    const e = await this.entry(path);
    this.attrs.invalidate(path);
    if (e.type === 'dir') throw new DeimosError('EISDIR', `'${p}' is a directory`, 'use rmdir');
    // A removed file stays undeletable (its version is deprecated, not dropped): a lazy commit loses no data.
    if (e.type === 'symlink') await this.deps.catalog.unlinkSymlink(path, LAZY);
    else await this.deps.catalog.deprecate(path, LAZY);
    this.attrs.invalidate(path);
    await this.dirsChanged(parentPath(path));
  }

  async rename(src: string, dst: string, _c: Caller): Promise<void> {
    const s = catalogPath(src);
    const d = catalogPath(dst);
    refuseControl(s);
    refuseControl(d);
    // Dropping a subtree scans the whole attribute cache: only when a directory moves, not per file (rsync renames every file).
    const dirMoves = (await this.attrs.lookup(s))?.type === 'dir' || (await this.attrs.lookup(d))?.type === 'dir';
    const drop = () => dirMoves ? (this.attrs.invalidateTree(s), this.attrs.invalidateTree(d)) : this.attrs.invalidate(s, d);
    drop();
    await this.deps.catalog.rename(s, d, HELD);
    drop();
    await this.dirsChanged(parentPath(s), parentPath(d));
  }

  async link(_src: string, dst: string): Promise<void> {
    throw new DeimosError('EPERM', `cannot make '${dst}': hard links are not supported`, 'copy the file or make a symlink');
  }

  async chmod(p: string, mode: number, c: Caller): Promise<void> {
    const { path, e } = await this.changeable(p);
    await this.setAttrs(path, e, chmodPatch(e, mode, c, Date.now()));
  }

  async chown(p: string, uid: number, gid: number, c: Caller): Promise<void> {
    const { path, e } = await this.changeable(p);
    await this.setAttrs(path, e, chownPatch(e, uid, gid, c, Date.now()));
  }

  async utimens(p: string, atime: TimeArg, mtime: TimeArg, c: Caller): Promise<void> {
    const { path, e } = await this.changeable(p);
    await this.setAttrs(path, e, utimensPatch(e, atime, mtime, c, Date.now()));
  }

  async truncate(p: string, size: number, _c: Caller): Promise<void> {
    const { path, e } = await this.changeable(p);
    await this.files.truncate(path, e, size);
  }

  statfs(): Promise<StatFs> {
    return libraryStatFs(this.deps.catalog);
  }

  // files

  async create(p: string, mode: number, flags: number, c: Caller): Promise<number> {
    const path = catalogPath(p);
    refuseControl(path);
    const fd = await this.files.create(path, mode, flags, c);
    await this.dirsChanged(parentPath(path));
    return fd;
  }

  /** mknod(2) of a regular file (what some tools do instead of creat); device files and FIFOs are not stored. */
  async mknod(p: string, mode: number, _dev: number, c: Caller): Promise<void> {
    const type = mode & S_IFMT;
    if (type !== 0 && type !== S_IFREG) {
      throw new DeimosError('EPERM', `cannot make '${p}': only regular files, directories and symlinks are stored`, 'skip special files (rsync --no-specials --no-devices)');
    }
    await this.release(await this.create(p, mode, 0, c));
  }

  async open(p: string, flags: number, _c: Caller): Promise<number> {
    const path = catalogPath(p);
    const rest = controlPart(path);
    if (rest === null) {
      const e = await this.attrs.lookup(path);
      return this.files.open(path, e, flags);
    }
    const node = await this.control.resolve(rest);
    if ((flags & O_ACCMODE) !== 0) throw new DeimosError('EROFS', `'${p}' is read-only`, 'copy it out to change it');
    if (node.kind === 'dir') throw new DeimosError('EISDIR', `'${p}' is a directory`, 'give the path of a version or copy');
    if (node.kind === 'version') return this.files.openVersion(node.row);
    if (!this.deps.openCopy) throw new DeimosError('ENOTSUP', 'reading one copy is not available here', "use 'deimos get --copy-name'");
    const reader = await this.deps.openCopy(node.row, node.copyName);
    return this.table.add({ kind: 'copy', reader });
  }

  read(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
    return this.files.read(fd, buf, length, position);
  }

  write(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
    return this.files.write(fd, buf, length, position);
  }

  ftruncate(fd: number, size: number): Promise<void> {
    return this.files.ftruncate(fd, size);
  }

  fsync(fd: number): Promise<void> {
    return this.files.fsync(fd);
  }

  /**
   * fsyncdir(2): the names in the mount (catalog commits) and those of the
   * cache files behind them become durable. File bytes need fsync of the file.
   */
  async fsyncdir(_p: string): Promise<void> {
    await this.deps.cache.syncNames();
    await this.deps.catalog.sync();
  }

  /** Closes `fd`; a file read through it has its atime moved as relatime says (an open alone does not, as on Linux: rsync opens each file it chmods). */
  async release(fd: number): Promise<void> {
    const read = await this.files.release(fd);
    if (read) this.accessed(read);
  }

  /**
   * release as FUSE needs it: answered at once, finished in the background.
   * Nobody waits for a release (close(2) returned at flush), but libfuse
   * counts the file open until the answer, and an unlink meanwhile would be
   * turned into a rename to .fuse_hidden*: the deleted file would then not
   * be undeletable under its name. getattr keeps answering from the writer
   * until the cache has recorded the version.
   */
  releaseInBackground(fd: number): void {
    this.inBackground(this.release(fd), (e) => this.deps.log.error({ err: e, fd }, 'closing a file failed'));
  }

  // extended attributes

  async getxattr(p: string, name: string): Promise<Buffer> {
    // The kernel asks for security.capability before every write: refused before any lookup.
    userKey(name);
    return this.xattrs.get(await this.xattrTarget(p), name);
  }

  async listxattr(p: string): Promise<string[]> {
    return this.xattrs.list(await this.xattrTarget(p));
  }

  async setxattr(p: string, name: string, value: Buffer, flags: number, _c: Caller): Promise<void> {
    await this.xattrs.set(await this.xattrTarget(p), name, value, flags);
    this.attrs.invalidate(catalogPath(p));
  }

  async removexattr(p: string, name: string, _c: Caller): Promise<void> {
    await this.xattrs.remove(await this.xattrTarget(p), name);
    this.attrs.invalidate(catalogPath(p));
  }

  // helpers

  /**
   * relatime, as Linux mounts do by default: a read updates atime when it
   * is not newer than mtime or ctime, or is a day old, so "read since
   * written" and "not read for N days" stay answerable at one catalog write
   * per file per day. Not waited for by the read (a lost atime costs
   * nothing); found by uuid, since a rename may have moved the file since.
   */
  private accessed(row: ObjectRow): void {
    const now = Date.now();
    if (row.atime > row.mtime && row.atime > row.ctime && now - row.atime < RELATIME_MS) return;
    if (this.table.writersOf(row.uuid).length > 0) return;
    this.inBackground((async () => {
      const alive = await this.deps.catalog.getObject({ uuid: row.uuid });
      if (alive === null || alive.version !== row.version) return;
      await this.deps.catalog.setObjectAttrs(alive.oid, { atime: now }, HELD);
      this.attrs.invalidate(alive.oid);
    })(), (err) => this.deps.log.debug({ err, oid: row.oid }, 'atime not updated'));
  }

  private inBackground(work: Promise<unknown>, failed: (e: unknown) => void): void {
    const p: Promise<void> = work.then(() => undefined, failed).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Resolves when the work started in the background (releases, atime) is over. */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
  }

  /** What stat shows for an entry: a file's open writers' size and times over its row. */
  private shown(e: NsEntry): Stat {
    const s = statOfEntry(e);
    return e.type === 'file' ? this.table.overlay(s, e.row.uuid) : s;
  }

  private async entry(path: string): Promise<NsEntry> {
    const e = await this.attrs.lookup(path);
    if (!e) throw new DeimosError('ENOENT', `'/${path}' does not exist`, 'check the path');
    return e;
  }

  private async changeable(p: string): Promise<{ path: string; e: NsEntry }> {
    const path = catalogPath(p);
    refuseControl(path);
    return { path, e: await this.entry(path) };
  }

  /**
   * Stores attribute changes. A change of nothing but ctime (tar x and
   * rsync chown files to the owner they already have) costs no catalog
   * write. Changes to a file with open writers (cp -p, tar x and rsync set
   * times and modes right around close) are kept with the writers, shown by
   * getattr, and written once when the last of them has closed: the close
   * stamps its own mtime anyway, and every catalog write is a commit.
   */
  private async setAttrs(path: string, e: NsEntry, patch: Partial<PosixAttrs>): Promise<void> {
    // getattr shows pending changes over the cached row (OpenFiles.overlay): nothing to drop.
    if (e.type === 'file' && this.files.notePending(e.row.uuid, patch)) return;
    const changes = (Object.keys(patch) as (keyof PosixAttrs)[]).filter((k) => k !== 'ctime' && patch[k] !== e.row[k]);
    if (changes.length === 0) return;
    this.attrs.invalidate(path);
    const after = await this.deps.catalog.setEntryAttrs(path, patch, HELD);
    this.attrs.put(path, after);
  }

  /**
   * The directories `dirs` gained or lost a name: forgotten, then read again
   * and handed to the mirror. The kernel asks for their attributes right
   * after (it drops them at each change, and checks the directory's search
   * permission on its next path walk): rsync and tar x did that round trip
   * once or twice per file.
   */
  private async dirsChanged(...dirs: string[]): Promise<void> {
    this.attrs.invalidate(...dirs);
    if (!this.mirror) return;
    for (const d of new Set(dirs)) {
      const since = this.attrs.snapshot();
      const e = await this.attrs.lookup(d).catch(() => null);
      const token = e?.type === 'dir' ? this.mirrorToken(since) : undefined;
      if (e && token !== undefined) this.mirror.keep('/' + d, statOfEntry(e), token);
    }
  }

  private async xattrTarget(p: string): Promise<XattrTarget> {
    const path = catalogPath(p);
    const rest = controlPart(path);
    if (rest !== null) {
      const n = await this.control.resolve(rest);
      return n.kind === 'dir' ? { row: null, readOnly: true, what: 'directory' } : { row: n.row, readOnly: true };
    }
    const e = await this.entry(path);
    if (e.type === 'file') return { row: e.row, readOnly: false };
    return { row: null, readOnly: false, what: e.type === 'dir' ? 'directory' : 'symlink' };
  }
}
