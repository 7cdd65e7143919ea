/**
 * Copies and extents, and the one rule of media accounting: a medium's
 * size_used and nb_obj count its sync extents. Every state change of an
 * extent goes through `transition` (or `removeExtents`), so the counters move
 * exactly when an extent enters or leaves 'sync', whoever triggers it.
 */
import { DeimosError } from '../../core/errors.js';
import type { CopyRow, ExtentRow, ExtentState, Family } from '../interface.js';
import type { Ctx } from './context.js';
import { EXTENT_COLS, toCopy, toExtent } from './rows.js';

export interface ExtentFilter {
  uuid?: string;
  version?: number;
  copyName?: string;
  family?: Family;
  medium?: string;
  state?: ExtentState;
}

export function listCopies(c: Ctx, uuid: string, version: number): CopyRow[] {
  return c.conn.stmt('SELECT * FROM copies WHERE uuid = ? AND version = ? ORDER BY copy_name').all(uuid, version)
    .map((r) => toCopy(r as object));
}

export function listExtents(c: Ctx, f: ExtentFilter = {}): ExtentRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown): void => {
    if (v === undefined) return;
    where.push(sql);
    args.push(v);
  };
  add('uuid = ?', f.uuid);
  add('version = ?', f.version);
  add('copy_name = ?', f.copyName);
  add('family = ?', f.family);
  add('medium = ?', f.medium);
  add('state = ?', f.state);
  const sql = `SELECT ${EXTENT_COLS} FROM extents ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
               ORDER BY uuid, version, copy_name, split_index, layout_index, id`;
  return c.conn.stmt(sql).all(...args).map((r) => toExtent(r as object));
}

export function getExtents(c: Ctx, ids: readonly number[]): ExtentRow[] {
  const stmt = c.conn.stmt(`SELECT ${EXTENT_COLS} FROM extents WHERE id = ?`);
  const out: ExtentRow[] = [];
  for (const id of new Set(ids)) {
    const r = stmt.get(id);
    if (r) out.push(toExtent(r as object));
  }
  return out;
}

/** Adds (+1) or takes back (-1) an extent's bytes in its medium's usage as it enters or leaves 'sync'. */
function account(c: Ctx, e: Pick<ExtentRow, 'family' | 'medium' | 'size'>, sign: 1 | -1): void {
  if (sign > 0) {
    c.conn.stmt(`UPDATE media SET size_used = size_used + @size, size_free = max(0, size_free - @size), nb_obj = nb_obj + 1,
                   fs_status = CASE WHEN fs_status IN ('blank', 'empty') THEN 'used' ELSE fs_status END
                 WHERE family = @family AND name = @medium`).run({ size: e.size, family: e.family, medium: e.medium });
  } else {
    // Free space is not given back: a tape only regains it when reformatted,
    // and a dir medium's free space is measured on its file system.
    c.conn.stmt(`UPDATE media SET size_used = max(0, size_used - @size), nb_obj = max(0, nb_obj - 1)
                 WHERE family = @family AND name = @medium`).run({ size: e.size, family: e.family, medium: e.medium });
  }
}

/**
 * Moves extents to `state`, keeping media usage right; `patch` sets the final
 * position/size/checksums of pending extents being committed (the size that
 * enters the medium's usage is the final one). Returns the rows after the
 * change.
 */
export function transition(c: Ctx, rows: readonly ExtentRow[], state: ExtentState,
  patch?: Map<number, { position: number; size: number; checksums: object }>): ExtentRow[] {
  const out: ExtentRow[] = [];
  for (const e of rows) {
    const p = patch?.get(e.id);
    const next: ExtentRow = { ...e, state, ...(p ? { position: p.position, size: p.size, checksums: p.checksums } : {}) };
    if (e.state === 'sync' && state !== 'sync') account(c, e, -1);
    c.conn.stmt(`UPDATE extents SET state = ?, position = ?, size = ?, checksums = ?,
                   reservation_id = CASE WHEN ? = 'pending' THEN reservation_id END WHERE id = ?`)
      .run(state, next.position, next.size, JSON.stringify(next.checksums), state, e.id);
    if (state === 'sync' && e.state !== 'sync') account(c, next, 1);
    out.push(next);
  }
  return out;
}

/** Non-orphan extents of some versions become orphan (their object or copy is going away). */
export function orphanVersionExtents(c: Ctx, uuid: string, version: number | null): ExtentRow[] {
  const rows = version === null
    ? c.conn.stmt(`SELECT ${EXTENT_COLS} FROM extents WHERE uuid = ? AND state = 'sync' ORDER BY id`).all(uuid)
    : c.conn.stmt(`SELECT ${EXTENT_COLS} FROM extents WHERE uuid = ? AND version = ? AND state = 'sync' ORDER BY id`).all(uuid, version);
  return transition(c, rows.map((r) => toExtent(r as object)), 'orphan');
}

export function deleteCopy(c: Ctx, uuid: string, version: number, copyName: string): ExtentRow[] {
  const copy = c.conn.stmt('SELECT id FROM copies WHERE uuid = ? AND version = ? AND copy_name = ?').get(uuid, version, copyName) as
    { id: number } | undefined;
  if (!copy) {
    throw new DeimosError('ENOENT', `no copy '${copyName}' of ${uuid} version ${version}`, 'list the copies of the object');
  }
  const n = (c.conn.stmt('SELECT count(*) AS n FROM copies WHERE uuid = ? AND version = ?').get(uuid, version) as { n: number }).n;
  if (n <= 1) {
    throw new DeimosError('EBUSY', `refusing to delete the last copy ('${copyName}') of ${uuid} version ${version}`,
      'delete the object instead, or create another copy first');
  }
  const rows = c.conn.stmt(`SELECT ${EXTENT_COLS} FROM extents WHERE copy_id = ? AND state != 'orphan' ORDER BY id`).all(copy.id)
    .map((r) => toExtent(r as object));
  const orphaned = transition(c, rows, 'orphan');
  c.conn.stmt('DELETE FROM copies WHERE id = ?').run(copy.id);
  return orphaned;
}

export function removeExtents(c: Ctx, ids: readonly number[]): void {
  for (const e of getExtents(c, ids)) {
    if (e.state === 'sync') account(c, e, -1);
    c.conn.stmt('DELETE FROM extents WHERE id = ?').run(e.id);
  }
}

export function setExtentState(c: Ctx, ids: readonly number[], state: ExtentState): void {
  if (!['pending', 'sync', 'orphan'].includes(state)) {
    throw new DeimosError('EINVAL', `unknown extent state '${String(state)}'`, 'use pending, sync or orphan');
  }
  const rows = getExtents(c, ids);
  if (rows.length !== new Set(ids).size) {
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    throw new DeimosError('ENOENT', `no extent with id ${missing.join(', ')}`, 'list the extents again');
  }
  transition(c, rows.filter((r) => r.state !== state), state);
}
