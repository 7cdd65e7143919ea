/**
 * Shared fixtures of the catalog contract suite. Everything goes through the
 * Catalog interface so that any engine can run the suite.
 */
import { spawnSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import type { Catalog, CopyRow, ExtentRow, ObjectRow, PosixAttrs, PutReservation } from '../../../src/catalog/index.js';

export type MakeCatalog = () => Promise<Catalog>;

/** Declares one contract test that gets a fresh catalog and closes it afterwards. */
export type ContractTest = (title: string, fn: (t: ExecutionContext, cat: Catalog) => Promise<void>) => void;

export const T0 = 1_700_000_000_000;

export function fileAttrs(over: Partial<PosixAttrs> = {}): PosixAttrs {
  return { mode: 0o100644, uid: 1000, gid: 100, atime: T0, mtime: T0, ctime: T0, ...over };
}

export function dirAttrs(over: Partial<PosixAttrs> = {}): PosixAttrs {
  return { mode: 0o40750, uid: 1000, gid: 100, atime: T0, mtime: T0, ctime: T0, ...over };
}

export const MEDIUM = 'm1';

export async function addDirMedium(cat: Catalog, name = MEDIUM, sizeTotal = 1_000_000): Promise<void> {
  await cat.addMedia([{ family: 'dir', name, sizeTotal, sizeFree: sizeTotal, admStatus: 'unlocked' }]);
}

export interface PutOpts {
  overwrite?: boolean;
  size?: number;
  userMd?: Record<string, string>;
  attrs?: Partial<PosixAttrs>;
  media?: string[];
  copyName?: string;
  grouping?: string | null;
}

export function copyDesc(copyName: string, replicas: number): Omit<CopyRow, 'createdAt' | 'uuid' | 'version'> {
  return { copyName, family: 'dir', layout: { name: 'raid1', params: { repl_count: String(replicas) } }, status: 'complete' };
}

/** Adds one pending extent per medium (raid1 replicas) to a reservation. */
export function pendingExtents(cat: Catalog, res: PutReservation, size: number, media: string[], copyName = 'source'): Promise<ExtentRow[]> {
  return cat.addPendingExtents(res, media.map((medium, i) => ({
    uuid: res.uuid, version: res.version, copyName, layoutIndex: i, splitIndex: 0, family: 'dir' as const, medium,
    address: `${res.uuid}.${res.version}.${copyName}.${i}`, position: 0, size, offset: 0, length: size, checksums: {},
  })));
}

/** The whole put protocol for one object; the medium must exist. */
export async function putObject(cat: Catalog, oid: string, o: PutOpts = {}): Promise<ObjectRow> {
  const size = o.size ?? 100;
  const media = o.media ?? [MEDIUM];
  const res = await cat.beginPut({ oid, overwrite: o.overwrite ?? false, owner: process.pid });
  const ext = await pendingExtents(cat, res, size, media, o.copyName ?? 'source');
  return cat.commitPut({
    reservation: res, size, userMd: o.userMd ?? {}, attrs: fileAttrs(o.attrs), grouping: o.grouping ?? null,
    copy: copyDesc(o.copyName ?? 'source', media.length),
    extents: ext.map((e, i) => ({ id: e.id, position: 10 * i, size, checksums: { xxh128: `x${i}` } })),
  });
}

/** A pid that belonged to a process that has exited (and was reaped). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  if (r.pid === undefined) throw new Error('cannot spawn a process to get a dead pid');
  return r.pid;
}
