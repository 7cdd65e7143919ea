/**
 * Checks shared by every catalog engine: what a valid oid or path is, how a
 * path splits, how a --pattern compiles, whether a put owner still runs.
 * Engines call these before touching storage so that all of them refuse the
 * same inputs with the same errno.
 */
import { DeimosError } from '../core/errors.js';
import type { ObjectRow } from './interface.js';

const MAX_COMPONENT_BYTES = 255;
const MAX_PATH_BYTES = 4095;

/** True for the alive version of an object (not overwritten, not deleted). */
export function isAlive(row: Pick<ObjectRow, 'deprecatedAt'>): boolean {
  return row.deprecatedAt === null;
}

/**
 * An oid is the path a file has in the mount, so it must be a normalized
 * relative path: the mount could not show 'a//b', './a' or 'a/../b' as the
 * same file the catalog knows.
 */
export function validateOid(oid: unknown, what = 'object id'): string {
  if (typeof oid !== 'string' || oid === '') {
    throw new DeimosError('EINVAL', `empty ${what}`, `give a relative path such as 'proj/run1/a.bam'`);
  }
  return validatePath(oid, what);
}

/** Like validateOid, but '' (the root directory) is accepted. */
export function validatePath(path: unknown, what = 'path'): string {
  if (typeof path !== 'string') {
    throw new DeimosError('EINVAL', `${what} is not a string`, 'give a relative path such as proj/run1');
  }
  if (path === '') return path;
  const hint = `write it as a relative path without '.', '..' or empty components, e.g. 'proj/run1/a.bam'`;
  if (path.includes('\0')) throw new DeimosError('EINVAL', `${what} '${printable(path)}' contains a NUL byte`, 'remove the NUL byte');
  if (path.startsWith('/')) throw new DeimosError('EINVAL', `${what} '${path}' starts with '/'`, hint);
  if (path.endsWith('/')) throw new DeimosError('EINVAL', `${what} '${path}' ends with '/'`, hint);
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) {
    throw new DeimosError('EINVAL', `${what} '${path.slice(0, 40)}…' is longer than ${MAX_PATH_BYTES} bytes`, 'use a shorter path');
  }
  for (const part of path.split('/')) {
    if (part === '') throw new DeimosError('EINVAL', `${what} '${path}' has an empty component`, hint);
    if (part === '.' || part === '..') throw new DeimosError('EINVAL', `${what} '${path}' has a '${part}' component`, hint);
    if (Buffer.byteLength(part, 'utf8') > MAX_COMPONENT_BYTES) {
      throw new DeimosError('EINVAL', `a component of ${what} '${path.slice(0, 40)}…' is longer than ${MAX_COMPONENT_BYTES} bytes`,
        'use shorter file and directory names');
    }
  }
  return path;
}

export function validateSymlinkTarget(target: unknown): string {
  if (typeof target !== 'string' || target === '') {
    throw new DeimosError('EINVAL', 'empty symlink target', 'give the path the link points to');
  }
  if (target.includes('\0')) throw new DeimosError('EINVAL', 'symlink target contains a NUL byte', 'remove the NUL byte');
  if (Buffer.byteLength(target, 'utf8') > MAX_PATH_BYTES) {
    throw new DeimosError('EINVAL', `symlink target is longer than ${MAX_PATH_BYTES} bytes`, 'use a shorter target');
  }
  return target;
}

function printable(s: string): string {
  return s.replace(/\0/g, '\\0');
}

/** Parent directory of a valid non-root path ('' for top-level entries). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Proper ancestors of a valid path, nearest first, root excluded: 'a/b/c' → ['a/b', 'a']. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = parentOf(path); p !== ''; p = parentOf(p)) out.push(p);
  return out;
}

/** True when `path` is `dir` itself or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(dir + '/');
}

/**
 * Compiles a --pattern once so that a bad one is EINVAL before any query.
 * Phobos documents POSIX extended regular expressions; JavaScript's syntax is
 * a superset of what people write in practice (anchors, classes, groups).
 */
export function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    throw new DeimosError('EINVAL', `invalid pattern '${pattern}': ${(e as Error).message}`,
      `give a regular expression such as '^proj/run[0-9]+/'`);
  }
}

/**
 * The literal text every match of an anchored pattern starts with ('' when
 * there is none), so that engines can turn '^proj/run1/' into an index range
 * instead of testing every oid.
 */
export function literalPrefix(pattern: string): string {
  // A top-level alternation ('^a|b') would make any prefix wrong; be conservative.
  if (!pattern.startsWith('^') || pattern.includes('|')) return '';
  let out = '';
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      // Only escaped punctuation is a literal; \d, \w, \b… are classes or assertions.
      if (n === undefined || /[A-Za-z0-9]/.test(n)) break;
      if (isQuantifier(pattern[i + 2])) break;
      out += n;
      i++;
      continue;
    }
    if ('.[]()|^$*+?{}'.includes(c)) {
      // A quantifier makes the char before it optional or repeated: it is not part of the prefix.
      if (isQuantifier(c)) out = out.slice(0, -1);
      break;
    }
    if (isQuantifier(pattern[i + 1])) break;
    out += c;
  }
  return out;
}

function isQuantifier(c: string | undefined): boolean {
  return c === '*' || c === '+' || c === '?' || c === '{';
}

/**
 * Smallest string greater than every string that starts with `prefix` (in
 * code point order, which is also UTF-8 byte order), or null when none exists.
 */
export function prefixUpperBound(prefix: string): string | null {
  const cps = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (cps.length > 0) {
    let last = cps.pop()!;
    if (last === 0x10ffff) continue;
    last += 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
    cps.push(last);
    return String.fromCodePoint(...cps);
  }
  return null;
}

/** A reservation's owner is alive while signal 0 reaches its pid. */
export { pidAlive } from '../core/process.js';

/** Mode of directories the catalog creates implicitly (mkdir -p of an oid's parents). */
export const IMPLICIT_DIR_MODE = 0o40755;
/** The root directory when nobody has set its attributes. */
export const ROOT_INO = 1;
