/**
 * Loading many objects at once, for benchmarks and imports: one transaction
 * (one fsync) per batch instead of a reservation and a commit per object.
 * Objects get no copy and no extent.
 */
import { randomUUID } from 'node:crypto';
import { DeimosError } from '../../core/errors.js';
import { IMPLICIT_DIR_MODE, parentOf, validateOid } from '../base.js';
import type { ObjectRow, PosixAttrs } from '../interface.js';
import type { Ctx } from './context.js';
import { validateUserMd } from './objects.js';
import { insertObject } from './put.js';
import { allocIno, ensureParents, typeAt } from './tree.js';

export interface BulkObject {
  oid: string;
  size: number;
  userMd?: Record<string, string>;
  attrs?: PosixAttrs;
  grouping?: string | null;
}

/** Inserts alive version-1 objects (new uuids); all or nothing. Returns how many. */
export function bulkInsertObjects(c: Ctx, objects: readonly BulkObject[]): number {
  if (objects.length === 0) return 0;
  const now = c.now();
  let ino = allocIno(c, objects.length);
  // Parents already checked in this batch: objects of one directory come in runs.
  const knownDirs = new Set<string>();
  for (const o of objects) {
    validateOid(o.oid);
    const t = typeAt(c, o.oid);
    if (t === 'file') throw new DeimosError('EEXIST', `object '${o.oid}' already exists`, 'leave it out of the batch');
    if (t !== null) throw new DeimosError('EEXIST', `'${o.oid}' is a ${t}`, 'leave it out of the batch');
    const a = o.attrs ?? { mode: 0o100644, uid: 0, gid: 0, atime: now, mtime: now, ctime: now };
    const parent = parentOf(o.oid);
    if (!knownDirs.has(parent)) {
      ensureParents(c, o.oid, { mode: IMPLICIT_DIR_MODE, uid: a.uid, gid: a.gid, time: a.ctime }, false);
      knownDirs.add(parent);
    }
    const row: ObjectRow = {
      oid: o.oid, uuid: randomUUID(), version: 1, size: o.size, userMd: validateUserMd(o.userMd ?? {}),
      ...a, ino: ino++, grouping: o.grouping ?? null, createdAt: now, deprecatedAt: null,
    };
    insertObject(c, row);
  }
  return objects.length;
}
