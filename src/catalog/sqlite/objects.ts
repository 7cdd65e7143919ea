/**
 * Object reads and the changes that move objects between alive and
 * deprecated, rename them, or remove them for good.
 */
import { DeimosError } from '../../core/errors.js';
import { compilePattern, IMPLICIT_DIR_MODE, literalPrefix, prefixUpperBound, validateOid } from '../base.js';
import type { ExtentRow, ListMode, ObjectFilter, ObjectRow, ObjectSelector, PosixAttrs } from '../interface.js';
import type { Ctx } from './context.js';
import { orphanVersionExtents } from './extents.js';
import { ATTR_COLUMNS, OBJECT_COLS, patchColumns, toObject } from './rows.js';
import { checkFreeForObject, dirChanged, ensureParents, getAliveObject, moveObjectUuid } from './tree.js';

function modeClause(mode: ListMode | undefined): string {
  switch (mode ?? 'alive') {
    case 'alive': return 'deprecated_at IS NULL';
    case 'deprecated': return '1';
    case 'deprecated-only': return 'deprecated_at IS NOT NULL';
    default: throw new DeimosError('EINVAL', `unknown list mode '${String(mode)}'`, 'use alive, deprecated or deprecated-only');
  }
}

export function notFound(oid: string): DeimosError {
  return new DeimosError('ENOENT', `object '${oid}' does not exist`, `list objects with 'deimos object list'`);
}

export function requireAlive(c: Ctx, oid: string): ObjectRow {
  const row = getAliveObject(c, validateOid(oid));
  if (!row) throw notFound(oid);
  return row;
}

export function getObject(c: Ctx, sel: ObjectSelector & { mode?: ListMode }): ObjectRow | null {
  if (sel.oid === undefined && sel.uuid === undefined) {
    throw new DeimosError('EINVAL', 'an object is selected by oid or uuid, and neither was given', 'give an oid or a uuid');
  }
  if (sel.oid !== undefined) validateOid(sel.oid);
  const mode = modeClause(sel.mode);
  if (sel.oid !== undefined && sel.uuid === undefined && sel.version === undefined && mode === 'deprecated_at IS NULL') {
    return getAliveObject(c, sel.oid);
  }
  const where = [mode];
  const args: unknown[] = [];
  if (sel.oid !== undefined) { where.push('oid = ?'); args.push(sel.oid); }
  if (sel.uuid !== undefined) { where.push('uuid = ?'); args.push(sel.uuid); }
  if (sel.version !== undefined) { where.push('version = ?'); args.push(sel.version); }
  // Versions of one uuid are ordered by number; rows of one oid by insertion
  // (ids only grow; time stamps can tie or go back), the alive one first.
  const order = sel.uuid !== undefined ? 'version DESC' : '(deprecated_at IS NULL) DESC, id DESC';
  const r = c.conn.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT 1`).get(...args);
  return r ? toObject(r as object) : null;
}

export function listObjects(c: Ctx, f: ObjectFilter = {}): ObjectRow[] {
  const where = [modeClause(f.mode)];
  const args: unknown[] = [];
  if (f.oids !== undefined) {
    for (const oid of f.oids) validateOid(oid);
    where.push('oid IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(f.oids));
  }
  if (f.pattern !== undefined) {
    compilePattern(f.pattern);
    const prefix = literalPrefix(f.pattern);
    if (prefix !== '') {
      where.push('oid >= ?');
      args.push(prefix);
      const hi = prefixUpperBound(prefix);
      if (hi !== null) { where.push('oid < ?'); args.push(hi); }
    }
    where.push('oid REGEXP ?');
    args.push(f.pattern);
  }
  for (const [k, v] of Object.entries(f.metadata ?? {})) {
    where.push('EXISTS (SELECT 1 FROM json_each(objects.user_md) AS md WHERE md.key = ? AND md.value = ?)');
    args.push(k, v);
  }
  let limit = '';
  if (f.limit !== undefined) {
    if (!Number.isInteger(f.limit) || f.limit < 0) {
      throw new DeimosError('EINVAL', `invalid limit ${f.limit}`, 'give a non-negative integer');
    }
    limit = ' LIMIT ?';
    args.push(f.limit);
  }
  // Alive rows are unique per oid, so ordering by oid alone lets SQLite walk the partial index.
  const order = (f.mode ?? 'alive') === 'alive' ? 'oid' : 'oid, version, id';
  const sql = `SELECT ${OBJECT_COLS} FROM objects WHERE ${where.join(' AND ')} ORDER BY ${order}${limit}`;
  return c.conn.stmt(sql).all(...args).map((r) => toObject(r as object));
}

export function countObjects(c: Ctx, mode?: ListMode): number {
  return (c.conn.stmt(`SELECT count(*) AS n FROM objects WHERE ${modeClause(mode)}`).get() as { n: number }).n;
}

export function deprecate(c: Ctx, oid: string): ObjectRow {
  const row = requireAlive(c, oid);
  const now = c.now();
  c.conn.stmt('UPDATE objects SET deprecated_at = ? WHERE uuid = ? AND version = ?').run(now, row.uuid, row.version);
  dirChanged(c, oid);
  return { ...row, deprecatedAt: now };
}

export function undelete(c: Ctx, oid: string, uuid?: string): ObjectRow {
  validateOid(oid);
  if (getAliveObject(c, oid)) {
    throw new DeimosError('EEXIST', `object '${oid}' is alive`, 'delete it first, or rename it, to undelete an older generation');
  }
  const r = uuid === undefined
    ? c.conn.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE oid = ? AND deprecated_at IS NOT NULL
                   ORDER BY id DESC LIMIT 1`).get(oid)
    : c.conn.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE oid = ? AND uuid = ? AND deprecated_at IS NOT NULL
                   ORDER BY version DESC LIMIT 1`).get(oid, uuid);
  if (!r) {
    throw new DeimosError('ENOENT', `no deleted version of '${oid}'${uuid ? ` with uuid ${uuid}` : ''}`,
      `list them with 'deimos object list --deprecated-only'`);
  }
  const row = toObject(r as object);
  checkFreeForObject(c, oid);
  ensureParents(c, oid, { mode: IMPLICIT_DIR_MODE, uid: row.uid, gid: row.gid, time: c.now() }, true);
  c.conn.stmt('UPDATE objects SET deprecated_at = NULL WHERE uuid = ? AND version = ?').run(row.uuid, row.version);
  return { ...row, deprecatedAt: null };
}

export function hardDelete(c: Ctx, oid: string, uuid?: string): ExtentRow[] {
  validateOid(oid);
  const rows = (uuid === undefined
    ? c.conn.stmt('SELECT id, uuid, version FROM objects WHERE oid = ?').all(oid)
    : c.conn.stmt('SELECT id, uuid, version FROM objects WHERE oid = ? AND uuid = ?').all(oid, uuid)) as
    { id: number; uuid: string; version: number }[];
  if (rows.length === 0) {
    throw new DeimosError('ENOENT', `object '${oid}'${uuid ? ` with uuid ${uuid}` : ''} does not exist, alive or deleted`,
      `list objects with 'deimos object list --deprecated'`);
  }
  const orphaned: ExtentRow[] = [];
  const alive = getAliveObject(c, oid);
  if (alive && rows.some((r) => r.uuid === alive.uuid)) dirChanged(c, oid);
  for (const r of rows) {
    orphaned.push(...orphanVersionExtents(c, r.uuid, r.version));
    // Copies go with the row (ON DELETE CASCADE); their extents keep their history as orphans.
    c.conn.stmt('DELETE FROM objects WHERE id = ?').run(r.id);
  }
  return orphaned;
}

export function renameObject(c: Ctx, oid: string, newOid: string): ObjectRow {
  const row = requireAlive(c, oid);
  validateOid(newOid, 'new object id');
  if (newOid === oid) return row;
  if (getAliveObject(c, newOid)) {
    throw new DeimosError('EEXIST', `object '${newOid}' already exists`, 'delete it first or choose another name');
  }
  checkFreeForObject(c, newOid);
  ensureParents(c, newOid, { mode: IMPLICIT_DIR_MODE, uid: row.uid, gid: row.gid, time: c.now() }, true);
  moveObjectUuid(c, row.uuid, newOid);
  dirChanged(c, oid);
  return { ...row, oid: newOid };
}

export function setObjectAttrs(c: Ctx, oid: string, patch: Partial<PosixAttrs>): ObjectRow {
  const row = requireAlive(c, oid);
  const { sets, values } = patchColumns(patch, ATTR_COLUMNS, (_k, v) => v);
  if (sets.length === 0) return row;
  c.conn.stmt(`UPDATE objects SET ${sets.join(', ')} WHERE uuid = ? AND version = ?`).run(...values, row.uuid, row.version);
  return getAliveObject(c, oid)!;
}

export function validateUserMd(md: unknown): Record<string, string> {
  if (md === null || typeof md !== 'object' || Array.isArray(md)) {
    throw new DeimosError('EINVAL', 'user metadata must be an object of strings', `give key=value pairs, e.g. {"project": "x"}`);
  }
  for (const [k, v] of Object.entries(md)) {
    if (typeof v !== 'string') {
      throw new DeimosError('EINVAL', `user metadata '${k}' is not a string`, 'give every value as a string');
    }
  }
  return md as Record<string, string>;
}

export function setUserMd(c: Ctx, oid: string, md: Record<string, string>): ObjectRow {
  const row = requireAlive(c, oid);
  validateUserMd(md);
  c.conn.stmt('UPDATE objects SET user_md = ? WHERE uuid = ? AND version = ?').run(JSON.stringify(md), row.uuid, row.version);
  return { ...row, userMd: { ...md } };
}
