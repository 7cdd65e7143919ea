/**
 * A FileCache for tests of the layers above the cache: bytes in plain files
 * of a temporary directory, versions in the real catalog, nothing ever
 * flushed or staged (those calls are recorded). An open with O_TRUNC makes
 * a new version, as the real cache does for an archived file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog, ObjectRow, PosixAttrs } from '../../src/catalog/index.js';
import type { CacheHandle, CacheStats, FileCache, FileState } from '../../src/cache/interface.js';

class FakeHandle implements CacheHandle {
  changed = false;
  private bytes: number;
  constructor(readonly oid: string, readonly uuid: string, readonly version: number, readonly path: string,
    private readonly fh: FileHandle, readonly writable: boolean, size: number) {
    this.bytes = size;
  }
  get fd(): number { return this.fh.fd; }
  async read(buf: Buffer, length: number, position: number): Promise<number> {
    return (await this.fh.read(buf, 0, length, position)).bytesRead;
  }
  async write(buf: Buffer, length: number, position: number): Promise<number> {
    const { bytesWritten } = await this.fh.write(buf, 0, length, position);
    this.bytes = Math.max(this.bytes, position + bytesWritten);
    this.changed = true;
    return bytesWritten;
  }
  async truncate(size: number): Promise<void> {
    await this.fh.truncate(size);
    this.bytes = size;
    this.changed = true;
  }
  async fsync(): Promise<void> { await this.fh.sync(); }
  size(): number { return this.bytes; }
  close(): Promise<void> { return this.fh.close(); }
}

export class FakeCache implements FileCache {
  readonly calls: { op: 'stage' | 'flush' | 'release'; oids: string[] }[] = [];
  readonly state = new Map<string, FileState>();

  constructor(private readonly catalog: Catalog, private readonly dir: string) {}

  private file(uuid: string, version: number): string {
    return join(this.dir, `${uuid}.${version}`);
  }

  async create(oid: string, attrs: PosixAttrs, opts: { exclusive?: boolean } = {}): Promise<CacheHandle> {
    const row = await this.catalog.createVersion({ oid, overwrite: !opts.exclusive, attrs });
    return this.handle(row, true, true);
  }

  async open(obj: ObjectRow, mode: { write: boolean; truncate: boolean }): Promise<CacheHandle> {
    if (mode.write && mode.truncate) {
      const now = Date.now();
      const row = await this.catalog.createVersion({ oid: obj.oid, overwrite: true, attrs: { ...obj, mtime: now, ctime: now }, userMd: obj.userMd });
      return this.handle(row, true, true);
    }
    return this.handle(obj, mode.write, false);
  }

  private async handle(row: ObjectRow, write: boolean, fresh: boolean): Promise<FakeHandle> {
    const path = this.file(row.uuid, row.version);
    const fh = await open(path, fresh ? 'w+' : write ? 'r+' : 'r').catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      return open(path, 'w+');
    });
    const h = new FakeHandle(row.oid, row.uuid, row.version, path, fh, write, fresh ? 0 : row.size);
    h.changed = fresh;
    return h;
  }

  async close(h: CacheHandle, opts: { attrs?: Partial<PosixAttrs> } = {}): Promise<ObjectRow> {
    const fh = h as FakeHandle;
    await fh.close();
    if (fh.changed) return this.catalog.setObjectSize(fh.uuid, fh.version, fh.size(), Date.now(), { attrs: opts.attrs });
    return (await this.catalog.getObject({ uuid: fh.uuid, version: fh.version, mode: 'deprecated' }))!;
  }

  async syncNames(): Promise<void> {
    const d = await open(this.dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  }
  async stage(objs: ObjectRow[]): Promise<void> { this.calls.push({ op: 'stage', oids: objs.map((o) => o.oid) }); }
  async flush(objs?: ObjectRow[]): Promise<void> { this.calls.push({ op: 'flush', oids: (objs ?? []).map((o) => o.oid) }); }
  async release(obj: ObjectRow): Promise<void> { this.calls.push({ op: 'release', oids: [obj.oid] }); }
  async stateOf(obj: ObjectRow): Promise<FileState> { return this.state.get(obj.oid) ?? 'dirty'; }
  stats(): CacheStats {
    return { sizeBytes: 0, usedBytes: 0, entries: 0, dirty: 0, dirtyBytes: 0, flushing: 0, staging: 0, evictions: 0, flushes: 0, recalls: 0 };
  }
  async recover(): Promise<{ dirty: number; dropped: number }> { return { dirty: 0, dropped: 0 }; }
  async shutdown(): Promise<void> {}
}
