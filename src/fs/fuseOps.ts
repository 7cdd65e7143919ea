/**
 * FUSE glue: each op builds the caller, calls the Vfs and answers with the
 * value or the negated errno. Decisions live in the Vfs, not here.
 */
import { toDeimosError, type Logger } from '../core/index.js';
import { Errno, UTIME_NOW, UTIME_OMIT, type ChangedCb, type FuseContext, type StatCb, type FuseOps, type FuseResult, type FuseStat, type FuseTimespec } from './fuseBinding.js';
import type { Caller, Stat, TimeArg } from './types.js';
import type { Vfs } from './vfs.js';

const caller = (ctx: FuseContext): Caller => ({ uid: ctx.uid, gid: ctx.gid, pid: ctx.pid });

function timeArg(t: FuseTimespec): TimeArg {
  if (t.nsec === UTIME_OMIT) return 'omit';
  if (t.nsec === UTIME_NOW) return 'now';
  // Catalog times are milliseconds: truncate as the kernel does for coarser
  // file systems, with 1 µs of slack because callers that go through a
  // double (Node's utimes) send 677999973 ns for 678 ms.
  return t.sec * 1000 + Math.min(999, Math.floor((t.nsec + 1000) / 1e6));
}

function fuseStat(s: Stat): FuseStat {
  return { ...s };
}

export function fuseOps(vfs: Vfs, log: Logger): FuseOps {
  /** Answers `cb` with the result of `work`, or its errno (internal errors are logged with their stack). */
  const answer = <T>(op: string, path: string, work: () => Promise<T>, ok: (v: T) => void, cb: (r: FuseResult) => void): void => {
    work().then(ok, (e: unknown) => {
      const err = toDeimosError(e);
      if (err.code === 'EIO') log.error({ err: e, op, path }, 'file system operation failed');
      else log.debug({ op, path, code: err.code, reason: err.message }, 'refused');
      cb(-err.errno);
    });
  };
  const done = (op: string, path: string, work: () => Promise<unknown>, cb: (r?: FuseResult) => void) =>
    answer(op, path, work, () => cb(0), cb);
  /** Answers with the attributes, or ENOENT, and whether the addon may keep the answer (Vfs.keepToken). */
  const getattr = (op: string, path: string, cb: StatCb) => {
    const since = vfs.attrs.snapshot();
    answer(op, path, () => vfs.getattr(path), (s) => cb(0, fuseStat(s), vfs.keepToken(path, since, true)), (r) => {
      cb(r, undefined, r === Errno.ENOENT ? vfs.keepToken(path, since, false) : undefined);
    });
  };
  /** As done, for ops that libfuse follows with a getattr of `path`: the answer carries the attributes when they are at hand. */
  const changed = (op: string, path: string, work: () => Promise<unknown>, cb: ChangedCb) =>
    answer(op, path, work, () => cb(0, carried(path)), cb);
  const carried = (path: string): FuseStat | undefined => {
    const s = vfs.statNow(path);
    return s && fuseStat(s);
  };

  return {
    getattr: (path, cb) => getattr('getattr', path, cb),
    fgetattr: (path, _fd, cb) => getattr('fgetattr', path, cb),
    readdir: (path, cb) => {
      const since = vfs.attrs.snapshot();
      answer('readdir', path, () => vfs.readdir(path), (r) => cb(0, r.names, r.stats.map(fuseStat), vfs.keepTokens(since, r.keepable)), cb);
    },
    readlink: (path, cb) => answer('readlink', path, () => vfs.readlink(path), (t) => cb(0, t), cb),
    statfs: (path, cb) => answer('statfs', path, () => vfs.statfs(), (s) => cb(0, s), cb),

    mkdir: (path, mode, cb, ctx) => changed('mkdir', path, () => vfs.mkdir(path, mode, caller(ctx)), cb),
    rmdir: (path, cb, ctx) => done('rmdir', path, () => vfs.rmdir(path, caller(ctx)), cb),
    symlink: (target, path, cb, ctx) => changed('symlink', path, () => vfs.symlink(target, path, caller(ctx)), cb),
    unlink: (path, cb, ctx) => done('unlink', path, () => vfs.unlink(path, caller(ctx)), cb),
    rename: (src, dst, cb, ctx) => done('rename', src, () => vfs.rename(src, dst, caller(ctx)), cb),
    link: (src, dst, cb) => done('link', dst, () => vfs.link(src, dst), cb),
    chmod: (path, mode, cb, ctx) => changed('chmod', path, () => vfs.chmod(path, mode, caller(ctx)), cb),
    chown: (path, uid, gid, cb, ctx) => changed('chown', path, () => vfs.chown(path, uid, gid, caller(ctx)), cb),
    utimens: (path, atime, mtime, cb, ctx) => changed('utimens', path, () => vfs.utimens(path, timeArg(atime), timeArg(mtime), caller(ctx)), cb),
    truncate: (path, size, cb, ctx) => changed('truncate', path, () => vfs.truncate(path, size, caller(ctx)), cb),
    mknod: (path, mode, dev, cb, ctx) => changed('mknod', path, () => vfs.mknod(path, mode, dev, caller(ctx)), cb),

    create: (path, mode, flags, cb, ctx) => answer('create', path, () => vfs.create(path, mode, flags, caller(ctx)), (fd) => cb(0, fd, carried(path)), cb),
    open: (path, flags, cb, ctx) => answer('open', path, () => vfs.open(path, flags, caller(ctx)), (fd) => cb(0, fd), cb),
    // read and write answer a byte count; the buffer is only valid until then.
    read: (path, fd, buf, len, pos, cb) => answer('read', path, () => vfs.read(fd, buf, len, pos), (n) => cb(n), (r) => cb(r as number)),
    write: (path, fd, buf, len, pos, cb) => answer('write', path, () => vfs.write(fd, buf, len, pos), (n) => cb(n), (r) => cb(r as number)),
    ftruncate: (path, fd, size, cb) => changed('ftruncate', path, () => vfs.ftruncate(fd, size), cb),
    // No flush: close(2) has nothing to do here (a write's error is a write's
    // answer; release finishes the version), and without a handler the
    // kernel stops sending FLUSH after the first: one round trip less per close.
    fsync: (path, _datasync, fd, cb) => done('fsync', path, () => vfs.fsync(fd), cb),
    fsyncdir: (path, _datasync, _fd, cb) => done('fsyncdir', path, () => vfs.fsyncdir(path), cb),
    release: (_path, fd, cb) => { vfs.releaseInBackground(fd); cb(0); },

    getxattr: (path, name, _pos, cb) => answer('getxattr', path, () => vfs.getxattr(path, name), (v) => cb(0, v), cb),
    listxattr: (path, cb) => answer('listxattr', path, () => vfs.listxattr(path), (names) => cb(0, names), cb),
    setxattr: (path, name, value, _pos, flags, cb, ctx) => done('setxattr', path, () => vfs.setxattr(path, name, Buffer.from(value), flags, caller(ctx)), cb),
    removexattr: (path, name, cb, ctx) => done('removexattr', path, () => vfs.removexattr(path, name, caller(ctx)), cb),
  };
}
