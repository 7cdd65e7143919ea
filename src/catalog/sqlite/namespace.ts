/**
 * Directory and symlink operations with POSIX errnos, so that the FUSE layer
 * can pass them through unchanged. Objects are the files of this namespace.
 */
import { DeimosError } from '../../core/errors.js';
import { isWithin, parentOf, ROOT_INO, validateOid, validatePath, validateSymlinkTarget } from '../base.js';
import type { DirRow, NsEntry, PosixAttrs, SymlinkRow } from '../interface.js';
import type { Ctx } from './context.js';
import { ATTR_COLUMNS, OBJECT_COLS, patchColumns, toDir, toObject, toSymlink } from './rows.js';
import {
  allocIno, dirChanged, entryAt, getDir, hasChildren, insertDir, missingAncestors, moveObjectUuid, moveTree, requireParentDir, typeAt,
} from './tree.js';

export function lookup(c: Ctx, path: string): NsEntry | null {
  return entryAt(c, validatePath(path));
}

export function readdir(c: Ctx, path: string): NsEntry[] {
  validatePath(path);
  const t = typeAt(c, path);
  if (t === null) throw new DeimosError('ENOENT', `directory '${path}' does not exist`, 'check the path');
  if (t !== 'dir') throw new DeimosError('ENOTDIR', `'${path}' is not a directory`, 'give the path of a directory');
  const q = c.conn;
  const out: NsEntry[] = [];
  for (const r of q.stmt('SELECT path, ino, mode, uid, gid, atime, mtime, ctime FROM dirs WHERE parent = ?').all(path)) {
    out.push({ type: 'dir', row: toDir(r as object) });
  }
  for (const r of q.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE parent = ? AND deprecated_at IS NULL`).all(path)) {
    out.push({ type: 'file', row: toObject(r as object) });
  }
  for (const r of q.stmt('SELECT path, target, ino, mode, uid, gid, atime, mtime, ctime FROM symlinks WHERE parent = ?').all(path)) {
    out.push({ type: 'symlink', row: toSymlink(r as object) });
  }
  return out.sort((a, b) => cmp(entryPath(a), entryPath(b)));
}

export function entryPath(e: NsEntry): string {
  return e.type === 'file' ? e.row.oid : e.row.path;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function mkdir(c: Ctx, path: string, attrs: PosixAttrs, opts: { parents?: boolean } = {}): DirRow {
  validatePath(path);
  const existing = entryAt(c, path);
  if (existing) {
    // mkdir -p succeeds on an existing directory.
    if (opts.parents && existing.type === 'dir') return existing.row;
    throw new DeimosError('EEXIST', `'${path}' already exists`, 'choose another name');
  }
  let top = path;
  if (opts.parents) {
    const missing = missingAncestors(c, path);
    for (let i = missing.length - 1; i >= 0; i--) insertDir(c, missing[i]!, attrs);
    top = missing[missing.length - 1] ?? path;
  } else {
    requireParentDir(c, path);
  }
  const row = insertDir(c, path, attrs);
  dirChanged(c, top);
  return row;
}

export function rmdir(c: Ctx, path: string): void {
  validatePath(path);
  if (path === '') throw new DeimosError('EBUSY', 'cannot remove the root directory', 'remove its entries instead');
  const t = typeAt(c, path);
  if (t === null) throw new DeimosError('ENOENT', `directory '${path}' does not exist`, 'check the path');
  if (t !== 'dir') throw new DeimosError('ENOTDIR', `'${path}' is not a directory`, 'use rm for files and symlinks');
  if (hasChildren(c, path)) throw new DeimosError('ENOTEMPTY', `directory '${path}' is not empty`, 'remove its entries first');
  c.conn.stmt('DELETE FROM dirs WHERE path = ?').run(path);
  dirChanged(c, path);
}

export function symlink(c: Ctx, path: string, target: string, attrs: PosixAttrs): SymlinkRow {
  validateOid(path, 'path');
  validateSymlinkTarget(target);
  if (typeAt(c, path) !== null) throw new DeimosError('EEXIST', `'${path}' already exists`, 'choose another name');
  requireParentDir(c, path);
  const ino = allocIno(c);
  c.conn.stmt(`INSERT INTO symlinks (path, parent, target, ino, mode, uid, gid, atime, mtime, ctime)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(path, parentOf(path), target, ino, attrs.mode, attrs.uid, attrs.gid, attrs.atime, attrs.mtime, attrs.ctime);
  dirChanged(c, path);
  return { path, target, ino, ...pickAttrs(attrs) };
}

function pickAttrs(a: PosixAttrs): PosixAttrs {
  return { mode: a.mode, uid: a.uid, gid: a.gid, atime: a.atime, mtime: a.mtime, ctime: a.ctime };
}

export function unlinkSymlink(c: Ctx, path: string): void {
  validatePath(path);
  const t = typeAt(c, path);
  if (t === 'symlink') {
    c.conn.stmt('DELETE FROM symlinks WHERE path = ?').run(path);
    dirChanged(c, path);
    return;
  }
  if (t === 'dir') throw new DeimosError('EISDIR', `'${path}' is a directory`, 'use rmdir');
  throw new DeimosError('ENOENT', `no symlink '${path}'`, 'check the path');
}

export function setEntryAttrs(c: Ctx, path: string, patch: Partial<PosixAttrs>): NsEntry {
  validatePath(path);
  const { sets, values } = patchColumns(patch, ATTR_COLUMNS, (_k, v) => v);
  const t = typeAt(c, path);
  if (t === null) throw new DeimosError('ENOENT', `'${path}' does not exist`, 'check the path');
  if (sets.length > 0) {
    if (t === 'dir') {
      if (path === '') materializeRoot(c);
      c.conn.stmt(`UPDATE dirs SET ${sets.join(', ')} WHERE path = ?`).run(...values, path);
    } else if (t === 'file') {
      c.conn.stmt(`UPDATE objects SET ${sets.join(', ')} WHERE oid = ? AND deprecated_at IS NULL`).run(...values, path);
    } else {
      c.conn.stmt(`UPDATE symlinks SET ${sets.join(', ')} WHERE path = ?`).run(...values, path);
    }
  }
  return entryAt(c, path)!;
}

/** The root has no row until its attributes change; then it gets one with its fixed inode. */
function materializeRoot(c: Ctx): void {
  const r = getDir(c, '')!;
  c.conn.stmt(`INSERT OR IGNORE INTO dirs (path, parent, ino, mode, uid, gid, atime, mtime, ctime) VALUES ('', NULL, ?, ?, ?, ?, ?, ?, ?)`)
    .run(ROOT_INO, r.mode, r.uid, r.gid, r.atime, r.mtime, r.ctime);
}

/**
 * rename(2): a file or symlink may replace a file (which is deprecated, so it
 * can still be undeleted) or a symlink; a directory may replace an empty
 * directory; a directory moves with everything below it.
 */
export function rename(c: Ctx, src: string, dst: string): void {
  validateOid(src, 'source path');
  validateOid(dst, 'destination path');
  const s = entryAt(c, src);
  if (!s) throw new DeimosError('ENOENT', `'${src}' does not exist`, 'check the source path');
  if (src === dst) return;
  if (s.type === 'dir' && isWithin(dst, src)) {
    throw new DeimosError('EINVAL', `cannot move directory '${src}' into itself ('${dst}')`, 'choose a destination outside it');
  }
  requireParentDir(c, dst);
  const d = typeAt(c, dst);
  if (s.type === 'dir') {
    if (d === 'file' || d === 'symlink') throw new DeimosError('ENOTDIR', `'${dst}' is not a directory`, 'remove it first or choose another name');
    if (d === 'dir') {
      if (hasChildren(c, dst)) throw new DeimosError('ENOTEMPTY', `directory '${dst}' is not empty`, 'remove its entries first');
      c.conn.stmt('DELETE FROM dirs WHERE path = ?').run(dst);
    }
    moveTree(c, src, dst);
    renamed(c, src, dst);
    return;
  }
  if (d === 'dir') throw new DeimosError('EISDIR', `'${dst}' is a directory`, 'choose a destination that is not a directory');
  if (d === 'file') c.conn.stmt('UPDATE objects SET deprecated_at = ? WHERE oid = ? AND deprecated_at IS NULL').run(c.now(), dst);
  if (d === 'symlink') c.conn.stmt('DELETE FROM symlinks WHERE path = ?').run(dst);
  if (s.type === 'file') moveObjectUuid(c, s.row.uuid, dst);
  else c.conn.stmt('UPDATE symlinks SET path = ?, parent = ? WHERE path = ?').run(dst, parentOf(dst), src);
  renamed(c, src, dst);
}

function renamed(c: Ctx, src: string, dst: string): void {
  dirChanged(c, src);
  if (parentOf(dst) !== parentOf(src)) dirChanged(c, dst);
}
