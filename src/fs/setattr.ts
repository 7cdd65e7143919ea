/**
 * POSIX rules of chmod, chown and utimens, checked against the caller. The
 * kernel checks them too when the mount has default_permissions; these
 * checks hold for the VFS used without FUSE and keep the rules in one place.
 */
import { DeimosError } from '../core/index.js';
import type { NsEntry, PosixAttrs } from '../catalog/index.js';
import { S_ISGID, type Caller, type TimeArg } from './types.js';

/** chown(2) passes -1 (as an unsigned 32-bit value through FUSE) for "leave unchanged". */
const UNCHANGED = [-1, 0xffffffff];

function isOwner(e: NsEntry, c: Caller): boolean {
  return c.uid === 0 || c.uid === e.row.uid;
}

export function chmodPatch(e: NsEntry, mode: number, c: Caller, now: number): Partial<PosixAttrs> {
  if (!isOwner(e, c)) throw notOwner('change the mode of', e);
  let bits = mode & 0o7777;
  // A non-root caller outside the file's group cannot make it setgid (chmod(2)).
  if (c.uid !== 0 && c.gid !== e.row.gid && e.type !== 'dir') bits &= ~S_ISGID;
  return { mode: (e.row.mode & ~0o7777) | bits, ctime: now };
}

export function chownPatch(e: NsEntry, uid: number, gid: number, c: Caller, now: number): Partial<PosixAttrs> {
  const patch: Partial<PosixAttrs> = { ctime: now };
  if (!UNCHANGED.includes(uid) && uid !== e.row.uid) {
    // Only root gives files away: quotas and setuid bits depend on it.
    if (c.uid !== 0) throw new DeimosError('EPERM', `only root may change the owner of '/${pathOf(e)}'`, 'ask root, or copy the file instead');
    patch.uid = uid;
  }
  if (!UNCHANGED.includes(gid) && gid !== e.row.gid) {
    if (!isOwner(e, c)) throw notOwner('change the group of', e);
    patch.gid = gid;
  }
  return patch;
}

/**
 * utimensat(2): explicit times need the owner (or root); "now" for both
 * only needs write access, which the kernel checked.
 */
export function utimensPatch(e: NsEntry, atime: TimeArg, mtime: TimeArg, c: Caller, now: number): Partial<PosixAttrs> {
  const explicit = typeof atime === 'number' || typeof mtime === 'number';
  if (explicit && !isOwner(e, c)) throw notOwner('set the times of', e);
  const patch: Partial<PosixAttrs> = {};
  if (atime !== 'omit') patch.atime = atime === 'now' ? now : atime;
  if (mtime !== 'omit') patch.mtime = mtime === 'now' ? now : mtime;
  if (atime !== 'omit' || mtime !== 'omit') patch.ctime = now;
  return patch;
}

function pathOf(e: NsEntry): string {
  return e.type === 'file' ? e.row.oid : e.row.path;
}

function notOwner(what: string, e: NsEntry): DeimosError {
  return new DeimosError('EPERM', `only the owner or root may ${what} '/${pathOf(e)}'`, 'ask its owner');
}
