/**
 * The default catalog engine: SQLite through better-sqlite3. Each method is
 * one transaction (IMMEDIATE for writes, so that two processes sharing the
 * file serialize at BEGIN); the work itself lives in ./sqlite/*, one file per
 * concern, as synchronous functions of a Ctx.
 */
import { pidAlive } from './base.js';
import type {
  BeginPutArgs, CacheEntryInput, CommitOpts, CacheEntryRow, CacheEntryState, Catalog, CommitPutArgs, CopyRow, CreateVersionArgs, DirRow, DrivePatch, DriveRow, ExtentRow, ExtentState, Family, LibraryElement,
  ListMode, LogFilter, LogRow, MediumPatch, MediumRow, NewExtent, NewLog, NewMedium, NsEntry, ObjectFilter, ObjectRow,
  ObjectSelector, PosixAttrs, PutReservation, SymlinkRow,
} from './interface.js';
import { bulkInsertObjects, type BulkObject } from './sqlite/bulk.js';
import * as cache from './sqlite/cache.js';
import { Connection } from './sqlite/connection.js';
import type { Ctx } from './sqlite/context.js';
import * as ext from './sqlite/extents.js';
import * as journal from './sqlite/journal.js';
import * as media from './sqlite/media.js';
import * as ns from './sqlite/namespace.js';
import * as obj from './sqlite/objects.js';
import * as put from './sqlite/put.js';

export type { BulkObject } from './sqlite/bulk.js';

export interface SqliteCatalogOptions {
  /** How long a writer waits for another process' transaction (ms, default 5000). */
  busyTimeoutMs?: number;
  /** Clock for time stamps (default Date.now). */
  now?: () => number;
  /** Liveness of put owners (default: signal 0 to the pid). */
  ownerAlive?: (pid: number) => boolean;
  /** How long a deferred write (CommitOpts.defer) may wait for its commit, in ms (default 0: none waits). */
  commitDelayMs?: number;
}

export class SqliteCatalog implements Catalog {
  private readonly c: Ctx;

  /** Opens (creating if needed) and migrates the catalog at `file`; its directory must exist. */
  constructor(readonly file: string, opts: SqliteCatalogOptions = {}) {
    this.c = {
      conn: new Connection(file, { busyTimeoutMs: opts.busyTimeoutMs, commitDelayMs: opts.commitDelayMs }),
      now: opts.now ?? Date.now,
      ownerAlive: opts.ownerAlive ?? pidAlive,
    };
  }

  /** One write transaction; unless `durable: false`, resolved once the commit is durable (Connection.sync). */
  private async w<T>(fn: (c: Ctx) => T, opts?: CommitOpts): Promise<T> {
    const out = this.c.conn.write(() => fn(this.c), { defer: opts?.defer === true && opts.durable === false });
    if (opts?.durable !== false) await this.c.conn.sync();
    return out;
  }

  private async r<T>(fn: (c: Ctx) => T): Promise<T> {
    return this.c.conn.read(() => fn(this.c));
  }

  /** Lazy commits become durable before the catalog closes (a clean stop loses nothing to a later power cut). */
  async close(): Promise<void> {
    if (!this.c.conn.isOpen) return;
    try {
      await this.c.conn.sync();
    } finally {
      await this.c.conn.close();
    }
  }

  sync(): Promise<void> {
    return this.c.conn.sync();
  }

  /** Benchmarks and imports only: alive objects without copies, one transaction for the whole batch. */
  bulkInsertObjects(objects: readonly BulkObject[]): Promise<number> {
    return this.w((c) => bulkInsertObjects(c, objects));
  }

  /** Whether WAL checkpoints run on the connection's worker thread (tests). */
  get checkpointsOffThread(): boolean {
    return this.c.conn.checkpointsOffThread;
  }

  /** Whether a commit is not yet known durable, for tests of what syncs and what does not. */
  get syncPending(): boolean {
    return this.c.conn.syncPending;
  }

  /** Query plan of `sql`, for tests that guard index use. */
  explain(sql: string, ...args: unknown[]): string[] {
    return (this.c.conn.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
  }

  // media
  addMedia(m: NewMedium[]): Promise<void> { return this.w((c) => media.addMedia(c, m)); }
  getMedium(family: Family, name: string): Promise<MediumRow | null> { return this.r((c) => media.getMedium(c, family, name)); }
  listMedia(f?: { family?: Family; names?: string[]; tags?: string[] }): Promise<MediumRow[]> { return this.r((c) => media.listMedia(c, f)); }
  updateMedium(family: Family, name: string, patch: MediumPatch): Promise<MediumRow> {
    return this.w((c) => media.updateMedium(c, family, name, patch));
  }
  deleteMedia(family: Family, names: string[]): Promise<void> { return this.w((c) => media.deleteMedia(c, family, names)); }

  // drives and library elements
  addDrives(d: Omit<DriveRow, 'createdAt' | 'nbErrors' | 'loaded'>[]): Promise<void> { return this.w((c) => media.addDrives(c, d)); }
  getDrive(name: string): Promise<DriveRow | null> { return this.r((c) => media.getDrive(c, name)); }
  listDrives(): Promise<DriveRow[]> { return this.r((c) => media.listDrives(c)); }
  updateDrive(name: string, patch: DrivePatch): Promise<DriveRow> { return this.w((c) => media.updateDrive(c, name, patch)); }
  deleteDrives(names: string[]): Promise<void> { return this.w((c) => media.deleteDrives(c, names)); }
  getLibraryElements(): Promise<LibraryElement[]> { return this.r((c) => media.getLibraryElements(c)); }
  setLibraryElements(e: LibraryElement[]): Promise<void> { return this.w((c) => media.setLibraryElements(c, e)); }

  // put protocol
  beginPut(args: BeginPutArgs, opts?: CommitOpts): Promise<PutReservation> { return this.w((c) => put.beginPut(c, args), opts); }
  addPendingExtents(res: PutReservation, e: NewExtent[], opts?: CommitOpts): Promise<ExtentRow[]> { return this.w((c) => put.addPendingExtents(c, res, e), opts); }
  commitPut(args: CommitPutArgs): Promise<ObjectRow> { return this.w((c) => put.commitPut(c, args)); }
  abortPut(res: PutReservation): Promise<ExtentRow[]> { return this.w((c) => put.abortPut(c, res)); }
  listReservations(): Promise<PutReservation[]> { return this.r((c) => put.listReservations(c)); }

  // objects
  getObject(sel: ObjectSelector & { mode?: ListMode }): Promise<ObjectRow | null> { return this.r((c) => obj.getObject(c, sel)); }
  listObjects(f?: ObjectFilter): Promise<ObjectRow[]> { return this.r((c) => obj.listObjects(c, f)); }
  countObjects(mode?: ListMode): Promise<number> { return this.r((c) => obj.countObjects(c, mode)); }
  deprecate(oid: string, o?: CommitOpts): Promise<ObjectRow> { return this.w((c) => obj.deprecate(c, oid), o); }
  undelete(oid: string, uuid?: string): Promise<ObjectRow> { return this.w((c) => obj.undelete(c, oid, uuid)); }
  hardDelete(oid: string, uuid?: string): Promise<ExtentRow[]> { return this.w((c) => obj.hardDelete(c, oid, uuid)); }
  renameObject(oid: string, newOid: string): Promise<ObjectRow> { return this.w((c) => obj.renameObject(c, oid, newOid)); }
  setObjectAttrs(oid: string, patch: Partial<PosixAttrs>, o?: CommitOpts): Promise<ObjectRow> { return this.w((c) => obj.setObjectAttrs(c, oid, patch), o); }
  setUserMd(oid: string, md: Record<string, string>, o?: CommitOpts): Promise<ObjectRow> { return this.w((c) => obj.setUserMd(c, oid, md), o); }

  // copies and extents
  listCopies(uuid: string, version: number): Promise<CopyRow[]> { return this.r((c) => ext.listCopies(c, uuid, version)); }
  deleteCopy(uuid: string, version: number, copyName: string): Promise<ExtentRow[]> {
    return this.w((c) => ext.deleteCopy(c, uuid, version, copyName));
  }
  listExtents(f: ext.ExtentFilter): Promise<ExtentRow[]> { return this.r((c) => ext.listExtents(c, f)); }
  removeExtents(ids: number[]): Promise<void> { return this.w((c) => ext.removeExtents(c, ids)); }
  setExtentState(ids: number[], state: ExtentState): Promise<void> { return this.w((c) => ext.setExtentState(c, ids, state)); }

  // namespace
  lookup(path: string): Promise<NsEntry | null> { return this.r((c) => ns.lookup(c, path)); }
  readdir(path: string): Promise<NsEntry[]> { return this.r((c) => ns.readdir(c, path)); }
  mkdir(path: string, attrs: PosixAttrs, opts?: { parents?: boolean } & CommitOpts): Promise<DirRow> {
    return this.w((c) => ns.mkdir(c, path, attrs, { parents: opts?.parents }), opts);
  }
  rmdir(path: string, o?: CommitOpts): Promise<void> { return this.w((c) => ns.rmdir(c, path), o); }
  symlink(path: string, target: string, attrs: PosixAttrs, o?: CommitOpts): Promise<SymlinkRow> { return this.w((c) => ns.symlink(c, path, target, attrs), o); }
  unlinkSymlink(path: string, o?: CommitOpts): Promise<void> { return this.w((c) => ns.unlinkSymlink(c, path), o); }
  setEntryAttrs(path: string, patch: Partial<PosixAttrs>, o?: CommitOpts): Promise<NsEntry> { return this.w((c) => ns.setEntryAttrs(c, path, patch), o); }
  rename(src: string, dst: string, o?: CommitOpts): Promise<void> { return this.w((c) => ns.rename(c, src, dst), o); }

  // versions written through the disk cache, and its entries
  async createVersion(args: CreateVersionArgs): Promise<ObjectRow> {
    return this.w((c) => cache.createVersion(c, args), { durable: args.durable });
  }
  setObjectSize(uuid: string, version: number, size: number, mtime: number, o?: CommitOpts & { attrs?: Partial<PosixAttrs> }): Promise<ObjectRow> {
    return this.w((c) => cache.setObjectSize(c, uuid, version, size, mtime, o?.attrs), o);
  }
  upsertCacheEntries(e: CacheEntryInput[], o?: CommitOpts): Promise<void> { return this.w((c) => cache.upsertCacheEntries(c, e), o); }
  getCacheEntry(uuid: string, version: number): Promise<CacheEntryRow | null> { return this.r((c) => cache.getCacheEntry(c, uuid, version)); }
  listCacheEntries(f?: { states?: CacheEntryState[] }): Promise<CacheEntryRow[]> { return this.r((c) => cache.listCacheEntries(c, f)); }
  deleteCacheEntries(keys: { uuid: string; version: number }[], o?: CommitOpts): Promise<number> { return this.w((c) => cache.deleteCacheEntries(c, keys), o); }

  // logs and state
  addLog(log: NewLog): Promise<void> { return this.w((c) => journal.addLog(c, log)); }
  listLogs(f?: LogFilter): Promise<LogRow[]> { return this.r((c) => journal.listLogs(c, f)); }
  clearLogs(f?: LogFilter): Promise<number> { return this.w((c) => journal.clearLogs(c, f)); }
  getState(key: string): Promise<string | null> { return this.r((c) => journal.getState(c, key)); }
  setState(key: string, value: string): Promise<void> { return this.w((c) => journal.setState(c, key, value)); }
}
