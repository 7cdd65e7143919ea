import { randomUUID } from 'node:crypto';
import { chown, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DeimosError, mapLimit, toDeimosError } from '../../core/index.js';
import type { ExtentRow, ListMode, ObjectRow } from '../../catalog/index.js';
import { AtomicFile, openFileSource, parseKeyValues, parseTags } from '../../store/index.js';
import type { Service } from '../service.js';
import type { CallContext, CommandResult } from '../protocol.js';
import { iso, list, need, type Registry } from './registry.js';
import { spoolObject } from './spool.js';

interface PutLine { src: string; oid: string; metadata?: string }

async function putOne(svc: Service, a: Record<string, any>, line: PutLine, ctx: CallContext): Promise<ObjectRow> {
  const src = resolve(ctx.cwd, line.src);
  const source = await openFileSource(src, svc.store.blockSizeBytes);
  try {
    // The opened file's own attributes: a path stat could see another file.
    const st = source.stat;
    return await svc.store.put({
      oid: line.oid,
      source,
      family: a.family, layout: a.layout, lytParams: parseKeyValues(a.lytParams, 'layout parameter'),
      tags: parseTags(a.tags), copyName: a.copyName, grouping: a.grouping ?? null, batch: a.batch,
      metadata: parseKeyValues(line.metadata ?? a.metadata, 'metadata'),
      overwrite: Boolean(a.overwrite),
      attrs: { mode: 0o100000 | (st.mode & 0o7777), uid: ctx.uid, gid: ctx.gid, mtime: st.mtimeMs, atime: st.atimeMs },
      onProgress: (done, total) => ctx.progress(line.oid, done, total),
    });
  } finally {
    await source.close();
  }
}

/** "--file LIST": one entry a line, fields separated by blanks; '#' starts a comment. */
async function readList(path: string, fields: string[]): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new DeimosError('ENOENT', `cannot read list file '${path}'`, 'check the --file path');
  }
  const rows: string[][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length < 2 || parts.length > fields.length) {
      throw new DeimosError('EINVAL', `${path}:${i + 1}: expected '${fields.join(' ')}'`, 'fix that line of the list file');
    }
    rows.push(parts);
  });
  return rows;
}

/** Runs a batch; reports each failure as a warning and fails with the first errno. */
async function batch<T>(items: T[], limit: number, name: (t: T) => string, fn: (t: T) => Promise<unknown>, ctx: CallContext): Promise<CommandResult> {
  const results = await mapLimit(items, limit, fn);
  const failed = results.map((r, i) => [r, items[i]!] as const).filter(([r]) => r.status === 'rejected');
  if (failed.length === 0) return {};
  if (failed.length === items.length && items.length === 1) throw (failed[0]![0] as PromiseRejectedResult).reason;
  for (const [r, item] of failed) ctx.warn(`${name(item)}: ${toDeimosError((r as PromiseRejectedResult).reason).line()}`);
  const first = toDeimosError((failed[0]![0] as PromiseRejectedResult).reason);
  throw new DeimosError(first.code, `${failed.length} of ${items.length} failed (first: ${first.message})`, 'see the lines above');
}

async function put(svc: Service, a: Record<string, any>, ctx: CallContext): Promise<CommandResult> {
  if (a.file) {
    const rows = await readList(resolve(ctx.cwd, a.file), ['SRC', 'OID', 'METADATA']);
    const lines = rows.map(([src, oid, metadata]) => ({ src: src!, oid: oid!, metadata }));
    // All at once: the scheduler groups them into few syncs, on the same cartridges.
    const withBatch = { ...a, batch: `put-${process.pid}-${randomUUID()}` };
    return batch(lines, 64, (l) => l.oid, (l) => putOne(svc, withBatch, l, ctx), ctx);
  }
  await putOne(svc, a, { src: need(a, 'src'), oid: need(a, 'oid') }, ctx);
  return {};
}

async function getOne(svc: Service, a: Record<string, any>, oid: string, destArg: string, ctx: CallContext): Promise<void> {
  const dest = resolve(ctx.cwd, destArg);
  const obj = await svc.store.find({ oid, version: a.version === undefined ? undefined : Number(a.version), uuid: a.uuid });
  const exists = await stat(dest).then(() => true, () => false);
  if (exists) throw new DeimosError('EEXIST', `'${destArg}' already exists`, 'remove it or choose another destination');
  const file = await AtomicFile.create(dest);
  try {
    const r = await svc.store.read({ object: obj, sink: file, copyName: a.copyName, onProgress: (d, t) => ctx.progress(oid, d, t) });
    for (const b of r.bad) ctx.warn(`${oid}: extent ${b.address} on ${b.medium} is ${b.reason}; rebuilt from the others`);
    await file.truncate(obj.size);
    if (process.getuid?.() === 0 && ctx.uid !== 0) await chown(file.tmp, ctx.uid, ctx.gid).catch(() => undefined);
    // Like cp: the destination is the caller's file; its durability is the caller's fsync.
    await file.commit({ fsync: false });
  } catch (e) {
    await file.abort();
    throw e;
  }
}

async function get(svc: Service, a: Record<string, any>, ctx: CallContext): Promise<CommandResult> {
  if (a.file) {
    const rows = await readList(resolve(ctx.cwd, a.file), ['OID', 'DEST']);
    // One batch: every read is queued at once so the scheduler groups them per medium.
    return batch(rows, 1024, ([oid]) => oid!, ([oid, dest]) => getOne(svc, a, oid!, dest!, ctx), ctx);
  }
  await getOne(svc, a, need(a, 'oid'), need(a, 'dest'), ctx);
  return {};
}

export function objectRecord(o: ObjectRow): Record<string, unknown> {
  return {
    oid: o.oid, uuid: o.uuid, version: o.version, size: o.size, user_md: o.userMd,
    mode: '0' + o.mode.toString(8), uid: o.uid, gid: o.gid, mtime: iso(o.mtime), grouping: o.grouping,
    creation_time: iso(o.createdAt), deprecation_time: iso(o.deprecatedAt), alive: o.deprecatedAt === null,
  };
}

function extentRecord(x: ExtentRow, oid: string, layout: string): Record<string, unknown> {
  return {
    oid, uuid: x.uuid, version: x.version, copy_name: x.copyName, layout, layout_index: x.layoutIndex, split_index: x.splitIndex,
    state: x.state, family: x.family, medium: x.medium, address: x.address, position: x.position, size: x.size,
    offset: x.offset, xxh128: x.checksums.xxh128 ?? null, md5: x.checksums.md5 ?? null,
  };
}

function listMode(a: Record<string, any>): ListMode {
  if (a.deprecatedOnly) return 'deprecated-only';
  return a.deprecated ? 'deprecated' : 'alive';
}

async function forEachOid(oids: string[], fn: (oid: string) => Promise<unknown>, ctx: CallContext): Promise<CommandResult> {
  if (oids.length === 0) throw new DeimosError('EINVAL', 'missing OID', 'name at least one object');
  return batch(oids, 1, (o) => o, fn, ctx);
}

export const objectCommands: Registry = {
  put,
  get,

  async getmd(svc, a) {
    const obj = await svc.store.find({ oid: need(a, 'oid'), version: a.version === undefined ? undefined : Number(a.version), uuid: a.uuid });
    return {
      records: Object.entries(obj.userMd).map(([key, value]) => ({ key, value })),
      lines: [Object.entries(obj.userMd).map(([k, v]) => `${k}=${v}`).join(',')],
    };
  },

  delete: (svc, a, ctx) => forEachOid(list(a.oids), (oid) => svc.store.delete(oid, { hard: Boolean(a.hard) }), ctx),

  undelete: (svc, a, ctx) => forEachOid(list(a.oids), (oid) => svc.catalog.undelete(oid, a.uuid), ctx),

  async rename(svc, a) {
    await svc.catalog.renameObject(need(a, 'oid'), need(a, 'newOid'));
    return {};
  },

  async locate(svc, a) {
    const obj = await svc.store.find({ oid: need(a, 'oid'), version: a.version === undefined ? undefined : Number(a.version), uuid: a.uuid });
    const order = await svc.store.readOrder(obj, a.copyName);
    const records: Record<string, unknown>[] = [];
    for (const c of order) {
      for (const x of await svc.catalog.listExtents({ uuid: obj.uuid, version: obj.version, copyName: c.copyName, state: 'sync' })) {
        records.push({ copy_name: c.copyName, family: x.family, medium: x.medium, layout_index: x.layoutIndex, split_index: x.splitIndex, address: x.address });
      }
    }
    return { records, fields: ['copy_name', 'family', 'medium'] };
  },

  async 'object.list'(svc, a) {
    const metadata: Record<string, string> = {};
    for (const m of list(a.metadata)) Object.assign(metadata, parseKeyValues(m, 'metadata'));
    const oids = list(a.oids);
    const rows = await svc.store.listObjects({ oids: oids.length ? oids : undefined, pattern: a.pattern, metadata, mode: listMode(a) });
    return { records: rows.map(objectRecord), fields: ['oid'] };
  },

  async 'extent.list'(svc, a) {
    const oids = list(a.oids);
    const objs = await svc.store.listObjects({ oids: oids.length ? oids : undefined, pattern: a.pattern, mode: listMode(a) });
    const records: Record<string, unknown>[] = [];
    for (const o of objs) {
      const copies = await svc.catalog.listCopies(o.uuid, o.version);
      for (const c of copies) {
        for (const x of await svc.catalog.listExtents({ uuid: o.uuid, version: o.version, copyName: c.copyName })) {
          if (a.name && x.medium !== a.name) continue;
          records.push(extentRecord(x, o.oid, c.layout.name));
        }
      }
    }
    return { records, fields: ['oid', 'copy_name', 'layout', 'medium', 'address', 'size'] };
  },

  async 'copy.create'(svc, a) {
    await svc.store.copyCreate({
      oid: need(a, 'oid'), copyName: need(a, 'copyName'), version: a.version === undefined ? undefined : Number(a.version), uuid: a.uuid,
      fromCopy: a.fromCopy, family: a.family, layout: a.layout, lytParams: parseKeyValues(a.lytParams, 'layout parameter'), tags: parseTags(a.tags),
    }, (obj, fill) => spoolObject(svc, obj, fill));
    return {};
  },

  async 'copy.delete'(svc, a) {
    await svc.store.copyDelete({ oid: need(a, 'oid'), copyName: need(a, 'copyName'), version: a.version === undefined ? undefined : Number(a.version), uuid: a.uuid });
    return {};
  },

  async 'copy.list'(svc, a) {
    const records: Record<string, unknown>[] = [];
    const oids = list(a.oids);
    const objs = await svc.store.listObjects({ oids: oids.length ? oids : undefined, mode: listMode(a) });
    for (const o of objs) {
      for (const c of await svc.catalog.listCopies(o.uuid, o.version)) {
        records.push({ oid: o.oid, copy_name: c.copyName, uuid: o.uuid, version: o.version, family: c.family, layout: c.layout.name, lyt_params: c.layout.params, status: c.status, creation_time: iso(c.createdAt) });
      }
    }
    return { records, fields: ['oid', 'copy_name', 'family', 'layout', 'status'] };
  },
};
