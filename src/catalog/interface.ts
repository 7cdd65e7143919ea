/**
 * The catalog (Phobos' DSS): value types and the `Catalog` interface that
 * every box above depends on. Async so that a PostgreSQL engine can drop in.
 * Every method is one transaction. Times are milliseconds since the epoch.
 */

export type Family = 'dir' | 'tape';
export type AdmStatus = 'locked' | 'unlocked' | 'failed';
export type FsStatus = 'blank' | 'empty' | 'used' | 'full';
export type ExtentState = 'pending' | 'sync' | 'orphan';
export type CopyStatus = 'incomplete' | 'readable' | 'complete';
export type ChecksumAlgo = 'xxh128' | 'md5';
export type Checksums = Partial<Record<ChecksumAlgo, string>>;
export type LayoutName = 'raid1' | 'raid4';

export interface LayoutDesc {
  name: LayoutName;
  /** e.g. { repl_count: '2' } for raid1. */
  params: Record<string, string>;
}

export interface PosixAttrs {
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface ObjectRow extends PosixAttrs {
  oid: string;
  uuid: string;
  version: number;
  size: number;
  userMd: Record<string, string>;
  /** Stable for the life of a uuid (all its versions): the inode shown by the mount. */
  ino: number;
  grouping: string | null;
  createdAt: number;
  /** null while alive; the time it was deprecated (overwritten or deleted) otherwise. */
  deprecatedAt: number | null;
}

export interface CopyRow {
  uuid: string;
  version: number;
  copyName: string;
  family: Family;
  layout: LayoutDesc;
  status: CopyStatus;
  createdAt: number;
}

/** Where one piece of one copy lives. */
export interface ExtentRow {
  id: number;
  uuid: string;
  version: number;
  copyName: string;
  /** raid1: replica number; raid4: 0 and 1 data halves, 2 parity. */
  layoutIndex: number;
  /** Split number when the object did not fit on one medium (0-based). */
  splitIndex: number;
  state: ExtentState;
  family: Family;
  medium: string;
  /** Medium-specific address (a relative path on dir media, a file id on tape). */
  address: string;
  /** Start position in bytes on the medium (tape); 0 on dir media. */
  position: number;
  /** Bytes stored in this extent. */
  size: number;
  /** Offset in the object of the first byte this extent covers (raid4: of its split). */
  offset: number;
  /** Bytes of the object this extent (with its siblings of the same split) covers. */
  length: number;
  checksums: Checksums;
  createdAt: number;
}

export interface MediumRow {
  family: Family;
  name: string;
  model: string | null;
  admStatus: AdmStatus;
  fsStatus: FsStatus;
  /** File system on the medium (posix for dir, ltfs for tape). */
  fsType: string;
  tags: string[];
  sizeTotal: number;
  sizeUsed: number;
  sizeFree: number;
  nbObj: number;
  nbLoad: number;
  nbErrors: number;
  lastLoad: number | null;
  putAccess: boolean;
  getAccess: boolean;
  deleteAccess: boolean;
  createdAt: number;
}

export interface NewMedium {
  family: Family;
  name: string;
  model?: string | null;
  admStatus?: AdmStatus;
  fsStatus?: FsStatus;
  fsType?: string;
  tags?: string[];
  sizeTotal?: number;
  sizeFree?: number;
}

export type MediumPatch = Partial<Pick<MediumRow,
  'admStatus' | 'fsStatus' | 'fsType' | 'tags' | 'sizeTotal' | 'sizeUsed' | 'sizeFree' | 'nbObj' | 'nbLoad'
  | 'nbErrors' | 'lastLoad' | 'putAccess' | 'getAccess' | 'deleteAccess' | 'model'>>;

export interface DriveRow {
  name: string;
  serial: string;
  model: string;
  path: string;
  admStatus: AdmStatus;
  /** Label of the cartridge in the drive, or null. */
  loaded: string | null;
  nbErrors: number;
  createdAt: number;
}

export type DrivePatch = Partial<Pick<DriveRow, 'admStatus' | 'loaded' | 'nbErrors' | 'model' | 'path'>>;

/** One slot or drive of the library and what it holds (the sim's persistent state). */
export interface LibraryElement {
  kind: 'slot' | 'drive' | 'ie';
  address: number;
  /** Cartridge label held, or null. */
  medium: string | null;
}

export type LogCause = 'load' | 'unload' | 'read' | 'write' | 'format' | 'locate' | 'sync' | 'scan';

export interface LogRow {
  id: number;
  time: number;
  /** 'drive' or 'medium' or 'library'. */
  kind: 'drive' | 'medium' | 'library';
  device: string | null;
  medium: string | null;
  cause: LogCause;
  /** 0 on success, the errno otherwise. */
  errno: number;
  message: string;
}

export type NewLog = Omit<LogRow, 'id' | 'time'> & { time?: number };

export interface LogFilter {
  kind?: LogRow['kind'];
  device?: string;
  medium?: string;
  errorsOnly?: boolean;
  since?: number;
  until?: number;
}

/** Namespace entries other than objects: directories and symlinks. */
export interface DirRow extends PosixAttrs {
  path: string;
  ino: number;
}

export interface SymlinkRow extends PosixAttrs {
  path: string;
  target: string;
  ino: number;
}

export type NsEntry =
  | { type: 'dir'; row: DirRow }
  | { type: 'file'; row: ObjectRow }
  | { type: 'symlink'; row: SymlinkRow };

/** A put in progress: reserved before any byte is written, so a crash leaves a trace. */
export interface PutReservation {
  oid: string;
  uuid: string;
  version: number;
  /** Pid of the process that owns the reservation (stale when that pid is dead). */
  owner: number;
  createdAt: number;
}

export interface BeginPutArgs {
  oid: string;
  overwrite: boolean;
  owner: number;
  /** For `copy create`: add a copy to an existing version instead of a new version. */
  copyOf?: { uuid: string; version: number };
}

export type NewExtent = Omit<ExtentRow, 'id' | 'state' | 'createdAt'>;

/** What is only known once an extent's bytes are written. */
export interface CommittedExtent {
  id: number;
  position: number;
  size: number;
  checksums: Checksums;
}

export interface CommitPutArgs {
  reservation: PutReservation;
  size: number;
  userMd: Record<string, string>;
  attrs: PosixAttrs;
  grouping: string | null;
  copy: Omit<CopyRow, 'createdAt' | 'uuid' | 'version'>;
  /** The pending extents that hold the data, now complete: marked sync with where they ended up. */
  extents: CommittedExtent[];
}

export type ListMode = 'alive' | 'deprecated' | 'deprecated-only';

export interface ObjectFilter {
  /** Exact oids (any of). */
  oids?: string[];
  /** POSIX extended regular expression on the oid (as Phobos' --pattern). */
  pattern?: string;
  /** All given user-metadata pairs must match. */
  metadata?: Record<string, string>;
  mode?: ListMode;
  limit?: number;
}

export interface ObjectSelector {
  oid?: string;
  uuid?: string;
  version?: number;
}

/** State of a cache entry (see src/cache/interface.ts for the diagram). */
export type CacheEntryState = 'dirty' | 'flushing' | 'clean' | 'staging';

/** One object version that has bytes in the disk cache of the FUSE front-end. */
export interface CacheEntryRow {
  uuid: string;
  version: number;
  /** The version's current oid: read from the object, so it follows renames. */
  oid: string;
  state: CacheEntryState;
  /** Bytes of the cache file (the object's size while dirty). */
  size: number;
  /** Name of the cache file inside the cache directory. */
  file: string;
  /** When it became dirty (null unless dirty or flushing). */
  dirtySince: number | null;
  lastAccess: number;
  /** Failed flushes in a row, and the time before which no flush is tried again. */
  flushAttempts: number;
  flushAfter: number | null;
}

export type CacheEntryInput = Omit<CacheEntryRow, 'oid'>;

/**
 * A version with no copy yet, its bytes in the disk cache: what `create` of
 * the mount makes. Same oid rules as beginPut (EEXIST without overwrite,
 * EISDIR, ENOTDIR, parents created, EBUSY while a put of the oid runs).
 */
export interface CreateVersionArgs {
  oid: string;
  overwrite: boolean;
  attrs: PosixAttrs;
  userMd?: Record<string, string>;
  size?: number;
  /**
   * The identity the caller expects (it named a cache file after it):
   * ESTALE when the catalog would choose another uuid or version. A uuid
   * that no object has yet is taken as the uuid of a new object.
   */
  expect?: { uuid: string; version: number };
  /** A dirty cache entry for the new version, inserted in the same transaction. */
  cache?: { file: string };
  /**
   * false: the commit may be lost in a crash until the catalog's next
   * durable commit, which makes it durable too (the cache makes a created
   * file durable at its close, as a file system does at fsync). Default true.
   */
  durable?: boolean;
}

/**
 * How a change commits. durable (the default): it survives a power loss
 * once the call returns. durable: false (the mount's per-file changes, as a
 * file system's metadata before fsync): it survives the service being
 * killed, and becomes durable, in commit order, with the next durable
 * commit or `sync()`.
 */
export interface CommitOpts {
  durable?: boolean;
  /**
   * Not durable, and the commit may wait for the writes that follow, up to
   * the catalog's commit delay (SqliteCatalogOptions.commitDelayMs): a
   * killed process loses it if it dies meanwhile. For metadata whose loss a
   * crash may cost (a local file system keeps it in memory until fsync).
   */
  defer?: boolean;
}

export interface Catalog {
  close(): Promise<void>;
  /** Makes every commit made so far durable (what fsync and fsyncdir of the mount wait for). */
  sync(): Promise<void>;

  // media
  addMedia(media: NewMedium[]): Promise<void>;
  getMedium(family: Family, name: string): Promise<MediumRow | null>;
  listMedia(filter?: { family?: Family; names?: string[]; tags?: string[] }): Promise<MediumRow[]>;
  updateMedium(family: Family, name: string, patch: MediumPatch): Promise<MediumRow>;
  /** Removes media that hold no sync or pending extent (EBUSY otherwise). */
  deleteMedia(family: Family, names: string[]): Promise<void>;

  // drives and library elements
  addDrives(drives: Omit<DriveRow, 'createdAt' | 'nbErrors' | 'loaded'>[]): Promise<void>;
  getDrive(name: string): Promise<DriveRow | null>;
  listDrives(): Promise<DriveRow[]>;
  updateDrive(name: string, patch: DrivePatch): Promise<DriveRow>;
  deleteDrives(names: string[]): Promise<void>;
  getLibraryElements(): Promise<LibraryElement[]>;
  /** Replaces the whole element table (the sim writes its state after each move). */
  setLibraryElements(elements: LibraryElement[]): Promise<void>;

  // objects: put protocol (begin → pending extents → commit | abort)
  /**
   * The first two steps of a put may commit lazily (`durable: false`):
   * nothing is acknowledged before commitPut, whose synced commit makes
   * them durable too (the WAL is one sequence). A killed process loses
   * nothing (the commits are in the WAL); a power cut before commitPut loses
   * the reservation and pending rows of a put that never returned, whose
   * extent bytes, if any reached a medium, are then unreferenced space (not
   * data: nothing points to them).
   */
  beginPut(args: BeginPutArgs, opts?: CommitOpts): Promise<PutReservation>;
  addPendingExtents(res: PutReservation, extents: NewExtent[], opts?: CommitOpts): Promise<ExtentRow[]>;
  commitPut(args: CommitPutArgs): Promise<ObjectRow>;
  /** Marks the reservation's pending extents orphan and drops the reservation. */
  abortPut(res: PutReservation): Promise<ExtentRow[]>;
  listReservations(): Promise<PutReservation[]>;

  // objects: reads and namespace-level changes
  getObject(sel: ObjectSelector & { mode?: ListMode }): Promise<ObjectRow | null>;
  listObjects(filter?: ObjectFilter): Promise<ObjectRow[]>;
  countObjects(mode?: ListMode): Promise<number>;
  /** Alive → deprecated (delete). ENOENT when not alive. */
  deprecate(oid: string, opts?: CommitOpts): Promise<ObjectRow>;
  /** Newest deprecated version (or the given uuid's) becomes alive again. EEXIST if the oid is alive. */
  undelete(oid: string, uuid?: string): Promise<ObjectRow>;
  /** Removes every version of the oid (or of one uuid); their extents become orphan and are returned. */
  hardDelete(oid: string, uuid?: string): Promise<ExtentRow[]>;
  /** Renames an object (all its versions move with it). */
  renameObject(oid: string, newOid: string): Promise<ObjectRow>;
  setObjectAttrs(oid: string, patch: Partial<PosixAttrs>, opts?: CommitOpts): Promise<ObjectRow>;
  setUserMd(oid: string, md: Record<string, string>, opts?: CommitOpts): Promise<ObjectRow>;

  // copies and extents
  listCopies(uuid: string, version: number): Promise<CopyRow[]>;
  /** Removes a copy; its extents become orphan and are returned. EBUSY when it is the last. */
  deleteCopy(uuid: string, version: number, copyName: string): Promise<ExtentRow[]>;
  listExtents(filter: { uuid?: string; version?: number; copyName?: string; family?: Family; medium?: string; state?: ExtentState }): Promise<ExtentRow[]>;
  /** Drops extent rows once their bytes are gone from the media; updates media usage. */
  removeExtents(ids: number[]): Promise<void>;
  setExtentState(ids: number[], state: ExtentState): Promise<void>;

  // namespace (directories and symlinks; objects are files)
  lookup(path: string): Promise<NsEntry | null>;
  /** Children of a directory ('' is the root). */
  readdir(path: string): Promise<NsEntry[]>;
  mkdir(path: string, attrs: PosixAttrs, opts?: { parents?: boolean } & CommitOpts): Promise<DirRow>;
  rmdir(path: string, opts?: CommitOpts): Promise<void>;
  symlink(path: string, target: string, attrs: PosixAttrs, opts?: CommitOpts): Promise<SymlinkRow>;
  unlinkSymlink(path: string, opts?: CommitOpts): Promise<void>;
  setEntryAttrs(path: string, patch: Partial<PosixAttrs>, opts?: CommitOpts): Promise<NsEntry>;
  /** Renames a file, symlink or directory (with everything under it). Replaces a file/symlink/empty dir at dst. */
  rename(src: string, dst: string, opts?: CommitOpts): Promise<void>;

  // versions written through the disk cache, and its entries
  /** Makes a new alive version with no copy (see CreateVersionArgs). */
  createVersion(args: CreateVersionArgs): Promise<ObjectRow>;
  /**
   * Size and mtime (ctime follows) of a version with no copy yet, and of its
   * cache entry, then `attrs` (set while the file was open), in the same
   * commit. EBUSY once it has a copy.
   */
  setObjectSize(uuid: string, version: number, size: number, mtime: number, opts?: CommitOpts & { attrs?: Partial<PosixAttrs> }): Promise<ObjectRow>;
  /** Inserts or replaces entries; ENOENT when their version does not exist. */
  upsertCacheEntries(entries: CacheEntryInput[], opts?: CommitOpts): Promise<void>;
  getCacheEntry(uuid: string, version: number): Promise<CacheEntryRow | null>;
  listCacheEntries(filter?: { states?: CacheEntryState[] }): Promise<CacheEntryRow[]>;
  /** Returns how many existed. */
  deleteCacheEntries(keys: { uuid: string; version: number }[], opts?: CommitOpts): Promise<number>;

  // logs
  addLog(log: NewLog): Promise<void>;
  listLogs(filter?: LogFilter): Promise<LogRow[]>;
  clearLogs(filter?: LogFilter): Promise<number>;

  // key/value state of boxes (counters, sim clock, schema of later issues)
  getState(key: string): Promise<string | null>;
  setState(key: string, value: string): Promise<void>;
}
