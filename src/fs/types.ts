/**
 * Value types of the file-system box: who calls, what getattr answers, how
 * utimens' special times arrive. No FUSE here: fuseOps.ts converts.
 */
import type { Logger } from '../core/index.js';
import type { Catalog, ObjectRow } from '../catalog/index.js';
import type { FileCache } from '../cache/interface.js';

/** The process behind an operation (fuse_get_context); permissions are its. */
export interface Caller {
  uid: number;
  gid: number;
  pid: number;
}

export const ROOT_CALLER: Caller = { uid: 0, gid: 0, pid: 0 };

/**
 * How the mount commits its namespace and attribute changes: lazily, as a
 * local file system keeps metadata in memory until fsync. A killed service
 * loses none of them; fsync and fsyncdir make them durable (Catalog.sync).
 */
export const LAZY = { durable: false } as const;

/**
 * Changes that leave no data behind them (mkdir, rename, attributes) are
 * also committed together with the ones that follow, within the catalog's
 * commit delay (`[fuse] commit_delay_ms`): rsync's utimens, chmod and
 * rename of a file ride on the commit of the next file's create. A killed
 * service may lose those of its last milliseconds; a file's creation, whose
 * bytes a close makes safe, is never held.
 */
export const HELD = { durable: false, defer: true } as const;

/** What getattr answers. Times are milliseconds since the epoch. */
export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  nlink: number;
  /** 512-byte blocks: never 0 for a non-empty file, or tar --sparse archives holes. */
  blocks: number;
  blksize: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface StatFs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

/** A time given to utimens: milliseconds, or the two special values of utimensat(2). */
export type TimeArg = number | 'now' | 'omit';

/** Reads one copy of a version, for /.deimos/copies (the bytes are fetched on open). */
export interface CopyReader {
  read(buf: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface VfsDeps {
  catalog: Catalog;
  cache: FileCache;
  log: Logger;
  /** Opens one copy of a version; without it /.deimos/copies files cannot be read (ENOTSUP). */
  openCopy?: (obj: ObjectRow, copyName: string) => Promise<CopyReader>;
  /** How long an attribute stays in the in-memory cache without being read again from the catalog. */
  attrTtlMs?: number;
}

// Mode bits (octal as in stat(2)).
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_ISGID = 0o2000;

/** open(2) flags the VFS looks at (Linux values). */
export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;

/** Preferred I/O size: libfuse2's largest write request, so cp and dd fill each one. */
export const BLKSIZE = 128 * 1024;
