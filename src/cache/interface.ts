import type { ObjectRow, PosixAttrs } from '../catalog/interface.js';

/**
 * The disk cache of the FUSE front-end (ARCHITECTURE §6): write-back of
 * files written through the mount, grouped flushes to the store, recalls
 * staged into the cache, eviction between watermarks.
 *
 * Entry states (one per object version that has bytes in the cache):
 *
 *      write/close            flusher picks it         put synced
 *   ───────────────► dirty ───────────────► flushing ─────────────► clean
 *                     ▲  ▲                     │ put failed            │ evicted (LRU,
 *                     │  └─────────────────────┘ (retry with backoff)  │ not open)
 *                     │ opened for write: a new version (renamed file)  ▼
 *                     └───────────────────────────────────────────── (gone)
 *   staging ──► clean   (recall of an offline version; readers wait in open)
 */
export type CacheState = 'dirty' | 'flushing' | 'clean' | 'staging';

/** What `user.deimos.state` shows for a file. */
export type FileState = 'dirty' | 'flushing' | 'online' | 'offline' | 'staging';

/** What the direct path did since the last take: writes, the highest end written, the last write's time, reads served (the mount's atime). */
export interface DirectCounts { writes: number; end: number; lastMs: number; reads: number }

/**
 * How a take treats direct writes afterwards: 'keep' as they are, 'stop'
 * them (returns once none is in progress), or allow those ending at or
 * before a byte limit.
 */
export type DirectMode = 'keep' | 'stop' | number;

/**
 * Writes to a handle's file that bypass write() (the mount's direct data
 * path: the FUSE layer writing the cache file itself). The cache takes their
 * counts in before it uses the entry's size or changes its state, and only
 * lets them run while the entry is a version being written.
 */
export interface DirectWrites {
  take(mode: DirectMode): DirectCounts | null;
}

/** An open file of the mount: its bytes are the cache file at `path`. */
export interface CacheHandle {
  readonly oid: string;
  readonly uuid: string;
  readonly version: number;
  /** Cache file holding the bytes. */
  readonly path: string;
  readonly fd: number;
  readonly writable: boolean;
  /** The catalog row of the object this handle's create made (not set when the create opened an existing one). */
  readonly created?: ObjectRow;
  /** Pread/pwrite through these so the cache knows the file changed and how big it is. */
  read(buf: Buffer, length: number, position: number): Promise<number>;
  write(buf: Buffer, length: number, position: number): Promise<number>;
  truncate(size: number): Promise<void>;
  /** Durable in the cache: file data and the catalog entry (not on tape). */
  fsync(): Promise<void>;
  size(): number;
  /** Writes of this handle may also come by `d` (reads at once; writes while the entry is a version being written). */
  attachDirect(d: DirectWrites): void;
}

export interface CacheStats {
  sizeBytes: number;
  usedBytes: number;
  entries: number;
  dirty: number;
  dirtyBytes: number;
  flushing: number;
  staging: number;
  evictions: number;
  flushes: number;
  recalls: number;
}

export interface FileCache {
  /** A new empty file at `oid` (O_CREAT): a new object (or version, if one is alive and `overwrite`). */
  create(oid: string, attrs: PosixAttrs, opts?: { exclusive?: boolean }): Promise<CacheHandle>;
  /**
   * Opens an alive (or given deprecated) version. Read-only opens of an
   * offline version block until it is staged. Opens for write without
   * O_TRUNC stage it first; the first write to a version that is already
   * archived makes the next version (its cache file renamed; the old bytes
   * stay on their copies). O_TRUNC of an archived version makes an empty
   * next version at once. A version never archived is changed in place.
   */
  open(obj: ObjectRow, mode: { write: boolean; truncate: boolean }): Promise<CacheHandle>;
  /**
   * Returns once the size and mtime are committed to the catalog, with
   * `attrs` (set while the file was open) in the same commit when there is
   * one: safe against a kill of the service (the bytes are in the kernel,
   * the commit in the catalog's log), not against a power loss, as close(2)
   * on a local file system. fsync is what makes a file durable. The version
   * is dirty from its creation on; the flusher takes it from there. Returns
   * the version's row.
   */
  close(h: CacheHandle, opts?: { attrs?: Partial<PosixAttrs> }): Promise<ObjectRow>;
  /** Makes the names of the cache's files durable (fsyncdir of the mount). */
  syncNames(): Promise<void>;
  /** Queues recalls (deimos stage, user.deimos.stage); with `wait`, resolves when all are staged or rejects with the first failure. */
  stage(objs: ObjectRow[], opts?: { wait: boolean }): Promise<void>;
  /** Flushes dirty entries now (all, or those of these objects); `wait` resolves after their sync. */
  flush(objs?: ObjectRow[], opts?: { wait: boolean }): Promise<void>;
  /** Drops a clean entry from the cache (user.deimos.release); EBUSY if dirty or open. */
  release(obj: ObjectRow): Promise<void>;
  stateOf(obj: ObjectRow): Promise<FileState>;
  stats(): CacheStats;
  /** At start: dirty entries found on disk and in the catalog are queued for flushing again. */
  recover(): Promise<{ dirty: number; dropped: number }>;
  /** Stops the flusher and the cleaner; dirty data stays in the cache for the next start. */
  shutdown(): Promise<void>;
}
