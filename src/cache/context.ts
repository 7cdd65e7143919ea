/**
 * What the parts of the disk cache share. Everything hangs off one DiskCache
 * (no module-level state), and each part is a set of functions of this
 * context, as the catalog's engine is of its Ctx.
 *
 * Lock order (outermost first): a key's lock (KeyedLock) → an entry's
 * sizeChain → a catalog transaction. The cleaner only tries key locks; the
 * flusher takes none while its put runs.
 */
import type { EventEmitter } from 'node:events';
import type { Catalog, ObjectRow } from '../catalog/index.js';
import type { Logger } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { CacheDir } from './cacheDir.js';
import type { Cleaner } from './cleaner.js';
import { Entry, keyOf } from './entry.js';
import type { ForegroundGate } from './foreground.js';
import type { KeyedLock } from './keyedLock.js';
import type { Lingering } from './linger.js';
import type { WriteBehind } from './writeBehind.js';
import type { CacheOptions } from './options.js';
import type { Timers } from './timers.js';
import type { WritebackQueue } from './writeback.js';

export interface CacheCounters {
  evictions: number;
  flushes: number;
  recalls: number;
}

export interface Ctx {
  catalog: Catalog;
  store: Store;
  dir: CacheDir;
  opts: CacheOptions;
  log: Logger;
  timers: Timers;
  /** Wall time, for object attributes and the catalog's time stamps. */
  wallNow(): number;
  /** Entries by uuid.version. */
  entries: Map<string, Entry>;
  /** Entries by id (the write-back queue's key). */
  byId: Map<number, Entry>;
  locks: KeyedLock;
  /** Large files being written are synced as they grow (writeBehind.ts). */
  writeBehind: WriteBehind;
  /** Descriptors of entries nobody has open, kept a moment (linger.ts). */
  linger: Lingering;
  /** Files open by users: the flusher's I/O waits for them (foreground.ts). */
  foreground: ForegroundGate;
  queue: WritebackQueue<number>;
  cleaner: Cleaner<Entry>;
  counters: CacheCounters;
  /** Sum of the sizes of the entries (kept as they change, so a write checks room in O(1)). */
  usage: { bytes: number };
  /** 'flush-group' (ids), 'flushed' / 'flush-cancelled' (key), 'evicted' (key), 'staged' (key). */
  events: EventEmitter;
  nextId(): number;
}

export function newEntry(c: Ctx, o: { uuid: string; version: number; file: string; state: Entry['state']; size: number; mtime?: number }): Entry {
  const now = c.wallNow();
  const dirty = o.state === 'dirty';
  return new Entry(c.nextId(), o.uuid, o.version, o.file, o.state, o.size, o.mtime ?? now, now, dirty ? now : null, c.timers.now());
}

export function addEntry(c: Ctx, e: Entry): void {
  c.entries.set(e.key, e);
  c.byId.set(e.id, e);
  c.usage.bytes += e.size;
}

export function dropEntry(c: Ctx, e: Entry): void {
  c.linger.close(e);
  if (c.entries.get(e.key) === e) c.entries.delete(e.key);
  if (c.byId.delete(e.id)) c.usage.bytes -= e.size;
  c.queue.remove(e.id);
}

export function resize(c: Ctx, e: Entry, size: number): void {
  if (c.byId.get(e.id) === e) c.usage.bytes += size - e.size;
  e.size = size;
}

/** Moves an entry to another version's key (its file became that version's). */
export function rekey(c: Ctx, e: Entry, to: { uuid: string; version: number; file: string }): void {
  if (c.entries.get(e.key) === e) c.entries.delete(e.key);
  e.uuid = to.uuid;
  e.version = to.version;
  e.file = to.file;
  c.entries.set(keyOf(e), e);
}

/** The catalog's row of an entry's version, deprecated or not; null once the version is gone. */
export function versionRow(c: Ctx, o: { uuid: string; version: number }): Promise<ObjectRow | null> {
  return c.catalog.getObject({ uuid: o.uuid, version: o.version, mode: 'deprecated' });
}

/** The catalog row of an entry with the queue's retry state, in wall time. */
export function entryRow(c: Ctx, e: Entry) {
  const b = c.queue.backoff(e.id);
  const notBefore = b && b.notBefore > c.timers.now() ? c.wallNow() + (b.notBefore - c.timers.now()) : null;
  return e.row({ attempts: b?.attempts ?? 0, notBefore });
}
