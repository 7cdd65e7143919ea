// Typed access to fuse-native as patched by Deimos (patches/fuse-native+2.2.6.patch,
// applied and rebuilt by scripts/postinstall.sh; its README's "Deimos patch"
// section documents the changes). Differences from upstream that shape these
// types: every handler gets a trailing `ctx` (the caller) after its callback;
// utimens gets raw timespecs; create gets the open flags; stat and statfs
// fields are 64-bit; times are signed with nanoseconds.
//
// Never touch a mount synchronously from the process that serves it: the JS
// thread would wait on an op that only it can answer.
import { createRequire } from 'node:module';
import type { DirectCounts } from '../cache/interface.js';

const require = createRequire(import.meta.url);

/** The process behind an op, from fuse_get_context(). */
export interface FuseContext {
  uid: number;
  gid: number;
  pid: number;
  umask: number;
}

/** A raw timespec; `nsec` may be UTIME_NOW or UTIME_OMIT in utimens. */
export interface FuseTimespec {
  sec: number;
  nsec: number;
}

/** A time in a stat: Date or number = ms since the epoch, bigint = ns, or a timespec. */
export type FuseTime = Date | number | bigint | FuseTimespec;

export interface FuseStat {
  mode: number;
  uid?: number;
  gid?: number;
  size?: number | bigint;
  dev?: number;
  nlink?: number;
  /** Honoured only with the `use_ino` mount option (see mountOptions). */
  ino?: number | bigint;
  rdev?: number;
  blksize?: number;
  /** 512-byte units; report >= 1 for an offline file with size > 0 (tar --sparse). */
  blocks?: number | bigint;
  atime?: FuseTime;
  mtime?: FuseTime;
  ctime?: FuseTime;
}

export interface FuseStatfs {
  bsize?: number;
  frsize?: number;
  blocks?: number | bigint;
  bfree?: number | bigint;
  bavail?: number | bigint;
  files?: number | bigint;
  ffree?: number | bigint;
  favail?: number | bigint;
  fsid?: number;
  flag?: number;
  namemax?: number;
}

/**
 * First argument of every callback: 0/null/undefined = success, a negative
 * errno (Errno.ENOENT…), or an Error carrying errno/code; read/write/getxattr
 * answer a byte count instead.
 */
export type FuseResult = number | null | undefined | Error;

export type DoneCb = (result?: FuseResult) => void;
/**
 * `keep`: AttrMirror.token() when the answer (attributes, or ENOENT) may
 * answer later getattrs of the path in the addon (see AttrMirror).
 */
export type StatCb = (result: FuseResult, stat?: FuseStat, keep?: number) => void;
export type FdCb = (result: FuseResult, fd?: number) => void;
/**
 * Answer of an op after which libfuse2 asks getattr of the same path (the
 * patched addon answers that getattr from `stat`, without a round trip);
 * leave `stat` out when it is not at hand.
 */
export type ChangedCb = (result?: FuseResult, stat?: FuseStat) => void;
export type CreatedCb = (result: FuseResult, fd?: number, stat?: FuseStat) => void;

/**
 * Handlers. The trailing `ctx` follows the callback so that handlers written
 * for upstream's positional API keep working; only create (flags) and
 * utimens (timespecs) changed shape.
 */
export interface FuseOps {
  init?(cb: DoneCb, ctx: FuseContext): void;
  access?(path: string, mode: number, cb: DoneCb, ctx: FuseContext): void;
  statfs?(path: string, cb: (result: FuseResult, statfs?: FuseStatfs) => void, ctx: FuseContext): void;
  getattr?(path: string, cb: StatCb, ctx: FuseContext): void;
  /** Called for fstat on an open file when implemented (else libfuse calls getattr). */
  fgetattr?(path: string, fd: number, cb: StatCb, ctx: FuseContext): void;
  flush?(path: string, fd: number, cb: DoneCb, ctx: FuseContext): void;
  fsync?(path: string, datasync: number, fd: number, cb: DoneCb, ctx: FuseContext): void;
  fsyncdir?(path: string, datasync: number, fd: number, cb: DoneCb, ctx: FuseContext): void;
  /** `keep`: per entry, a token as getattr's (AttrMirror), or undefined. */
  readdir?(path: string, cb: (result: FuseResult, names?: string[], stats?: FuseStat[], keep?: (number | undefined)[]) => void, ctx: FuseContext): void;
  truncate?(path: string, size: number, cb: ChangedCb, ctx: FuseContext): void;
  ftruncate?(path: string, fd: number, size: number, cb: ChangedCb, ctx: FuseContext): void;
  readlink?(path: string, cb: (result: FuseResult, target?: string) => void, ctx: FuseContext): void;
  chown?(path: string, uid: number, gid: number, cb: ChangedCb, ctx: FuseContext): void;
  chmod?(path: string, mode: number, cb: ChangedCb, ctx: FuseContext): void;
  mknod?(path: string, mode: number, dev: number, cb: ChangedCb, ctx: FuseContext): void;
  setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: DoneCb, ctx: FuseContext): void;
  /** Answer cb(0, value); cb(0, null) = ENODATA. */
  getxattr?(path: string, name: string, position: number, cb: (result: FuseResult, value?: Buffer | null) => void, ctx: FuseContext): void;
  listxattr?(path: string, cb: (result: FuseResult, names?: string[]) => void, ctx: FuseContext): void;
  removexattr?(path: string, name: string, cb: DoneCb, ctx: FuseContext): void;
  open?(path: string, flags: number, cb: FdCb, ctx: FuseContext): void;
  opendir?(path: string, flags: number, cb: FdCb, ctx: FuseContext): void;
  /** Answer cb(bytesRead) or cb(negative errno). `buf` is detached after the callback. */
  read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (result: number) => void, ctx: FuseContext): void;
  /** Answer cb(bytesWritten) or cb(negative errno); copy `buf` before answering. */
  write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (result: number) => void, ctx: FuseContext): void;
  /** ctx is often uid 0 / pid 0 here: no process is calling at close time. */
  release?(path: string, fd: number, cb: DoneCb, ctx: FuseContext): void;
  releasedir?(path: string, fd: number, cb: DoneCb, ctx: FuseContext): void;
  /** flags: the open(2) flags of the creating call. */
  create?(path: string, mode: number, flags: number, cb: CreatedCb, ctx: FuseContext): void;
  /** Either time may carry nsec UTIME_NOW or UTIME_OMIT: see resolveUtime. */
  utimens?(path: string, atime: FuseTimespec, mtime: FuseTimespec, cb: ChangedCb, ctx: FuseContext): void;
  unlink?(path: string, cb: DoneCb, ctx: FuseContext): void;
  rename?(src: string, dest: string, cb: DoneCb, ctx: FuseContext): void;
  link?(existing: string, path: string, cb: DoneCb, ctx: FuseContext): void;
  /** symlink(target, path): `path` is the new link, `target` its content. */
  symlink?(target: string, path: string, cb: ChangedCb, ctx: FuseContext): void;
  mkdir?(path: string, mode: number, cb: ChangedCb, ctx: FuseContext): void;
  rmdir?(path: string, cb: DoneCb, ctx: FuseContext): void;
}

/** Options of the Fuse constructor (upstream's, minus the broken or unsafe ones). */
export interface FuseOptions {
  /** false: no per-op timeout (a tape recall takes minutes); upstream's default is 15 s. */
  timeout?: false | number | Record<string, number | false>;
  force?: boolean;
  mkdir?: boolean;
  allowOther?: boolean;
  allowRoot?: boolean;
  autoUnmount?: boolean;
  defaultPermissions?: boolean;
  kernelCache?: boolean;
  autoCache?: boolean;
  attrTimeout?: number;
  entryTimeout?: number;
  acAttrTimeout?: number;
  uid?: number;
  gid?: number;
  umask?: number;
  fsname?: string;
  subtype?: string;
  debug?: boolean;
  /** getxattr of a name without this prefix is refused (ENOTSUP) by the addon, without a call to `getxattr`. */
  xattrPrefix?: string;
  /** > 0: the addon keeps getattr answers marked `keep` this long (see AttrMirror). */
  attrCacheMs?: number;
}

/** Per-thread slot counters of a mount (patched addon). */
export interface FuseThreadStats {
  /** Slots allocated and not closed: stays bounded (libfuse's threads + 16 idle). */
  live: number;
  idle: number;
  created: number;
  reused: number;
  /** libfuse worker threads that exited. */
  released: number;
  closed: number;
}

/**
 * The patched addon's direct data path: reads of a registered file handle,
 * and writes once allowed up to a byte limit, are served on the libfuse
 * worker with pread/pwrite on the registered descriptor, not through JS.
 */
export interface DirectPath {
  /** Serves reads of `fh` from `fd`; false when its slot serves another handle. */
  open(fh: number, fd: number): boolean;
  /** Counts (writes, reads) since the last take; stop: no direct write after this returns; a number: allow writes ending up to it. */
  take(fh: number, stop: boolean, limit?: number): DirectCounts | null;
  /** Ends the direct path of `fh` once no direct op runs; the counts not yet taken. */
  close(fh: number): DirectCounts | null;
}

/**
 * The addon's attribute cache: getattr answers passed with `keep` answer
 * later getattrs of the same path on the libfuse thread, until they expire
 * or are forgotten. Whoever changes what a path shows must forget it first;
 * an answer decided before a forget is not kept (the token says how many
 * forgets its decision saw). Paths are the mount's ('/a/b').
 */
export interface AttrMirror {
  forget(path: string): void;
  /** `dir` and everything below it ('/': everything). */
  forgetTree(dir: string): void;
  token(): number;
  /**
   * Keeps `stat` as the answer for `path` (a directory an op just changed,
   * whose getattr the kernel sends next), unless a forget came after
   * `token` was taken.
   */
  keep(path: string, stat: FuseStat, token: number): void;
}

interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
  threadStats(): FuseThreadStats;
  directOpen(fh: number, fd: number): boolean;
  directTake(fh: number, stop: boolean, limit?: number): DirectCounts | null;
  directClose(fh: number): DirectCounts | null;
  attrForget(path: string, tree: boolean): void;
  attrToken(): number;
  attrKeep(path: string, stat: FuseStat, token: number): void;
  _fuseOptions(): string;
}

interface FuseConstructor {
  new (mnt: string, ops: FuseOps, opts?: FuseOptions): FuseInstance;
  unmount(mnt: string, cb: (err: Error | null) => void): void;
  DEIMOS_PATCH?: number;
  UTIME_NOW: number;
  UTIME_OMIT: number;
  [errno: string]: unknown;
}

/** The patch level of patches/fuse-native+2.2.6.patch this code needs (scripts/postinstall.sh checks it too). */
export const FUSE_PATCH = 7;

let loaded: FuseConstructor | undefined;

/** The patched module; throws if the install did not patch and rebuild it. */
export function fuseNative(): FuseConstructor {
  if (!loaded) {
    const Fuse = require('fuse-native') as FuseConstructor;
    if (Fuse.DEIMOS_PATCH !== FUSE_PATCH) {
      throw new Error('fuse-native is not the Deimos-patched build: run `npm ci` (postinstall: scripts/postinstall.sh)');
    }
    loaded = Fuse;
  }
  return loaded;
}

/** tv_nsec values of utimens (Linux). */
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

/** Negative errno values as handlers answer them (Linux numbers). */
export const Errno = {
  EPERM: -1, ENOENT: -2, EIO: -5, EBADF: -9, EAGAIN: -11, ENOMEM: -12, EACCES: -13,
  EBUSY: -16, EEXIST: -17, EXDEV: -18, ENOTDIR: -20, EISDIR: -21, EINVAL: -22,
  EFBIG: -27, ENOSPC: -28, EROFS: -30, EMLINK: -31, ERANGE: -34, ENAMETOOLONG: -36,
  ENOSYS: -38, ENOTEMPTY: -39, ENODATA: -61, EOPNOTSUPP: -95, ETIMEDOUT: -110,
  EDQUOT: -122,
} as const;

export function isUtimeNow(t: FuseTimespec): boolean {
  return t.nsec === UTIME_NOW;
}

export function isUtimeOmit(t: FuseTimespec): boolean {
  return t.nsec === UTIME_OMIT;
}

export function timespecToNs(t: FuseTimespec): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

export function nsToTimespec(ns: bigint): FuseTimespec {
  let sec = ns / 1_000_000_000n;
  let nsec = ns - sec * 1_000_000_000n;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += 1_000_000_000n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Wall-clock now in ns (ms precision, like the kernel would stamp via UTIME_NOW). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * The time to store for one utimens argument: undefined for UTIME_OMIT (keep
 * the current value), `now` for UTIME_NOW, else the given time, in ns.
 */
export function resolveUtime(t: FuseTimespec, now: bigint = nowNs()): bigint | undefined {
  if (isUtimeOmit(t)) return undefined;
  if (isUtimeNow(t)) return now;
  return timespecToNs(t);
}

/**
 * libfuse2 options fuse-native has no switch for: 128 KiB requests instead of
 * 4 KiB writes (about 10x the write throughput), 64 background requests so
 * reads blocked on a recall do not stall page-cache reads of other files, and
 * use_ino so st_ino is ours. No negative_timeout: the kernel would keep a
 * missing name (0.1 s tried), and a file brought back behind its back —
 * `deimos undelete x && cat x`, `deimos put` into the mounted store — would
 * be ENOENT for that long; the service cannot tell the kernel (libfuse2's
 * high-level API has no entry invalidation). splice_write: the addon answers
 * reads of the direct path with the descriptor (read_buf), and libfuse
 * splices its pages into /dev/fuse instead of copying them through a buffer
 * (a third less of the service's CPU on a 1 GiB read, measured in the README).
 * libfuse2 rejects writeback_cache (too old), and a rejected option leaves a
 * dead mount.
 */
export const DEIMOS_FUSE_OPTIONS: readonly string[] = [
  'big_writes',
  'max_write=131072',
  'max_read=131072',
  'max_background=64',
  'use_ino',
  'splice_write',
];

const REJECTED_OPTIONS = /^writeback_cache\b/;

export interface MountOptionsInput extends Omit<FuseOptions, 'timeout' | 'fsname'> {
  /** Shown as the source in /proc/mounts and df; default 'deimos'. */
  fsname?: string;
  /** More raw libfuse2 -o options, after DEIMOS_FUSE_OPTIONS. */
  extra?: string[];
  /** Default false (no timeout). */
  timeout?: FuseOptions['timeout'];
}

/**
 * Constructor options for a Deimos mount: fuse-native pastes `fsname`
 * verbatim into the -o string, which is how the options it lacks get through.
 * Throws if the whole -o string would exceed the 1023 bytes the native side
 * accepts, or if an option is one libfuse2 rejects.
 */
export function mountOptions(input: MountOptionsInput = {}): FuseOptions {
  const { fsname = 'deimos', extra = [], timeout = false, ...rest } = input;
  if (!fsname || /[,\\\s]/.test(fsname)) throw new Error(`fuse: bad fsname ${JSON.stringify(fsname)}`);
  for (const o of extra) {
    if (!o || /[,\\\s]/.test(o)) throw new Error(`fuse: bad mount option ${JSON.stringify(o)}`);
    if (REJECTED_OPTIONS.test(o)) throw new Error(`fuse: libfuse2 rejects ${o} (and would leave a dead mount)`);
  }
  const opts: FuseOptions = { ...rest, timeout, fsname: [fsname, ...DEIMOS_FUSE_OPTIONS, ...extra].join(',') };
  const Fuse = fuseNative();
  // The exact string fuse-native will pass (its _fuseOptions throws past 1023 bytes).
  new Fuse('/', {}, opts)._fuseOptions();
  return opts;
}

/** A mount with promise-based lifecycle. */
export interface FuseMount {
  readonly mountpoint: string;
  mount(): Promise<void>;
  unmount(): Promise<void>;
  threadStats(): FuseThreadStats;
  readonly direct: DirectPath;
  readonly attrs: AttrMirror;
}

/** Creates (does not mount) a filesystem served by `ops` at `mountpoint`. */
export function createFuse(mountpoint: string, ops: FuseOps, opts: FuseOptions = mountOptions()): FuseMount {
  const Fuse = fuseNative();
  const fuse = new Fuse(mountpoint, ops, { timeout: false, ...opts });
  return {
    mountpoint,
    mount: () => new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve()))),
    unmount: () => new Promise<void>((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve()))),
    threadStats: () => fuse.threadStats(),
    direct: {
      open: (fh, fd) => fuse.directOpen(fh, fd),
      take: (fh, stop, limit) => fuse.directTake(fh, stop, limit),
      close: (fh) => fuse.directClose(fh),
    },
    attrs: {
      forget: (path) => fuse.attrForget(path, false),
      forgetTree: (dir) => fuse.attrForget(dir, true),
      token: () => fuse.attrToken(),
      keep: (path, stat, token) => fuse.attrKeep(path, stat, token),
    },
  };
}

/** fusermount -uz: clears a mount left by a dead process ("Transport endpoint is not connected"). */
export function forceUnmount(mountpoint: string): Promise<void> {
  const Fuse = fuseNative();
  return new Promise<void>((resolve, reject) => Fuse.unmount(mountpoint, (err) => (err ? reject(err) : resolve())));
}
