/**
 * Media, drives and the library's element table.
 */
import { DeimosError } from '../../core/errors.js';
import type { DrivePatch, DriveRow, Family, LibraryElement, MediumPatch, MediumRow, NewMedium } from '../interface.js';
import type { Ctx } from './context.js';
import { DRIVE_COLUMNS, MEDIUM_COLUMNS, patchColumns, toDrive, toElement, toMedium } from './rows.js';

const FAMILIES: readonly Family[] = ['dir', 'tape'];

function checkFamily(family: Family): void {
  if (!FAMILIES.includes(family)) {
    throw new DeimosError('EINVAL', `unknown medium family '${String(family)}'`, 'use dir or tape');
  }
}

function label(family: Family, name: string): string {
  return `${family} '${name}'`;
}

export function getMedium(c: Ctx, family: Family, name: string): MediumRow | null {
  const r = c.conn.stmt('SELECT * FROM media WHERE family = ? AND name = ?').get(family, name);
  return r ? toMedium(r as object) : null;
}

export function addMedia(c: Ctx, media: NewMedium[]): void {
  const seen = new Set<string>();
  const now = c.now();
  const ins = c.conn.stmt(`INSERT INTO media (family, name, model, adm_status, fs_status, fs_type, tags, size_total, size_used,
      size_free, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`);
  for (const m of media) {
    checkFamily(m.family);
    if (typeof m.name !== 'string' || m.name === '') throw new DeimosError('EINVAL', 'empty medium name', 'give a label or a path');
    const key = `${m.family}\0${m.name}`;
    if (seen.has(key) || getMedium(c, m.family, m.name)) {
      throw new DeimosError('EEXIST', `medium ${label(m.family, m.name)} already exists`, 'leave it out, or delete it first');
    }
    seen.add(key);
    // A new medium's free space is its capacity unless the caller measured it.
    ins.run(m.family, m.name, m.model ?? null, m.admStatus ?? 'locked', m.fsStatus ?? 'blank',
      m.fsType ?? (m.family === 'dir' ? 'posix' : 'ltfs'), JSON.stringify(m.tags ?? []), m.sizeTotal ?? 0, m.sizeFree ?? m.sizeTotal ?? 0, now);
  }
}

export function listMedia(c: Ctx, f: { family?: Family; names?: string[]; tags?: string[] } = {}): MediumRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.family !== undefined) { where.push('family = ?'); args.push(f.family); }
  if (f.names !== undefined) { where.push('name IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify(f.names)); }
  if (f.tags !== undefined && f.tags.length > 0) {
    // Every wanted tag is among the medium's tags.
    where.push(`NOT EXISTS (SELECT 1 FROM json_each(?) AS w WHERE w.value NOT IN (SELECT value FROM json_each(media.tags)))`);
    args.push(JSON.stringify(f.tags));
  }
  const sql = `SELECT * FROM media ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY family, name`;
  return c.conn.stmt(sql).all(...args).map((r) => toMedium(r as object));
}

export function updateMedium(c: Ctx, family: Family, name: string, patch: MediumPatch): MediumRow {
  if (!getMedium(c, family, name)) throw new DeimosError('ENOENT', `medium ${label(family, name)} does not exist`, 'list media first');
  const { sets, values } = patchColumns(patch, MEDIUM_COLUMNS, (k, v) => {
    if (k === 'tags') return JSON.stringify(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return v;
  });
  if (sets.length > 0) c.conn.stmt(`UPDATE media SET ${sets.join(', ')} WHERE family = ? AND name = ?`).run(...values, family, name);
  return getMedium(c, family, name)!;
}

export function deleteMedia(c: Ctx, family: Family, names: string[]): void {
  for (const name of names) {
    if (!getMedium(c, family, name)) throw new DeimosError('ENOENT', `medium ${label(family, name)} does not exist`, 'list media first');
    const n = (c.conn.stmt(`SELECT count(*) AS n FROM extents WHERE family = ? AND medium = ? AND state IN ('pending', 'sync')`)
      .get(family, name) as { n: number }).n;
    if (n > 0) {
      throw new DeimosError('EBUSY', `medium ${label(family, name)} still holds ${n} extent(s)`,
        'delete or move the objects on it first (repack)');
    }
    // Orphan extents there only wait for their bytes to be erased, which goes with the medium.
    c.conn.stmt(`DELETE FROM extents WHERE family = ? AND medium = ? AND state = 'orphan'`).run(family, name);
    c.conn.stmt('DELETE FROM media WHERE family = ? AND name = ?').run(family, name);
  }
}

export function getDrive(c: Ctx, name: string): DriveRow | null {
  const r = c.conn.stmt('SELECT * FROM drives WHERE name = ?').get(name);
  return r ? toDrive(r as object) : null;
}

export function addDrives(c: Ctx, drives: Omit<DriveRow, 'createdAt' | 'nbErrors' | 'loaded'>[]): void {
  const now = c.now();
  const seen = new Set<string>();
  for (const d of drives) {
    if (typeof d.name !== 'string' || d.name === '') throw new DeimosError('EINVAL', 'empty drive name', 'give the drive a name');
    if (seen.has(d.name) || getDrive(c, d.name)) {
      throw new DeimosError('EEXIST', `drive '${d.name}' already exists`, 'leave it out, or delete it first');
    }
    seen.add(d.name);
    c.conn.stmt(`INSERT INTO drives (name, serial, model, path, adm_status, loaded, nb_errors, created_at) VALUES (?, ?, ?, ?, ?, NULL, 0, ?)`)
      .run(d.name, d.serial, d.model, d.path, d.admStatus ?? 'locked', now);
  }
}

export function listDrives(c: Ctx): DriveRow[] {
  return c.conn.stmt('SELECT * FROM drives ORDER BY name').all().map((r) => toDrive(r as object));
}

export function updateDrive(c: Ctx, name: string, patch: DrivePatch): DriveRow {
  if (!getDrive(c, name)) throw new DeimosError('ENOENT', `drive '${name}' does not exist`, 'list drives first');
  const { sets, values } = patchColumns(patch, DRIVE_COLUMNS, (_k, v) => v);
  if (sets.length > 0) c.conn.stmt(`UPDATE drives SET ${sets.join(', ')} WHERE name = ?`).run(...values, name);
  return getDrive(c, name)!;
}

export function deleteDrives(c: Ctx, names: string[]): void {
  for (const name of names) {
    const d = getDrive(c, name);
    if (!d) throw new DeimosError('ENOENT', `drive '${name}' does not exist`, 'list drives first');
    if (d.loaded !== null) throw new DeimosError('EBUSY', `drive '${name}' holds cartridge '${d.loaded}'`, 'unload it first');
    c.conn.stmt('DELETE FROM drives WHERE name = ?').run(name);
  }
}

export function getLibraryElements(c: Ctx): LibraryElement[] {
  return c.conn.stmt('SELECT * FROM library_elements ORDER BY kind, address').all().map((r) => toElement(r as object));
}

export function setLibraryElements(c: Ctx, elements: LibraryElement[]): void {
  c.conn.stmt('DELETE FROM library_elements').run();
  const ins = c.conn.stmt('INSERT INTO library_elements (kind, address, medium) VALUES (?, ?, ?)');
  for (const e of elements) {
    if (!(['slot', 'drive', 'ie'] as const).includes(e.kind)) {
      throw new DeimosError('EINVAL', `unknown library element kind '${String(e.kind)}'`, 'use slot, drive or ie');
    }
    ins.run(e.kind, e.address, e.medium ?? null);
  }
}
