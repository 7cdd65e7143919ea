import { mkdir, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Checksums } from '../catalog/interface.js';
import type { Clock } from '../clock/interface.js';
import { DeimosError } from '../core/errors.js';
import type { ExtentHeader, MediumIO, MediumSpace, WrittenExtent } from './interface.js';
import { dataPath, discardUnindexed, emptyIndex, readIndex, tapeAddress, writeIndex, type IndexedExtent, type LtfsIndex } from './ltfsIndex.js';

/**
 * A cartridge seen as an LTFS volume. Extents are appended at end of data
 * (EOD); the bytes are made durable and the index (positions and headers)
 * reaches the cartridge only at sync, as a drive's buffer is flushed by a
 * filemark, so a crash loses what was written since. Every head movement and
 * every byte streamed is charged to the clock by the drive's timing model;
 * the bytes themselves live in real files (see ltfsIndex.ts).
 *
 * The volume exists for the life of the library, loaded or not: I/O needs it
 * attached to a drive, and each operation holds that drive for its duration
 * (a read stream until it ends or is destroyed — destroy a stream you stop
 * reading, or the drive stays busy).
 */

/** What the volume needs from the drive it is loaded in; the library provides it. */
export interface TapeDrive {
  readonly name: string;
  /** Head position in bytes from the beginning of tape; the volume moves it. */
  position: number;
  /** Waits until the drive is free; the returned function frees it. */
  acquire(): Promise<() => void>;
  /** The head moved or the volume changed: the library records it. Never throws. */
  settled(): Promise<void>;
  /** Fault injection and health accounting at the start of a read; throws the error to report. */
  beforeRead(): Promise<void>;
}

/** Durations in seconds on this cartridge (the library's timing model). */
export interface TapeCosts {
  locate(from: number, to: number): number;
  transfer(bytes: number): number;
  sync(): number;
}

export interface TapeVolumeOptions {
  label: string;
  /** Directory holding the cartridge's files. */
  dir: string;
  capacity: number;
  clock: Clock;
  costs: TapeCosts;
  /** Bytes per read buffer, and the quantum at which streaming time is charged. */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 4 << 20;

export class TapeVolume implements MediumIO {
  readonly family = 'tape' as const;
  readonly name: string;
  readonly capacity: number;
  private readonly dir: string;
  private readonly clock: Clock;
  private readonly costs: TapeCosts;
  private readonly chunk: number;
  /** null while blank (never formatted). */
  private idx: LtfsIndex | null;
  private readonly entries = new Map<string, IndexedExtent>();
  private dirty = false;
  private drive: TapeDrive | null = null;

  /** Reads the cartridge's index and drops the files it does not name. */
  static async open(opts: TapeVolumeOptions): Promise<TapeVolume> {
    const idx = await readIndex(opts.dir, opts.label);
    await discardUnindexed(opts.dir, idx);
    return new TapeVolume(opts, idx);
  }

  private constructor(opts: TapeVolumeOptions, idx: LtfsIndex | null) {
    this.name = opts.label;
    this.capacity = opts.capacity;
    this.dir = opts.dir;
    this.clock = opts.clock;
    this.costs = opts.costs;
    this.chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    this.idx = idx;
    for (const x of idx?.extents ?? []) this.entries.set(x.address, x);
  }

  get eod(): number {
    return this.idx?.eod ?? 0;
  }

  get blank(): boolean {
    return this.idx === null;
  }

  /** Written or deleted since the last sync. */
  get unsynced(): boolean {
    return this.dirty;
  }

  get loadedIn(): string | null {
    return this.drive?.name ?? null;
  }

  /** The library loaded the cartridge in `drive`. */
  attach(drive: TapeDrive): void {
    this.drive = drive;
  }

  /**
   * Prepares an unload; the caller holds the drive. Writes the index if
   * anything is unsynced (LTFS does at unmount), rewinds, detaches.
   */
  async unmount(): Promise<void> {
    const d = this.requireDrive();
    await this.syncHeld(d);
    await this.locate(d, 0);
    this.drive = null;
  }

  addressFor(h: Omit<ExtentHeader, 'checksums'>): string {
    return tapeAddress(h);
  }

  writeExtent(header: Omit<ExtentHeader, 'checksums'>, data: AsyncIterable<Buffer>, finish: () => Checksums): Promise<WrittenExtent> {
    return this.withDrive(async (d) => {
      const idx = this.requireFormatted();
      if (header.size > this.capacity - idx.eod) {
        throw new DeimosError('ENOSPC', `cartridge ${this.name} has ${this.capacity - idx.eod} bytes left, the extent needs ${header.size}`, 'write it to another cartridge');
      }
      await this.locate(d, idx.eod);
      const start = idx.eod;
      const uid = idx.nextUid++;
      // From here bytes reach the tape: even a failed write moves EOD, and the index must say so.
      this.dirty = true;
      let written = 0;
      const fh = await open(dataPath(this.dir), 'r+');
      try {
        const pace = this.pacer(d, start);
        for await (const chunk of data) {
          if (start + written + chunk.length > this.capacity) {
            throw new DeimosError('ENOSPC', `end of tape reached on cartridge ${this.name} after ${written} bytes`, 'write it to another cartridge');
          }
          for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off, chunk.length - off, start + written + off)).bytesWritten;
          written += chunk.length;
          idx.eod = start + written;
          await pace(written, false);
        }
        await pace(written, true);
        if (written !== header.size) {
          throw new DeimosError('EIO', `extent ${this.addressFor(header)} got ${written} bytes, its header says ${header.size}`, 'this is a bug in the writer');
        }
      } finally {
        await fh.close();
      }
      const entry: IndexedExtent = { address: this.addressFor(header), uid, position: start, size: written, header: { ...header, checksums: finish() } };
      // A rewrite of an address supersedes the old file; its bytes stay used, as on LTFS.
      this.entries.set(entry.address, entry);
      return { address: entry.address, position: start, size: written };
    });
  }

  readExtent(address: string, range: { offset?: number; length?: number } = {}): Readable {
    return Readable.from(this.readChunks(address, range), { objectMode: false, highWaterMark: this.chunk });
  }

  async readHeader(address: string): Promise<ExtentHeader> {
    this.requireDrive();
    return structuredClone(this.entry(address).header);
  }

  /** Drops the extent from the index; its bytes stay on tape (and counted) until the cartridge is repacked. */
  deleteExtent(address: string): Promise<void> {
    return this.withDrive(async () => {
      this.entry(address);
      this.entries.delete(address);
      this.dirty = true;
    });
  }

  sync(): Promise<void> {
    return this.withDrive((d) => this.syncHeld(d));
  }

  async space(): Promise<MediumSpace> {
    return { total: this.capacity, used: this.eod, free: this.capacity - this.eod };
  }

  async *listExtents(): AsyncIterable<string> {
    this.requireDrive();
    const sorted = [...this.entries.values()].sort((a, b) => a.position - b.position);
    for (const x of sorted) yield x.address;
  }

  /** Writes an empty volume (blank → empty). Refused while extents are indexed: delete or repack them first. */
  format(): Promise<void> {
    return this.withDrive(async (d) => {
      if (this.entries.size > 0) {
        throw new DeimosError('ENOTEMPTY', `cartridge ${this.name} holds ${this.entries.size} extents`, 'repack it (move its extents away) before formatting');
      }
      await this.locate(d, 0);
      await this.clock.sleep(this.costs.sync() * 1000);
      await mkdir(this.dir, { recursive: true });
      await discardUnindexed(this.dir, null);
      const idx = emptyIndex(this.name, (this.idx?.generation ?? 0) + 1);
      await discardUnindexed(this.dir, idx);
      await writeIndex(this.dir, idx);
      this.idx = idx;
      this.dirty = false;
    });
  }

  private async *readChunks(address: string, range: { offset?: number; length?: number }): AsyncGenerator<Buffer> {
    const d = this.requireDrive();
    const release = await d.acquire();
    try {
      this.requireStill(d);
      const e = this.entry(address);
      const offset = range.offset ?? 0;
      const length = Math.min(range.length ?? e.size - offset, e.size - offset);
      if (!Number.isInteger(offset) || offset < 0 || offset > e.size || !(length >= 0)) {
        throw new DeimosError('EINVAL', `range offset ${offset} length ${range.length} is outside extent ${address} (${e.size} bytes)`);
      }
      if (length === 0) return;
      const from = e.position + offset;
      await this.locate(d, from);
      await d.beforeRead();
      const fh = await open(dataPath(this.dir), 'r').catch((err: unknown) => {
        throw lost(this.name, address, err);
      });
      try {
        const pace = this.pacer(d, from);
        for (let done = 0; done < length;) {
          const buf = Buffer.allocUnsafe(Math.min(this.chunk, length - done));
          for (let got = 0; got < buf.length;) {
            const { bytesRead } = await fh.read(buf, got, buf.length - got, from + done + got);
            if (bytesRead === 0) throw lost(this.name, address, 'the data file is shorter than the index says');
            got += bytesRead;
          }
          done += buf.length;
          await pace(done, done === length);
          yield buf;
        }
      } finally {
        await fh.close();
      }
    } finally {
      await d.settled();
      release();
    }
  }

  private async syncHeld(d: TapeDrive): Promise<void> {
    if (!this.dirty || this.idx === null) return;
    // The index goes after the last data, as LTFS writes it on the data partition.
    await this.locate(d, this.idx.eod);
    await this.clock.sleep(this.costs.sync() * 1000);
    const idx: LtfsIndex = {
      ...this.idx,
      generation: this.idx.generation + 1,
      extents: [...this.entries.values()].sort((a, b) => a.position - b.position),
    };
    // The bytes first: an index must never name bytes a crash could lose.
    const fh = await open(dataPath(this.dir), 'r+');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await writeIndex(this.dir, idx);
    this.idx.generation = idx.generation;
    this.dirty = false;
  }

  private async locate(d: TapeDrive, to: number): Promise<void> {
    const s = this.costs.locate(d.position, to);
    if (s > 0) await this.clock.sleep(s * 1000);
    d.position = to;
  }

  /**
   * Charges streaming time as bytes pass the head, from a fixed start so that
   * rounding does not accumulate: the first bytes arrive before the last.
   * Time is settled at least every chunk, and at the end.
   */
  private pacer(d: TapeDrive, start: number): (done: number, last: boolean) => Promise<void> {
    const t0 = this.clock.now();
    let charged = 0;
    return async (done, last) => {
      if (!last && done - charged < this.chunk) return;
      charged = done;
      const wait = t0 + this.costs.transfer(done) * 1000 - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      d.position = start + done;
    };
  }

  private async withDrive<T>(fn: (d: TapeDrive) => Promise<T>): Promise<T> {
    const d = this.requireDrive();
    const release = await d.acquire();
    try {
      this.requireStill(d);
      return await fn(d);
    } finally {
      await d.settled();
      release();
    }
  }

  private requireDrive(): TapeDrive {
    if (this.drive === null) {
      throw new DeimosError('ENOMEDIUM', `cartridge ${this.name} is not loaded in a drive`, 'load it first (the scheduler does this for reads and writes)');
    }
    return this.drive;
  }

  /** The cartridge may have been unloaded while the operation waited for its drive. */
  private requireStill(d: TapeDrive): void {
    if (this.drive !== d) throw new DeimosError('ENOMEDIUM', `cartridge ${this.name} was unloaded from drive ${d.name}`, 'retry: the scheduler loads it again');
  }

  private requireFormatted(): LtfsIndex {
    if (this.idx === null) throw new DeimosError('EINVAL', `cartridge ${this.name} is blank`, `format it first: deimos tape format ${this.name}`);
    return this.idx;
  }

  private entry(address: string): IndexedExtent {
    const e = this.entries.get(address);
    if (!e) throw new DeimosError('ENOENT', `no extent ${address} on cartridge ${this.name}`);
    return e;
  }
}

function lost(label: string, address: string, why: unknown): DeimosError {
  const msg = why instanceof Error ? why.message : String(why);
  return new DeimosError('EIO', `cannot read extent ${address} of cartridge ${label}: ${msg}`, 'read another copy; the simulated cartridge directory was damaged', { cause: why });
}
