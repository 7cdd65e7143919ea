/**
 * Column lists and row mappers between SQLite rows (snake_case, JSON text,
 * 0/1 booleans) and the catalog's value types.
 */
import type {
  CopyRow, DirRow, DriveRow, ExtentRow, LibraryElement, LogRow, MediumRow, ObjectRow, PosixAttrs, PutReservation, SymlinkRow,
} from '../interface.js';

type Raw = Record<string, any>;

export const OBJECT_COLS =
  'oid, uuid, version, size, user_md, mode, uid, gid, atime, mtime, ctime, ino, grouping, created_at, deprecated_at';

export function toObject(r: Raw): ObjectRow {
  return {
    oid: r.oid,
    uuid: r.uuid,
    version: r.version,
    size: r.size,
    userMd: JSON.parse(r.user_md),
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    atime: r.atime,
    mtime: r.mtime,
    ctime: r.ctime,
    ino: r.ino,
    grouping: r.grouping,
    createdAt: r.created_at,
    deprecatedAt: r.deprecated_at,
  };
}

export function toCopy(r: Raw): CopyRow {
  return {
    uuid: r.uuid,
    version: r.version,
    copyName: r.copy_name,
    family: r.family,
    layout: JSON.parse(r.layout),
    status: r.status,
    createdAt: r.created_at,
  };
}

export const EXTENT_COLS =
  'id, uuid, version, copy_name, layout_index, split_index, state, family, medium, address, position, size, offset, length, checksums, created_at';

export function toExtent(r: Raw): ExtentRow {
  return {
    id: r.id,
    uuid: r.uuid,
    version: r.version,
    copyName: r.copy_name,
    layoutIndex: r.layout_index,
    splitIndex: r.split_index,
    state: r.state,
    family: r.family,
    medium: r.medium,
    address: r.address,
    position: r.position,
    size: r.size,
    offset: r.offset,
    length: r.length,
    checksums: JSON.parse(r.checksums),
    createdAt: r.created_at,
  };
}

export function toMedium(r: Raw): MediumRow {
  return {
    family: r.family,
    name: r.name,
    model: r.model,
    admStatus: r.adm_status,
    fsStatus: r.fs_status,
    fsType: r.fs_type,
    tags: JSON.parse(r.tags),
    sizeTotal: r.size_total,
    sizeUsed: r.size_used,
    sizeFree: r.size_free,
    nbObj: r.nb_obj,
    nbLoad: r.nb_load,
    nbErrors: r.nb_errors,
    lastLoad: r.last_load,
    putAccess: r.put_access === 1,
    getAccess: r.get_access === 1,
    deleteAccess: r.delete_access === 1,
    createdAt: r.created_at,
  };
}

/** MediumRow field → column, for patches. */
export const MEDIUM_COLUMNS: Record<string, string> = {
  model: 'model', admStatus: 'adm_status', fsStatus: 'fs_status', fsType: 'fs_type', tags: 'tags',
  sizeTotal: 'size_total', sizeUsed: 'size_used', sizeFree: 'size_free', nbObj: 'nb_obj', nbLoad: 'nb_load',
  nbErrors: 'nb_errors', lastLoad: 'last_load', putAccess: 'put_access', getAccess: 'get_access', deleteAccess: 'delete_access',
};

export function toDrive(r: Raw): DriveRow {
  return {
    name: r.name,
    serial: r.serial,
    model: r.model,
    path: r.path,
    admStatus: r.adm_status,
    loaded: r.loaded,
    nbErrors: r.nb_errors,
    createdAt: r.created_at,
  };
}

export const DRIVE_COLUMNS: Record<string, string> = {
  admStatus: 'adm_status', loaded: 'loaded', nbErrors: 'nb_errors', model: 'model', path: 'path',
};

export function toElement(r: Raw): LibraryElement {
  return { kind: r.kind, address: r.address, medium: r.medium };
}

export function toLog(r: Raw): LogRow {
  return {
    id: r.id, time: r.time, kind: r.kind, device: r.device, medium: r.medium, cause: r.cause, errno: r.errno, message: r.message,
  };
}

function attrsOf(r: Raw): PosixAttrs {
  return { mode: r.mode, uid: r.uid, gid: r.gid, atime: r.atime, mtime: r.mtime, ctime: r.ctime };
}

export function toDir(r: Raw): DirRow {
  return { path: r.path, ino: r.ino, ...attrsOf(r) };
}

export function toSymlink(r: Raw): SymlinkRow {
  return { path: r.path, target: r.target, ino: r.ino, ...attrsOf(r) };
}

export function toReservation(r: Raw): PutReservation {
  return { oid: r.oid, uuid: r.uuid, version: r.version, owner: r.owner, createdAt: r.created_at };
}

/** Values of a patch restricted to the keys of `columns`, as `col = ?` pairs. */
export function patchColumns(patch: object, columns: Record<string, string>, encode: (k: string, v: unknown) => unknown):
  { sets: string[]; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [k, v] of Object.entries(patch)) {
    const col = columns[k];
    if (col === undefined || v === undefined) continue;
    sets.push(`${col} = ?`);
    values.push(encode(k, v));
  }
  return { sets, values };
}

export const ATTR_COLUMNS: Record<string, string> = {
  mode: 'mode', uid: 'uid', gid: 'gid', atime: 'atime', mtime: 'mtime', ctime: 'ctime',
};
