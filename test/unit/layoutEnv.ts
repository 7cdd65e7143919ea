/** A real catalog, real directory media and a DirPool in a temp directory, for layout tests. */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalog } from '../../src/catalog/index.js';
import type { Catalog, ChecksumAlgo, ExtentRow, LayoutDesc, PosixAttrs } from '../../src/catalog/interface.js';
import { readObject, writeObject, type LayoutContext, type ObjectSink, type ObjectSource, type ReadReport, type WrittenObject } from '../../src/layout/index.js';
import { formatPosixMedium } from '../../src/media/index.js';
import { DirPool } from '../../src/scheduler/dirPool.js';

export interface Env {
  root: string;
  media: string[];
  catalog: Catalog;
  pool: DirPool;
  ctx: LayoutContext;
  close(): Promise<void>;
}

export async function makeEnv(opts: { media?: number; blockSize?: number; checksums?: ChecksumAlgo[]; sizes?: number[]; tags?: string[][] } = {}): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-layout-'));
  const catalog = await openCatalog(join(root, 'catalog.db'));
  const media: string[] = [];
  for (let i = 0; i < (opts.media ?? 3); i++) {
    const dir = join(root, `d${i}`);
    await mkdir(dir);
    await formatPosixMedium(dir, dir);
    const size = opts.sizes?.[i];
    await catalog.addMedia([{ family: 'dir', name: dir, admStatus: 'unlocked', tags: opts.tags?.[i] ?? [], sizeTotal: size, sizeFree: size }]);
    media.push(dir);
  }
  const pool = new DirPool({ catalog, fsync: false });
  const ctx: LayoutContext = { scheduler: pool, blockSize: opts.blockSize ?? 64 * 1024, checksums: opts.checksums ?? ['xxh128'] };
  return {
    root, media, catalog, pool, ctx,
    async close() {
      await pool.close();
      await catalog.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Serves `data` in irregular chunks, as a pipe or FUSE would. */
export function bufferSource(data: Buffer, chunk = 50_001): ObjectSource {
  return {
    size: data.length,
    async *read(offset, length) {
      for (let p = offset; p < offset + length; p += chunk) yield Buffer.from(data.subarray(p, Math.min(p + chunk, offset + length)));
    },
  };
}

export class MemorySink implements ObjectSink {
  readonly data: Buffer;
  constructor(size: number) {
    this.data = Buffer.alloc(size);
  }
  async write(buf: Buffer, offset: number): Promise<void> {
    if (offset + buf.length > this.data.length) throw new Error(`sink write past the end: ${offset}+${buf.length}`);
    buf.copy(this.data, offset);
  }
}

const ATTRS: PosixAttrs = { mode: 0o100644, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 };

export interface Stored {
  oid: string;
  uuid: string;
  version: number;
  layout: LayoutDesc;
  size: number;
  written: WrittenObject;
  extents: ExtentRow[];
}

/** The store's put protocol around writeObject: reserve, write (pending extents), commit. */
export async function put(env: Env, oid: string, data: Buffer, layout: LayoutDesc, source: ObjectSource = bufferSource(data)): Promise<Stored> {
  const res = await env.catalog.beginPut({ oid, overwrite: true, owner: process.pid });
  let written: WrittenObject;
  try {
    written = await writeObject(env.ctx, {
      header: { oid, uuid: res.uuid, version: res.version, copyName: 'source' },
      layout, family: 'dir', tags: [], grouping: null, source,
      onPending: (extents) => env.catalog.addPendingExtents(res, extents),
    });
  } catch (e) {
    await env.catalog.abortPut(res);
    throw e;
  }
  await env.catalog.commitPut({
    reservation: res, size: data.length, userMd: {}, attrs: ATTRS, grouping: null,
    copy: { copyName: 'source', family: 'dir', layout: written.layout, status: 'complete' },
    extents: written.extents,
  });
  const extents = await env.catalog.listExtents({ uuid: res.uuid, version: res.version, copyName: 'source', state: 'sync' });
  return { oid, uuid: res.uuid, version: res.version, layout: written.layout, size: data.length, written, extents };
}

export async function get(env: Env, s: Stored): Promise<{ data: Buffer; report: ReadReport }> {
  const sink = new MemorySink(s.size);
  const report = await readObject(env.ctx, { extents: s.extents, layout: s.layout, size: s.size, sink });
  return { data: sink.data, report };
}
