import { DeimosError, type Config, type Logger, parseSize, pidAlive } from '../core/index.js';
import type {
  Catalog, ChecksumAlgo, CopyRow, ExtentRow, Family, LayoutDesc, ObjectFilter, ObjectRow, PosixAttrs, PutReservation,
} from '../catalog/index.js';
import type { IoScheduler } from '../scheduler/index.js';
import { readObject, writeObject, type ObjectSink, type ObjectSource, type ReadReport } from '../layout/index.js';
import { checkCopyName, checksumAlgos, parseFamily, resolveLayout } from './options.js';

/** The steps of a put before its commit need no sync of their own (see Catalog.beginPut). */
const LAZY = { durable: false } as const;

export interface PutTarget {
  family?: string;
  layout?: string;
  lytParams?: Record<string, string>;
  tags?: string[];
  copyName?: string;
  grouping?: string | null;
  /** Puts sharing this write back to back on the same media (see WriteAllocRequest.batch). */
  batch?: string;
}

export interface PutArgs extends PutTarget {
  oid: string;
  source: ObjectSource;
  metadata?: Record<string, string>;
  overwrite?: boolean;
  attrs?: Partial<PosixAttrs>;
  onProgress?: (done: number, total: number) => void;
}

export interface ReadArgs {
  object: ObjectRow;
  sink: ObjectSink;
  copyName?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ReadResult extends ReadReport {
  copyName: string;
}

export interface StoreDeps {
  catalog: Catalog;
  scheduler: IoScheduler;
  config: Config;
  log: Logger;
}

/**
 * The object API (Phobos' store): put/get/delete/undelete/rename/copies.
 * Knows nothing of FUSE or of how media are mounted.
 */
export class Store {
  readonly catalog: Catalog;
  private readonly scheduler: IoScheduler;
  private readonly config: Config;
  private readonly log: Logger;
  readonly blockSizeBytes: number;
  private readonly algos: ChecksumAlgo[];

  constructor(deps: StoreDeps) {
    this.catalog = deps.catalog;
    this.scheduler = deps.scheduler;
    this.config = deps.config;
    this.log = deps.log;
    this.blockSizeBytes = parseSize(deps.config.str('store', 'io_block_size'), 'store.io_block_size');
    this.algos = checksumAlgos(deps.config);
  }

  private get ctx() {
    return { scheduler: this.scheduler, blockSize: this.blockSizeBytes, checksums: this.algos };
  }

  /** Resolves family/layout/copy name of a put from its options and the config. */
  target(t: PutTarget): { family: Family; layout: LayoutDesc; tags: string[]; copyName: string; grouping: string | null; batch?: string } {
    return {
      family: parseFamily(t.family ?? this.config.str('store', 'default_family')),
      layout: resolveLayout(this.config, t.layout, t.lytParams ?? {}),
      tags: t.tags ?? [],
      copyName: checkCopyName(t.copyName ?? this.config.str('store', 'default_copy_name')),
      grouping: t.grouping ?? null,
      batch: t.batch,
    };
  }

  async put(a: PutArgs): Promise<ObjectRow> {
    const t = this.target(a);
    const res = await this.catalog.beginPut({ oid: a.oid, overwrite: a.overwrite ?? false, owner: process.pid }, LAZY);
    try {
      const written = await this.writeCopy(res, t, a.source, a.onProgress);
      const now = Date.now();
      const attrs: PosixAttrs = {
        mode: 0o100644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, atime: now, mtime: now, ctime: now, ...a.attrs,
      };
      return await this.catalog.commitPut({
        reservation: res,
        size: a.source.size,
        userMd: a.metadata ?? {},
        attrs,
        grouping: t.grouping,
        copy: { copyName: t.copyName, family: t.family, layout: written.layout, status: 'complete' },
        extents: written.extents,
      });
    } catch (e) {
      await this.abort(res);
      throw e;
    }
  }

  private async writeCopy(res: PutReservation, t: ReturnType<Store['target']>, source: ObjectSource, onProgress?: PutArgs['onProgress']) {
    return writeObject(this.ctx, {
      header: { oid: res.oid, uuid: res.uuid, version: res.version, copyName: t.copyName },
      layout: t.layout,
      family: t.family,
      tags: t.tags,
      grouping: t.grouping,
      batch: t.batch,
      source: onProgress ? counted(source, onProgress) : source,
      onPending: (extents) => this.catalog.addPendingExtents(res, extents, LAZY),
    });
  }

  /** A failed put leaves no visible object and no orphan bytes on directory media. */
  private async abort(res: PutReservation): Promise<void> {
    try {
      const orphans = await this.catalog.abortPut(res);
      await this.purge(orphans);
    } catch (e) {
      this.log.error({ err: e, oid: res.oid }, 'cleaning up a failed put; the next start will retry');
    }
  }

  /** Deletes orphan extents' bytes where the medium allows it, then their rows. */
  async purge(extents: ExtentRow[]): Promise<number> {
    const gone: number[] = [];
    for (const x of extents) {
      try {
        const io = await this.scheduler.openForDelete(x.family, x.medium);
        if (io) {
          await io.deleteExtent(x.address).catch((e: NodeJS.ErrnoException) => {
            if ((e as DeimosError).code !== 'ENOENT' && e.code !== 'ENOENT') throw e;
          });
          gone.push(x.id);
        }
      } catch (e) {
        this.log.warn({ err: e, medium: x.medium, address: x.address }, 'cannot delete an orphan extent yet');
      }
    }
    if (gone.length) await this.catalog.removeExtents(gone);
    return gone.length;
  }

  /** The object a get/locate designates; a deprecated version only when asked by version or uuid. */
  async find(sel: { oid: string; version?: number; uuid?: string }): Promise<ObjectRow> {
    const byVersion = sel.version !== undefined || sel.uuid !== undefined;
    const obj = await this.catalog.getObject({ oid: sel.oid, uuid: sel.uuid, version: sel.version, mode: byVersion ? 'deprecated' : 'alive' });
    if (!obj) {
      const what = byVersion ? `object '${sel.oid}'${sel.version !== undefined ? ` version ${sel.version}` : ''}${sel.uuid ? ` uuid ${sel.uuid}` : ''}` : `object '${sel.oid}'`;
      throw new DeimosError('ENOENT', `${what} not found`, byVersion ? "'deimos object list --deprecated OID' lists its versions" : "'deimos object list --deprecated' shows deleted objects; 'deimos undelete' restores one");
    }
    return obj;
  }

  /** Copies in the order a get tries them: --copy-name only, else get_preferred_order, then the rest. */
  async readOrder(obj: ObjectRow, copyName?: string): Promise<CopyRow[]> {
    const copies = (await this.catalog.listCopies(obj.uuid, obj.version)).filter((c) => c.status !== 'incomplete');
    if (copyName !== undefined) {
      const c = copies.find((x) => x.copyName === copyName);
      if (!c) throw new DeimosError('ENOENT', `object '${obj.oid}' has no copy '${copyName}'`, `'deimos copy list ${obj.oid}' lists its copies`);
      return [c];
    }
    const pref = this.config.list('copy', 'get_preferred_order');
    const rank = (c: CopyRow) => { const i = pref.indexOf(c.copyName); return i < 0 ? pref.length : i; };
    return [...copies].sort((a, b) => rank(a) - rank(b));
  }

  /** Reads an object's bytes into a sink, trying copies in order; verified bytes only. */
  async read(a: ReadArgs): Promise<ReadResult> {
    const order = await this.readOrder(a.object, a.copyName);
    if (order.length === 0) throw new DeimosError('EIO', `object '${a.object.oid}' has no readable copy`, "'deimos copy list' shows its copies");
    const sink = a.onProgress ? countedSink(a.sink, a.object.size, a.onProgress) : a.sink;
    let last: unknown;
    for (const copy of order) {
      const extents = await this.catalog.listExtents({ uuid: a.object.uuid, version: a.object.version, copyName: copy.copyName, state: 'sync' });
      try {
        const report = await readObject(this.ctx, { extents, layout: copy.layout, size: a.object.size, sink });
        if (report.bad.length) this.log.warn({ oid: a.object.oid, copy: copy.copyName, bad: report.bad }, 'damaged extents: object rebuilt from the others');
        return { ...report, copyName: copy.copyName };
      } catch (e) {
        last = e;
        this.log.warn({ err: e, oid: a.object.oid, copy: copy.copyName }, 'copy unreadable, trying the next one');
      }
    }
    throw last;
  }

  async delete(oid: string, opts: { hard?: boolean } = {}): Promise<void> {
    if (!opts.hard) {
      await this.catalog.deprecate(oid);
      return;
    }
    await this.purge(await this.catalog.hardDelete(oid));
  }

  async listObjects(filter: ObjectFilter): Promise<ObjectRow[]> {
    return this.catalog.listObjects(filter);
  }

  /** Adds a copy to the alive (or given) version, read from an existing copy. */
  async copyCreate(a: { oid: string; version?: number; uuid?: string; copyName: string; fromCopy?: string } & PutTarget,
    spool: (obj: ObjectRow, fill: (sink: ObjectSink) => Promise<unknown>) => Promise<ObjectSource & { close(): Promise<void> }>): Promise<CopyRow> {
    const obj = await this.find(a);
    const t = this.target({ ...a, copyName: a.copyName });
    const existing = await this.catalog.listCopies(obj.uuid, obj.version);
    if (existing.some((c) => c.copyName === t.copyName)) {
      throw new DeimosError('EEXIST', `object '${obj.oid}' already has a copy '${t.copyName}'`, 'choose another copy name, or delete that copy first');
    }
    const source = await spool(obj, (sink) => this.read({ object: obj, sink, copyName: a.fromCopy }));
    try {
      return await this.putCopyFromSource(obj, { ...a, copyName: t.copyName }, source);
    } finally {
      await source.close();
    }
  }

  /**
   * Adds a copy of an existing version, its bytes read from `source`: how
   * `copy create` makes a second copy and how the disk cache flushes a
   * version written through the mount (which has no copy before). The source
   * must hold exactly the version's size. `beforeCommit` runs right before
   * the copy is recorded, with nothing awaited in between: throwing there
   * aborts the put (the cache does so when the file changed meanwhile).
   */
  async putCopyFromSource(obj: ObjectRow, target: PutTarget, source: ObjectSource,
    opts: { beforeCommit?: () => void; onProgress?: PutArgs['onProgress'] } = {}): Promise<CopyRow> {
    const t = this.target(target);
    if (source.size !== obj.size) {
      throw new DeimosError('EINVAL', `a copy of '${obj.oid}' version ${obj.version} needs ${obj.size} bytes, the source has ${source.size}`,
        'the version changed; read it again');
    }
    const res = await this.catalog.beginPut({ oid: obj.oid, overwrite: true, owner: process.pid, copyOf: { uuid: obj.uuid, version: obj.version } }, LAZY);
    try {
      const written = await this.writeCopy(res, t, source, opts.onProgress);
      opts.beforeCommit?.();
      await this.catalog.commitPut({
        reservation: res, size: obj.size, userMd: obj.userMd, attrs: obj, grouping: t.grouping,
        copy: { copyName: t.copyName, family: t.family, layout: written.layout, status: 'complete' },
        extents: written.extents,
      });
    } catch (e) {
      await this.abort(res);
      throw e;
    }
    const copies = await this.catalog.listCopies(obj.uuid, obj.version);
    return copies.find((c) => c.copyName === t.copyName)!;
  }

  async copyDelete(a: { oid: string; version?: number; uuid?: string; copyName: string }): Promise<void> {
    const obj = await this.find(a);
    const orphans = await this.catalog.deleteCopy(obj.uuid, obj.version, a.copyName);
    await this.purge(orphans);
  }

  /**
   * At start: puts whose process died are aborted, and orphan extents left
   * by failed puts, hard deletes and copy deletes are removed from media.
   */
  async recover(): Promise<{ aborted: number; purged: number }> {
    let aborted = 0;
    for (const r of await this.catalog.listReservations()) {
      if (r.owner === process.pid || pidAlive(r.owner)) continue;
      await this.catalog.abortPut(r);
      aborted++;
    }
    const orphans = await this.catalog.listExtents({ state: 'orphan' });
    // Partial extent files come only from interrupted writes, whose extents
    // are orphans now: walking those media is enough (not every medium at
    // every start).
    const touched = new Set(orphans.filter((x) => x.family === 'dir').map((x) => x.medium));
    const purged = await this.purge(orphans);
    let partial = 0;
    for (const medium of touched) {
      const io = await this.scheduler.openForDelete('dir', medium).catch(() => null);
      partial += (await io?.cleanTemp?.().catch(() => []))?.length ?? 0;
    }
    if (aborted || purged || partial) this.log.info({ aborted, purged, partial }, 'recovered from an earlier crash');
    return { aborted, purged };
  }
}


function counted(src: ObjectSource, onProgress: (done: number, total: number) => void): ObjectSource {
  let done = 0;
  return {
    size: src.size,
    recycle: src.recycle?.bind(src),
    // Passed on so that a medium may copy the file inside the kernel; such a copy reports no progress.
    file: src.file,
    async *read(offset, length) {
      for await (const b of src.read(offset, length)) {
        done += b.length;
        onProgress(Math.min(done, src.size), src.size);
        yield b;
      }
    },
  };
}

function countedSink(sink: ObjectSink, total: number, onProgress: (done: number, total: number) => void): ObjectSink {
  let done = 0;
  return {
    replaceWith: sink.replaceWith?.bind(sink),
    async write(buf, offset) {
      await sink.write(buf, offset);
      done += buf.length;
      onProgress(Math.min(done, total), total);
    },
  };
}
