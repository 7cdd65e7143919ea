import type { Readable } from 'node:stream';
import type { Checksums, Family, LayoutDesc } from '../catalog/interface.js';

/**
 * What each extent file carries about itself, so that a catalog can be
 * rebuilt from the media alone.
 */
export interface ExtentHeader {
  oid: string;
  uuid: string;
  version: number;
  copyName: string;
  layout: LayoutDesc;
  layoutIndex: number;
  splitIndex: number;
  /** Offset in the object of the split this extent belongs to. */
  offset: number;
  /** Bytes of the object covered by the split. */
  length: number;
  /** Payload bytes in this extent. */
  size: number;
  /**
   * Random per put attempt, part of the address: a retry of a failed put
   * (same uuid, version and copy) never lands on an address that an orphan
   * of the failed attempt still holds, so purging that orphan cannot delete
   * the retry's bytes.
   */
  attempt?: string;
  checksums: Checksums;
}

/** An extent's payload opened for positional reads. */
export interface PayloadReader {
  /** Payload bytes (the trailer excluded). */
  readonly size: number;
  /** Reads into `buf` from payload offset `position`; 0 at the end of the payload. Errors are mapped like readExtent's. */
  read(buf: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface WrittenExtent {
  address: string;
  /** Start position on the medium (tape); 0 for dir. */
  position: number;
  size: number;
}

/** Space of a medium as its file system reports it. */
export interface MediumSpace {
  total: number;
  used: number;
  free: number;
}

/**
 * An opened medium ready for I/O (a directory, or a cartridge loaded in a
 * drive). Bytes are durable only after `sync()`.
 */
export interface MediumIO {
  readonly family: Family;
  readonly name: string;
  /** Address an extent with this header will get: known before writing, so a pending extent can be recorded first. */
  addressFor(header: Omit<ExtentHeader, 'checksums'>): string;
  /**
   * Streams `header.size` payload bytes into a new extent. The header is
   * written with checksums unknown until the end; implementations write it
   * where it can be completed (a trailer, or a sidecar renamed into place).
   * A chunk of `data` is read only until the next one is asked for (copy
   * what must be kept): the layout then hands its buffer back to the source.
   */
  writeExtent(header: Omit<ExtentHeader, 'checksums'>, data: AsyncIterable<Buffer>, finish: () => Checksums): Promise<WrittenExtent>;
  /** Payload bytes of an extent, from `offset` for `length` bytes (default: all). */
  readExtent(address: string, range?: { offset?: number; length?: number }): Readable;
  /**
   * Optional positional access to an extent's payload (directory media): a
   * reader that owns its buffers and reads ahead itself, without a stream's
   * per-chunk allocations and hops. Throws like readExtent when the extent
   * is missing or damaged.
   */
  openPayload?(address: string): Promise<PayloadReader>;
  /**
   * Optional (directory media): writes an extent whose payload is the whole
   * regular file `file`, copied inside the kernel (copy_file_range), then
   * reads the written copy back through `hash`, so the checksums `finish`
   * puts in the trailer are those of the bytes stored. The file must hold
   * exactly `header.size` bytes. Durable like writeExtent.
   */
  copyExtent?(header: Omit<ExtentHeader, 'checksums'>, file: string, hash: (chunk: Buffer) => void, finish: () => Checksums): Promise<WrittenExtent>;
  /**
   * Optional (directory media): copies an extent's payload into a new
   * regular file `dest` (it must not exist) inside the kernel and sets its
   * size to the payload's, feeding the payload through `hash` as it lands in `dest`. Returns
   * the payload size. Any failure (missing extent, full destination) is
   * thrown: callers fall back to openPayload, which tells the medium's
   * errors from the sink's.
   */
  copyPayloadTo?(address: string, dest: string, hash: (chunk: Buffer) => void): Promise<number>;
  readHeader(address: string): Promise<ExtentHeader>;
  deleteExtent(address: string): Promise<void>;
  sync(): Promise<void>;
  space(): Promise<MediumSpace>;
  /** Removes partial extents left by a crash (only the owner process calls it, at start). */
  cleanTemp?(): Promise<string[]>;
  /** Every extent address on the medium (for rebuilding the catalog). */
  listExtents(): AsyncIterable<string>;
}
