/**
 * What the disk cache of the FUSE front-end needs from the catalog: versions
 * that exist before any copy does (their bytes are in the cache only), their
 * size while they are still being written, and the cache's own entries.
 */
import { randomUUID } from 'node:crypto';
import { DeimosError } from '../../core/errors.js';
import { IMPLICIT_DIR_MODE, validateOid } from '../base.js';
import type { CacheEntryInput, CacheEntryRow, CacheEntryState, CreateVersionArgs, ObjectRow, PosixAttrs } from '../interface.js';
import type { Ctx } from './context.js';
import { validateUserMd } from './objects.js';
import { insertObject, takeOverPutLock } from './put.js';
import { ATTR_COLUMNS, OBJECT_COLS, patchColumns, toObject } from './rows.js';
import { allocIno, checkFreeForObject, ensureParents, getAliveObject } from './tree.js';

const STATES: readonly CacheEntryState[] = ['dirty', 'flushing', 'clean', 'staging'];

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 0) throw new DeimosError('EINVAL', `invalid object size ${size}`, 'give a byte count');
}

export function createVersion(c: Ctx, a: CreateVersionArgs): ObjectRow {
  const oid = validateOid(a.oid);
  const size = a.size ?? 0;
  checkSize(size);
  const userMd = validateUserMd(a.userMd ?? {});
  const q = c.conn;
  checkFreeForObject(c, oid);
  const alive = getAliveObject(c, oid);
  if (alive && !a.overwrite) throw new DeimosError('EEXIST', `object '${oid}' already exists`, 'open it without O_EXCL to make a new version');
  takeOverPutLock(c, oid);
  let uuid: string;
  let version: number;
  if (alive) {
    uuid = alive.uuid;
    version = (q.stmt('SELECT max(version) AS v FROM objects WHERE uuid = ?').get(uuid) as { v: number }).v + 1;
  } else {
    uuid = a.expect?.uuid ?? randomUUID();
    version = 1;
    if (a.expect && q.stmt('SELECT 1 FROM objects WHERE uuid = ? LIMIT 1').get(uuid)) {
      throw new DeimosError('ESTALE', `uuid ${uuid} already names another object`, 'choose a new uuid');
    }
  }
  if (a.expect && (a.expect.uuid !== uuid || a.expect.version !== version)) {
    throw new DeimosError('ESTALE', `'${oid}' would become ${uuid} version ${version}, not ${a.expect.uuid} version ${a.expect.version}`,
      'another writer changed it meanwhile; look it up again');
  }
  const now = c.now();
  if (alive) q.stmt('UPDATE objects SET deprecated_at = ? WHERE uuid = ? AND version = ?').run(now, alive.uuid, alive.version);
  ensureParents(c, oid, { mode: IMPLICIT_DIR_MODE, uid: a.attrs.uid, gid: a.attrs.gid, time: a.attrs.ctime }, !alive);
  const row: ObjectRow = {
    oid, uuid, version, size, userMd: { ...userMd },
    mode: a.attrs.mode, uid: a.attrs.uid, gid: a.attrs.gid, atime: a.attrs.atime, mtime: a.attrs.mtime, ctime: a.attrs.ctime,
    ino: alive?.ino ?? allocIno(c), grouping: null, createdAt: now, deprecatedAt: null,
  };
  insertObject(c, row);
  if (a.cache) {
    upsertCacheEntries(c, [{
      uuid, version, state: 'dirty', size, file: a.cache.file, dirtySince: now, lastAccess: now, flushAttempts: 0, flushAfter: null,
    }]);
  }
  return row;
}

export function setObjectSize(c: Ctx, uuid: string, version: number, size: number, mtime: number, attrs: Partial<PosixAttrs> = {}): ObjectRow {
  checkSize(size);
  const q = c.conn;
  const r = q.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE uuid = ? AND version = ?`).get(uuid, version);
  if (!r) throw new DeimosError('ENOENT', `object ${uuid} version ${version} does not exist`, 'it was removed; write it again');
  const row = toObject(r as object);
  // Copies hold the bytes of the size they were made with: a version that has one is immutable.
  if (q.stmt('SELECT 1 FROM copies WHERE uuid = ? AND version = ? LIMIT 1').get(uuid, version)) {
    throw new DeimosError('EBUSY', `'${row.oid}' version ${version} is archived and cannot change`, 'write a new version instead');
  }
  q.stmt('UPDATE objects SET size = ?, mtime = ?, ctime = max(ctime, ?) WHERE uuid = ? AND version = ?').run(size, mtime, mtime, uuid, version);
  q.stmt('UPDATE cache_entries SET size = ? WHERE uuid = ? AND version = ?').run(size, uuid, version);
  const out = { ...row, size, mtime, ctime: Math.max(row.ctime, mtime) };
  // Times and modes set while the file was open (tar, cp -p) land in the same commit.
  const { sets, values } = patchColumns(attrs, ATTR_COLUMNS, (_k, v) => v);
  if (sets.length === 0) return out;
  q.stmt(`UPDATE objects SET ${sets.join(', ')} WHERE uuid = ? AND version = ?`).run(...values, uuid, version);
  return toObject(q.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE uuid = ? AND version = ?`).get(uuid, version) as object);
}

export function upsertCacheEntries(c: Ctx, entries: readonly CacheEntryInput[]): void {
  const ins = c.conn.stmt(`INSERT INTO cache_entries (uuid, version, state, size, file, dirty_since, last_access, flush_attempts, flush_after)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (uuid, version) DO UPDATE SET state = excluded.state, size = excluded.size, file = excluded.file,
        dirty_since = excluded.dirty_since, last_access = excluded.last_access, flush_attempts = excluded.flush_attempts,
        flush_after = excluded.flush_after`);
  for (const e of entries) {
    if (!STATES.includes(e.state)) {
      throw new DeimosError('EINVAL', `unknown cache state '${String(e.state)}'`, `use one of ${STATES.join(', ')}`);
    }
    checkSize(e.size);
    if (typeof e.file !== 'string' || e.file === '' || e.file.includes('/')) {
      throw new DeimosError('EINVAL', `invalid cache file name '${String(e.file)}'`, 'give a plain file name');
    }
    if (!c.conn.stmt('SELECT 1 FROM objects WHERE uuid = ? AND version = ?').get(e.uuid, e.version)) {
      throw new DeimosError('ENOENT', `object ${e.uuid} version ${e.version} does not exist`, 'it was removed; drop its cache file');
    }
    ins.run(e.uuid, e.version, e.state, e.size, e.file, e.dirtySince, e.lastAccess, e.flushAttempts, e.flushAfter);
  }
}

const ENTRY_SELECT = `SELECT e.uuid, e.version, o.oid, e.state, e.size, e.file, e.dirty_since, e.last_access, e.flush_attempts, e.flush_after
  FROM cache_entries e JOIN objects o ON o.uuid = e.uuid AND o.version = e.version`;

function toEntry(r: Record<string, any>): CacheEntryRow {
  return {
    uuid: r.uuid, version: r.version, oid: r.oid, state: r.state, size: r.size, file: r.file, dirtySince: r.dirty_since,
    lastAccess: r.last_access, flushAttempts: r.flush_attempts, flushAfter: r.flush_after,
  };
}

export function getCacheEntry(c: Ctx, uuid: string, version: number): CacheEntryRow | null {
  const r = c.conn.stmt(`${ENTRY_SELECT} WHERE e.uuid = ? AND e.version = ?`).get(uuid, version);
  return r ? toEntry(r as object) : null;
}

export function listCacheEntries(c: Ctx, f: { states?: CacheEntryState[] } = {}): CacheEntryRow[] {
  if (f.states === undefined) return c.conn.stmt(`${ENTRY_SELECT} ORDER BY e.uuid, e.version`).all().map((r) => toEntry(r as object));
  for (const s of f.states) {
    if (!STATES.includes(s)) throw new DeimosError('EINVAL', `unknown cache state '${String(s)}'`, `use one of ${STATES.join(', ')}`);
  }
  return c.conn.stmt(`${ENTRY_SELECT} WHERE e.state IN (SELECT value FROM json_each(?)) ORDER BY e.uuid, e.version`)
    .all(JSON.stringify(f.states)).map((r) => toEntry(r as object));
}

export function deleteCacheEntries(c: Ctx, keys: readonly { uuid: string; version: number }[]): number {
  const del = c.conn.stmt('DELETE FROM cache_entries WHERE uuid = ? AND version = ?');
  let n = 0;
  for (const k of keys) n += del.run(k.uuid, k.version).changes;
  return n;
}
