/**
 * The put protocol: beginPut reserves (uuid, version) and locks the oid,
 * addPendingExtents records where bytes are about to be written (so a crash
 * leaves a trace to clean up), commitPut makes the object visible in one
 * transaction, abortPut gives the extents up.
 *
 * A reservation is one row of `reservations`: kind 'put' locks an oid (unique
 * index), kind 'copy' locks a version while a copy of it is being created.
 */
import { randomUUID } from 'node:crypto';
import { DeimosError } from '../../core/errors.js';
import { IMPLICIT_DIR_MODE, parentOf, validateOid } from '../base.js';
import type { BeginPutArgs, CommitPutArgs, ExtentRow, NewExtent, ObjectRow, PutReservation } from '../interface.js';
import type { Ctx } from './context.js';
import { transition } from './extents.js';
import { validateUserMd } from './objects.js';
import { EXTENT_COLS, OBJECT_COLS, toExtent, toObject, toReservation } from './rows.js';
import { allocIno, checkFreeForObject, ensureParents, getAliveObject } from './tree.js';

interface ReservationRow {
  id: number;
  kind: 'put' | 'copy';
  oid: string;
  uuid: string;
  version: number;
  owner: number;
  overwrite: number;
  created_at: number;
}

export function beginPut(c: Ctx, args: BeginPutArgs): PutReservation {
  const oid = validateOid(args.oid);
  if (!Number.isInteger(args.owner) || args.owner <= 0) {
    throw new DeimosError('EINVAL', `invalid owner pid ${args.owner}`, 'pass process.pid');
  }
  const q = c.conn;
  let kind: 'put' | 'copy';
  let uuid: string;
  let version: number;
  let resOid = oid;
  if (args.copyOf) {
    const { uuid: u, version: v } = args.copyOf;
    const r = q.stmt('SELECT oid FROM objects WHERE uuid = ? AND version = ?').get(u, v) as { oid: string } | undefined;
    if (!r) throw new DeimosError('ENOENT', `object ${u} version ${v} does not exist`, 'list the versions of the object');
    kind = 'copy';
    uuid = u;
    version = v;
    resOid = r.oid;
    takeOverStale(c, q.stmt(`SELECT * FROM reservations WHERE kind = 'copy' AND uuid = ? AND version = ?`).get(u, v) as ReservationRow | undefined);
  } else {
    kind = 'put';
    checkFreeForObject(c, oid);
    const alive = getAliveObject(c, oid);
    if (alive && !args.overwrite) {
      throw new DeimosError('EEXIST', `object '${oid}' already exists`, 'use --overwrite to make a new version');
    }
    takeOverStale(c, q.stmt(`SELECT * FROM reservations WHERE kind = 'put' AND oid = ?`).get(oid) as ReservationRow | undefined);
    if (alive) {
      uuid = alive.uuid;
      version = (q.stmt('SELECT max(version) AS v FROM objects WHERE uuid = ?').get(uuid) as { v: number }).v + 1;
    } else {
      uuid = randomUUID();
      version = 1;
    }
  }
  const createdAt = c.now();
  q.stmt(`INSERT INTO reservations (kind, oid, uuid, version, owner, overwrite, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .run(kind, resOid, uuid, version, args.owner, args.overwrite ? 1 : 0, createdAt);
  return { oid: resOid, uuid, version, owner: args.owner, createdAt };
}

/** A new name for `oid` outside the put protocol must respect a put in progress on it (EBUSY), or take a stale one over. */
export function takeOverPutLock(c: Ctx, oid: string): void {
  takeOverStale(c, c.conn.stmt(`SELECT * FROM reservations WHERE kind = 'put' AND oid = ?`).get(oid) as ReservationRow | undefined);
}

/** EBUSY while the owner of `r` runs; otherwise its pending extents become orphan and it is dropped. */
function takeOverStale(c: Ctx, r: ReservationRow | undefined): void {
  if (!r) return;
  if (c.ownerAlive(r.owner)) {
    const what = r.kind === 'put' ? `a put of '${r.oid}'` : `a copy creation of '${r.oid}' version ${r.version}`;
    throw new DeimosError('EBUSY', `${what} is in progress (pid ${r.owner})`, 'wait for it to finish, or stop that process');
  }
  dropReservation(c, r);
}

function dropReservation(c: Ctx, r: ReservationRow): ExtentRow[] {
  const pending = c.conn.stmt(`SELECT ${EXTENT_COLS} FROM extents WHERE reservation_id = ? AND state = 'pending' ORDER BY id`)
    .all(r.id).map((x) => toExtent(x as object));
  const orphaned = transition(c, pending, 'orphan');
  c.conn.stmt('DELETE FROM reservations WHERE id = ?').run(r.id);
  return orphaned;
}

/**
 * The stored row behind a reservation handed out earlier, or ESTALE. Not
 * matched on the oid: a copy creation survives a rename of its object.
 */
function findReservation(c: Ctx, res: PutReservation): ReservationRow {
  const r = c.conn.stmt(`SELECT * FROM reservations WHERE uuid = ? AND version = ? AND owner = ? AND created_at = ?`)
    .get(res.uuid, res.version, res.owner, res.createdAt) as ReservationRow | undefined;
  if (!r) {
    throw new DeimosError('ESTALE', `the reservation for '${res.oid}' (version ${res.version}) is gone`,
      'it was aborted or taken over after its process was thought dead; start the put again');
  }
  return r;
}

export function addPendingExtents(c: Ctx, res: PutReservation, extents: NewExtent[]): ExtentRow[] {
  const r = findReservation(c, res);
  const now = c.now();
  const ins = c.conn.stmt(`INSERT INTO extents (uuid, version, copy_name, reservation_id, layout_index, split_index, state, family,
      medium, address, position, size, offset, length, checksums, created_at)
    VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${EXTENT_COLS}`);
  return extents.map((e) => {
    if (e.uuid !== r.uuid || e.version !== r.version) {
      throw new DeimosError('EINVAL', `extent for ${e.uuid} version ${e.version} does not belong to the put of '${r.oid}'`,
        `give uuid ${r.uuid} version ${r.version}`);
    }
    if (!c.conn.stmt('SELECT 1 FROM media WHERE family = ? AND name = ?').get(e.family, e.medium)) {
      throw new DeimosError('ENOENT', `medium ${e.family}:${e.medium} does not exist`, 'add the medium first');
    }
    const row = ins.get(e.uuid, e.version, e.copyName, r.id, e.layoutIndex, e.splitIndex, e.family, e.medium, e.address,
      e.position, e.size, e.offset, e.length, JSON.stringify(e.checksums ?? {}), now);
    return toExtent(row as object);
  });
}

export function commitPut(c: Ctx, a: CommitPutArgs): ObjectRow {
  const r = findReservation(c, a.reservation);
  validateUserMd(a.userMd);
  if (!Number.isInteger(a.size) || a.size < 0) throw new DeimosError('EINVAL', `invalid object size ${a.size}`, 'give a byte count');
  const now = c.now();
  let row: ObjectRow;
  if (r.kind === 'put') {
    row = commitObjectRow(c, r, a, now);
  } else {
    const o = c.conn.stmt(`SELECT ${OBJECT_COLS} FROM objects WHERE uuid = ? AND version = ?`).get(r.uuid, r.version);
    if (!o) throw new DeimosError('ENOENT', `object ${r.uuid} version ${r.version} was removed during the copy`, 'abort the copy');
    row = toObject(o as object);
  }
  if (c.conn.stmt('SELECT 1 FROM copies WHERE uuid = ? AND version = ? AND copy_name = ?').get(r.uuid, r.version, a.copy.copyName)) {
    throw new DeimosError('EEXIST', `copy '${a.copy.copyName}' of '${row.oid}' version ${r.version} already exists`,
      'choose another copy name');
  }
  const copy = c.conn.stmt(`INSERT INTO copies (uuid, version, copy_name, family, layout, status, created_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
    .get(r.uuid, r.version, a.copy.copyName, a.copy.family, JSON.stringify(a.copy.layout), a.copy.status, now) as { id: number };
  commitExtents(c, r, a, copy.id);
  dropReservation(c, r);
  return row;
}

/** Inserts the new version (deprecating the one it replaces) and its parent directories. */
function commitObjectRow(c: Ctx, r: ReservationRow, a: CommitPutArgs, now: number): ObjectRow {
  const q = c.conn;
  checkFreeForObject(c, r.oid);
  const alive = getAliveObject(c, r.oid);
  if (alive) {
    // The reservation was for a new version of this very generation; anything else won a race.
    if (!r.overwrite || alive.uuid !== r.uuid) {
      throw new DeimosError('EEXIST', `object '${r.oid}' already exists`, 'use --overwrite to make a new version');
    }
    q.stmt('UPDATE objects SET deprecated_at = ? WHERE uuid = ? AND version = ?').run(now, alive.uuid, alive.version);
  }
  if (q.stmt('SELECT 1 FROM objects WHERE uuid = ? AND version = ?').get(r.uuid, r.version)) {
    throw new DeimosError('EEXIST', `version ${r.version} of '${r.oid}' already exists`, 'start the put again');
  }
  const prev = q.stmt('SELECT ino FROM objects WHERE uuid = ? LIMIT 1').get(r.uuid) as { ino: number } | undefined;
  const ino = prev?.ino ?? allocIno(c);
  ensureParents(c, r.oid, { mode: IMPLICIT_DIR_MODE, uid: a.attrs.uid, gid: a.attrs.gid, time: a.attrs.ctime }, !alive);
  const row: ObjectRow = {
    oid: r.oid, uuid: r.uuid, version: r.version, size: a.size, userMd: { ...a.userMd },
    mode: a.attrs.mode, uid: a.attrs.uid, gid: a.attrs.gid, atime: a.attrs.atime, mtime: a.attrs.mtime, ctime: a.attrs.ctime,
    ino, grouping: a.grouping ?? null, createdAt: now, deprecatedAt: null,
  };
  insertObject(c, row);
  return row;
}

export function insertObject(c: Ctx, o: ObjectRow): void {
  c.conn.stmt(`INSERT INTO objects (oid, parent, uuid, version, size, user_md, mode, uid, gid, atime, mtime, ctime, ino, grouping,
                 created_at, deprecated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(o.oid, parentOf(o.oid), o.uuid, o.version, o.size, JSON.stringify(o.userMd), o.mode, o.uid, o.gid, o.atime, o.mtime,
      o.ctime, o.ino, o.grouping, o.createdAt, o.deprecatedAt);
}

/**
 * Listed extents become sync where they ended up; pending extents of the
 * reservation that are not listed (a failed attempt) become orphan, since
 * nothing would ever refer to them again.
 */
function commitExtents(c: Ctx, r: ReservationRow, a: CommitPutArgs, copyId: number): void {
  const pending = new Map(c.conn.stmt(`SELECT ${EXTENT_COLS} FROM extents WHERE reservation_id = ? AND state = 'pending'`)
    .all(r.id).map((x) => { const e = toExtent(x as object); return [e.id, e] as const; }));
  const patch = new Map<number, { position: number; size: number; checksums: object }>();
  for (const e of a.extents) {
    const p = pending.get(e.id);
    if (!p) throw new DeimosError('EINVAL', `extent ${e.id} is not a pending extent of the put of '${r.oid}'`, 'add it with addPendingExtents first');
    if (p.copyName !== a.copy.copyName) {
      throw new DeimosError('EINVAL', `extent ${e.id} belongs to copy '${p.copyName}', not '${a.copy.copyName}'`, 'commit each copy with its own extents');
    }
    patch.set(e.id, { position: e.position, size: e.size, checksums: e.checksums ?? {} });
  }
  const listed = [...pending.values()].filter((e) => patch.has(e.id));
  transition(c, listed, 'sync', patch);
  const setCopy = c.conn.stmt('UPDATE extents SET copy_id = ? WHERE id = ?');
  for (const e of listed) setCopy.run(copyId, e.id);
  transition(c, [...pending.values()].filter((e) => !patch.has(e.id)), 'orphan');
}

export function abortPut(c: Ctx, res: PutReservation): ExtentRow[] {
  return dropReservation(c, findReservation(c, res));
}

export function listReservations(c: Ctx): PutReservation[] {
  return c.conn.stmt('SELECT * FROM reservations ORDER BY created_at, id').all().map((r) => toReservation(r as object));
}
