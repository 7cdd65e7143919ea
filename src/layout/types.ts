import type { ChecksumAlgo, CommittedExtent, ExtentRow, Family, LayoutDesc, NewExtent } from '../catalog/interface.js';
import type { ErrnoName } from '../core/errors.js';
import type { IoScheduler } from '../scheduler/interface.js';

export interface LayoutContext {
  scheduler: IoScheduler;
  /** Size of the blocks raid4 combines, and of the buffers layouts cut. */
  blockSize: number;
  /** Algorithms computed for every new extent. */
  checksums: ChecksumAlgo[];
}

/**
 * The bytes of an object being put. `read` may be called several times
 * (once per split, twice per split for raid4). Yielded buffers are handed to
 * several writers at once and kept in queues: a source must not reuse them,
 * except those handed back through `recycle`.
 */
export interface ObjectSource {
  size: number;
  read(offset: number, length: number): AsyncIterable<Buffer>;
  /**
   * Optional: the layout is done with a buffer `read` yielded (hashed and
   * written by every writer), and the source may fill it again. Reusing
   * buffers halves the cost of a large put: fresh 4 MiB buffers mean page
   * faults and garbage collection for every chunk.
   */
  recycle?(buf: Buffer): void;
  /**
   * Optional: the source is the whole of this regular file (a path that
   * names the opened file, e.g. /proc/self/fd/N). Lets a medium copy it
   * inside the kernel (copy_file_range) instead of through `read`.
   */
  readonly file?: string;
}

/**
 * Where a read object goes. Positional: a range written from a replica that
 * turns out corrupt is written again from a good one, so only verified bytes
 * are left once readObject resolves.
 */
export interface ObjectSink {
  /** `buf` is lent until the promise resolves (it is then reused for the next read): copy it to keep it. */
  write(buf: Buffer, offset: number): Promise<void>;
  /**
   * Optional: the sink is a regular file whose whole content can be
   * replaced by a file made elsewhere: `make(path)` creates a new file at
   * `path` (which does not exist yet) and the sink adopts it. Lets a medium
   * copy an extent into the sink inside the kernel. Use it before anything
   * else is written (or when every byte is written again afterwards).
   */
  replaceWith?(make: (path: string) => Promise<void>): Promise<void>;
}

export interface ObjectIdent {
  oid: string;
  uuid: string;
  version: number;
  copyName: string;
}

export interface WriteObjectArgs {
  header: ObjectIdent;
  layout: LayoutDesc;
  family: Family;
  tags: string[];
  grouping: string | null;
  /** See WriteAllocRequest.batch. */
  batch?: string;
  source: ObjectSource;
  /** Records the extents about to be written (state pending) before any byte is: a killed put leaves a trace. */
  onPending: (extents: NewExtent[]) => Promise<ExtentRow[]>;
}

export interface WrittenObject {
  extents: CommittedExtent[];
  /** The layout with its parameters filled in (e.g. repl_count). */
  layout: LayoutDesc;
}

export interface ReadObjectArgs {
  /** The extents of one copy. */
  extents: ExtentRow[];
  layout: LayoutDesc;
  size: number;
  sink: ObjectSink;
  /** Tag shared by the reads of one batch, for the scheduler's counters. */
  batch?: string;
}

export type BadReason = 'missing' | 'corrupt' | 'unreadable';

export interface BadExtent {
  extentId: number;
  medium: string;
  address: string;
  reason: BadReason;
  /** What went wrong, for logs. */
  detail?: string;
  /**
   * Set when the scheduler refused the read (no drive may take the medium,
   * the medium is locked): nothing was read, so the extent is not known to
   * be damaged, and the refusal says what the operator should do.
   */
  refusal?: { code: ErrnoName; message: string; hint?: string };
}

export interface ReadReport {
  bad: BadExtent[];
  /** raid4 rebuilt a data half from the other half and parity. */
  reconstructed: boolean;
}
