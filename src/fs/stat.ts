/**
 * getattr answers built from catalog rows, and inode numbers for the
 * virtual entries of /.deimos that have no row of their own.
 */
import { createHash } from 'node:crypto';
import type { NsEntry, PosixAttrs } from '../catalog/index.js';
import { BLKSIZE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type Stat } from './types.js';

const DIR_SIZE = 4096;

/** 512-byte blocks of a file of `size` bytes, online or not (du and tar --sparse must see no holes). */
export function blocksOf(size: number): number {
  return Math.ceil(size / 512);
}

/** The mode with the type bits of `type`, whatever the row holds. */
export function withType(mode: number, type: number): number {
  return (mode & ~S_IFMT) | type;
}

export function statOfEntry(e: NsEntry): Stat {
  const r = e.row;
  if (e.type === 'dir') return statOf(r, { type: S_IFDIR, size: DIR_SIZE, ino: r.ino });
  if (e.type === 'symlink') return statOf(r, { type: S_IFLNK, size: Buffer.byteLength(e.row.target), ino: r.ino });
  return statOf(r, { type: S_IFREG, size: e.row.size, ino: r.ino });
}

export function statOf(a: PosixAttrs, o: { type: number; size: number; ino: number }): Stat {
  const dir = o.type === S_IFDIR;
  return {
    mode: withType(a.mode, o.type),
    uid: a.uid,
    gid: a.gid,
    size: o.size,
    ino: o.ino,
    // Directories say 1 ("count unknown", as btrfs does) rather than a
    // subdirectory count that would cost a query per getattr; find then
    // does not use the nlink leaf optimization.
    nlink: 1,
    blocks: dir ? DIR_SIZE / 512 : o.type === S_IFLNK ? 0 : blocksOf(o.size),
    blksize: BLKSIZE,
    atime: a.atime,
    mtime: a.mtime,
    ctime: a.ctime,
  };
}

/** A read-only view of attributes (the control directory's entries). */
export function readOnly(s: Stat): Stat {
  return { ...s, mode: s.mode & ~0o222 };
}

/**
 * Inode numbers of virtual entries: above 2^52, where the catalog's counter
 * never gets, and below 2^53 so they stay exact as JavaScript numbers.
 */
export function virtualIno(key: string): number {
  const h = createHash('sha256').update(key).digest();
  return 2 ** 52 + (h.readUIntBE(0, 6) % 2 ** 51);
}
