import type { Family } from '../catalog/interface.js';
import type { MediumIO } from '../media/interface.js';

/**
 * The scheduler (Phobos' LRS) between the layouts and the media: it chooses
 * media, mounts cartridges, orders reads per medium and groups syncs.
 * Layouts ask; they never block on drives themselves.
 */

export interface WriteAllocRequest {
  family: Family;
  /** The medium must carry every one of these tags. */
  tags: string[];
  /** Distinct media needed at once (raid1: repl_count, raid4: 3). */
  count: number;
  /** Bytes wanted on each medium. A slot may offer less room: the layout then splits. */
  size: number;
  /** Media this put already uses for the same split: never granted again. */
  exclude?: string[];
  grouping?: string | null;
  /**
   * Puts of one batch (a flush group, a `put --file` list) are written back
   * to back on the cartridges the first of them got, while those have room:
   * data written together is read back together.
   */
  batch?: string;
}

export interface WriteSlot {
  io: MediumIO;
  /** Bytes that fit on this medium now. */
  room: number;
}

export interface WriteGrant {
  slots: WriteSlot[];
  /**
   * The layout has written its extents on the slots (or failed). Frees the
   * media for the next writer at once; the promise resolves when the bytes
   * are synced (a put is acknowledged only then) and rejects if the sync failed.
   */
  complete(outcome: { ok: true; bytes: number[] } | { ok: false; error: unknown }): Promise<void>;
}

export interface ReadCandidate {
  family: Family;
  medium: string;
  address: string;
  position: number;
  size: number;
}

export interface ReadRequest {
  /** Alternatives holding the same bytes (replicas): the scheduler picks the cheapest. */
  candidates: ReadCandidate[];
  /** Requests of one batch (get --file, a FUSE burst) share a tag, for the counters. */
  batch?: string;
}

export interface ReadGrant {
  io: MediumIO;
  candidate: ReadCandidate;
  /** The read is done: the drive moves to the next request of its queue. */
  release(outcome: { ok: true; bytes: number } | { ok: false; error: unknown }): void;
}

export interface SchedulerCounters {
  mounts: number;
  unmounts: number;
  syncs: number;
  locate_s: number;
  bytes_read: number;
  bytes_written: number;
  reads: number;
  writes: number;
  wait_p50_s: number;
  wait_p99_s: number;
}

export interface QueueStatus {
  medium: string;
  family: Family;
  reads: number;
  writes: number;
  bytes: number;
  oldestWaitS: number;
}

export interface DriveActivity {
  drive: string;
  model: string;
  admStatus: string;
  loaded: string | null;
  /** idle, loading, unloading, locating, reading, writing, syncing, formatting, failed. */
  activity: string;
  position: number;
}

export interface SchedulerStatus {
  drives: DriveActivity[];
  queues: QueueStatus[];
  counters: SchedulerCounters;
}

export interface IoScheduler {
  allocWrite(req: WriteAllocRequest): Promise<WriteGrant>;
  read(req: ReadRequest): Promise<ReadGrant>;
  /** Opens a medium for deleting extents (dir media only; tape space comes back by repack). */
  openForDelete(family: Family, medium: string): Promise<MediumIO | null>;
  status(): SchedulerStatus;
  /** Waits for queued work, syncs what is written, unloads nothing. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
