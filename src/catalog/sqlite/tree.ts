/**
 * The namespace's invariants, kept by every operation that adds a name:
 * - a path is at most one of: directory, alive object, symlink;
 * - a directory, alive object or symlink exists only below an existing
 *   directory (the root always exists).
 * Because of the second rule, finding one directory among a path's ancestors
 * proves that all ancestors above it are directories too.
 */
import { DeimosError } from '../../core/errors.js';
import { ancestorsOf, IMPLICIT_DIR_MODE, parentOf, ROOT_INO } from '../base.js';
import type { DirRow, NsEntry, ObjectRow, SymlinkRow } from '../interface.js';
import type { Ctx } from './context.js';
import { OBJECT_COLS, toDir, toObject, toSymlink } from './rows.js';

export type EntryType = NsEntry['type'];

const DIR_COLS = 'path, ino, mode, uid, gid, atime, mtime, ctime';
const SYMLINK_COLS = 'path, target, ino, mode, uid, gid, atime, mtime, ctime';

export function getDir(c: Ctx, path: string): DirRow | null {
  const r = c.conn.stmt(`SELECT ${DIR_COLS} FROM dirs WHERE path = ?`).get(path);
  if (r) return toDir(r as object);
  return path === '' ? rootDir() : null;
}

/** The root as it is before anybody sets its attributes. */
function rootDir(): DirRow {
  return { path: '', ino: ROOT_INO, mode: IMPLICIT_DIR_MODE, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 };
}

export function getAliveObject(c: Ctx, oid: string): ObjectRow | null {
  const r = c.conn.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE oid = ? AND deprecated_at IS NULL`).get(oid);
  return r ? toObject(r as object) : null;
}

export function getSymlink(c: Ctx, path: string): SymlinkRow | null {
  const r = c.conn.stmt(`SELECT ${SYMLINK_COLS} FROM symlinks WHERE path = ?`).get(path);
  return r ? toSymlink(r as object) : null;
}

export function entryAt(c: Ctx, path: string): NsEntry | null {
  const dir = getDir(c, path);
  if (dir) return { type: 'dir', row: dir };
  const obj = getAliveObject(c, path);
  if (obj) return { type: 'file', row: obj };
  const link = getSymlink(c, path);
  if (link) return { type: 'symlink', row: link };
  return null;
}

/** Type of what is at `path`, with index probes only. */
export function typeAt(c: Ctx, path: string): EntryType | null {
  if (path === '') return 'dir';
  if (c.conn.stmt('SELECT 1 FROM dirs WHERE path = ?').get(path)) return 'dir';
  if (c.conn.stmt('SELECT 1 FROM objects WHERE oid = ? AND deprecated_at IS NULL').get(path)) return 'file';
  if (c.conn.stmt('SELECT 1 FROM symlinks WHERE path = ?').get(path)) return 'symlink';
  return null;
}

/**
 * Refuses a path whose ancestors include a file or symlink (ENOTDIR);
 * returns the ancestors that are missing, nearest first.
 */
export function missingAncestors(c: Ctx, path: string): string[] {
  const missing: string[] = [];
  for (const a of ancestorsOf(path)) {
    const t = typeAt(c, a);
    if (t === 'dir') break;
    if (t !== null) {
      throw new DeimosError('ENOTDIR', `'${a}' is a ${t === 'file' ? 'file' : 'symlink'}, not a directory`,
        `choose a path that is not below '${a}'`);
    }
    missing.push(a);
  }
  return missing;
}

/** Refuses to create a name where a directory or symlink already is, or below a non-directory. */
export function checkFreeForObject(c: Ctx, oid: string): void {
  const t = typeAt(c, oid);
  if (t === 'dir') throw new DeimosError('EISDIR', `'${oid}' is a directory`, 'choose another object id');
  if (t === 'symlink') throw new DeimosError('EEXIST', `'${oid}' is a symlink`, 'remove the symlink first or choose another object id');
  missingAncestors(c, oid);
}

/** Requires the parent of `path` to be an existing directory (ENOENT/ENOTDIR otherwise). */
export function requireParentDir(c: Ctx, path: string): void {
  const parent = parentOf(path);
  const t = typeAt(c, parent);
  if (t === 'dir') return;
  if (t === null) throw new DeimosError('ENOENT', `directory '${parent}' does not exist`, 'create it first (mkdir -p)');
  throw new DeimosError('ENOTDIR', `'${parent}' is a ${t === 'file' ? 'file' : 'symlink'}, not a directory`,
    `choose a path that is not below '${parent}'`);
}

/** Takes `n` inode numbers from the counter; returns the first. */
export function allocIno(c: Ctx, n = 1): number {
  const r = c.conn.stmt(`UPDATE counters SET value = value + ? WHERE name = 'ino' RETURNING value`).get(n) as { value: number };
  return r.value - n + 1;
}

export interface DirAttrs {
  mode: number;
  uid: number;
  gid: number;
  time: number;
}

export function insertDir(c: Ctx, path: string, a: { mode: number; uid: number; gid: number; atime: number; mtime: number; ctime: number }): DirRow {
  const ino = allocIno(c);
  c.conn.stmt(`INSERT INTO dirs (path, parent, ino, mode, uid, gid, atime, mtime, ctime) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(path, parentOf(path), ino, a.mode, a.uid, a.gid, a.atime, a.mtime, a.ctime);
  return { path, ino, mode: a.mode, uid: a.uid, gid: a.gid, atime: a.atime, mtime: a.mtime, ctime: a.ctime };
}

/**
 * mkdir -p of the ancestors of `path` (not `path` itself), for a name that
 * is new there (`isNew`: its parent gains it). A parent made here has the
 * times it was made with; the directory that gains the topmost new name
 * gets now.
 */
export function ensureParents(c: Ctx, path: string, a: DirAttrs, isNew: boolean): void {
  const missing = missingAncestors(c, path);
  for (let i = missing.length - 1; i >= 0; i--) {
    insertDir(c, missing[i]!, { mode: a.mode, uid: a.uid, gid: a.gid, atime: a.time, mtime: a.time, ctime: a.time });
  }
  if (isNew) dirChanged(c, missing[missing.length - 1] ?? path);
}

/**
 * The directory holding `path` gained or lost that name: its mtime and
 * ctime become now, as on any POSIX file system (make, rsync and backup
 * tools compare directory times). The root changes only once it has a row
 * (the first mount gives it one).
 */
export function dirChanged(c: Ctx, path: string): void {
  const now = c.now();
  c.conn.stmt('UPDATE dirs SET mtime = ?, ctime = ? WHERE path = ?').run(now, now, parentOf(path));
}

/** Moves every version of one object generation to a new oid. */
export function moveObjectUuid(c: Ctx, uuid: string, newOid: string): void {
  c.conn.stmt('UPDATE objects SET oid = ?, parent = ? WHERE uuid = ?').run(newOid, parentOf(newOid), uuid);
}

/**
 * Moves a directory and everything below it — dirs, symlinks, objects with
 * all their versions — by rewriting the path prefix. The range
 * [src + '/', src + '0') is exactly the paths below src ('0' follows '/').
 */
export function moveTree(c: Ctx, src: string, dst: string): void {
  const lo = src + '/';
  const hi = src + '0';
  const q = c.conn;
  const args = { dst, src, lo, hi };
  q.stmt(`UPDATE objects SET oid = @dst || substr(oid, length(@src) + 1), parent = @dst || substr(parent, length(@src) + 1)
          WHERE oid >= @lo AND oid < @hi`).run(args);
  q.stmt(`UPDATE symlinks SET path = @dst || substr(path, length(@src) + 1), parent = @dst || substr(parent, length(@src) + 1)
          WHERE path >= @lo AND path < @hi`).run(args);
  q.stmt(`UPDATE dirs SET path = @dst || substr(path, length(@src) + 1), parent = @dst || substr(parent, length(@src) + 1)
          WHERE path >= @lo AND path < @hi`).run(args);
  q.stmt('UPDATE dirs SET path = ?, parent = ? WHERE path = ?').run(dst, parentOf(dst), src);
}

export function hasChildren(c: Ctx, path: string): boolean {
  const q = c.conn;
  return q.stmt('SELECT 1 FROM dirs WHERE parent = ? LIMIT 1').get(path) !== undefined
    || q.stmt('SELECT 1 FROM objects WHERE parent = ? AND deprecated_at IS NULL LIMIT 1').get(path) !== undefined
    || q.stmt('SELECT 1 FROM symlinks WHERE parent = ? LIMIT 1').get(path) !== undefined;
}
