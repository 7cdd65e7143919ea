/**
 * Mount paths ('/a/b') to catalog paths ('a/b', '' for the root), and the
 * reserved name of the control directory.
 */
import { DeimosError } from '../core/index.js';

/** The hidden control directory at the root of the mount (like ZFS's .zfs). */
export const CONTROL = '.deimos';

/** Catalog path of a FUSE path: no leading slash, '' for the root. */
export function catalogPath(fusePath: string): string {
  if (fusePath === '/' || fusePath === '') return '';
  return fusePath.startsWith('/') ? fusePath.slice(1) : fusePath;
}

/** The path below the control directory ('' for itself), or null when `path` is outside it. */
export function controlPart(path: string): string | null {
  if (path === CONTROL) return '';
  if (path.startsWith(CONTROL + '/')) return path.slice(CONTROL.length + 1);
  return null;
}

/** Refuses changes inside the control directory (it is a read-only view). */
export function refuseControl(path: string): void {
  if (controlPart(path) !== null) {
    throw new DeimosError('EROFS', `'/${path}' is in the read-only control directory`, 'change the files themselves, outside /.deimos');
  }
}

export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Regular expression matching exactly the direct children of `dir` (for catalog --pattern queries). */
export function childPattern(dir: string): string {
  return dir === '' ? '^[^/]+$' : `^${escapeRegExp(dir)}/[^/]+$`;
}

/** Regular expression matching every path below `dir`. */
export function treePattern(dir: string): string {
  return dir === '' ? '^' : `^${escapeRegExp(dir)}/`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
