import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { readFooter } from './extentFile.js';

/**
 * Size of one read, and of the read-ahead (the next read is in flight while
 * the consumer hashes and writes this chunk). Measured for a 1 GiB get on
 * ext4 and tmpfs (read, xxh128, positional write; 7 interleaved rounds):
 * 1 MiB/1 MiB was best, 512 KiB/1 MiB and 4 MiB clearly worse — more I/O
 * in flight at once costs more than it overlaps on this 2-CPU machine.
 */
export const READ_CHUNK = 1 << 20;
export const READ_AHEAD = READ_CHUNK;

export interface ExtentReaderOptions {
  file: string;
  /** Names the extent in errors ("medium m, address a"). */
  where: string;
  offset: number;
  length?: number;
  chunk?: number;
  /** Bytes read ahead of the consumer (default READ_AHEAD). */
  highWaterMark?: number;
  /** Maps file-system errors (ENOENT…) to the errors callers see. */
  mapError: (e: unknown) => unknown;
}

/** Buffers kept for reuse: enough for the read-ahead, the one consumed and the one being written. */
const FREE_MAX = 8;

/**
 * The payload of one extent file as a stream, never its trailer: the footer
 * is read first to learn where the payload ends.
 *
 * Chunks are fresh buffers, so a consumer may keep them, unless it hands a
 * chunk back with `recycle(chunk)` once done with it: touching fresh memory
 * for every read costs more than the read itself from the page cache
 * (measured, 4 MiB reads: 1 GiB in 1.8 s with fresh buffers, 0.4-0.7 s reusing them).
 */
export class ExtentReader extends Readable {
  private fh: FileHandle | null = null;
  private pos = 0;
  private end = 0;
  private readonly opts: ExtentReaderOptions;
  private readonly chunk: number;
  private readonly free: Buffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();

  constructor(opts: ExtentReaderOptions) {
    const chunk = opts.chunk ?? READ_CHUNK;
    super({ highWaterMark: opts.highWaterMark ?? Math.max(chunk, READ_AHEAD) });
    this.opts = opts;
    this.chunk = chunk;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.openFile().then(() => callback(), (e) => callback(this.opts.mapError(e) as Error));
  }

  private async openFile(): Promise<void> {
    this.fh = await open(this.opts.file, 'r');
    const st = await this.fh.stat();
    const { payloadSize } = await readFooter(this.fh, st.size, this.opts.where);
    this.pos = Math.min(Math.max(0, this.opts.offset), payloadSize);
    const length = this.opts.length ?? payloadSize - this.pos;
    this.end = Math.min(payloadSize, this.pos + Math.max(0, length));
  }

  override _read(): void {
    const want = Math.min(this.chunk, this.end - this.pos);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = this.nextBuffer().subarray(0, want);
    this.fh!.read(buf, 0, want, this.pos).then(({ bytesRead }) => {
      if (bytesRead === 0) {
        // The file shrank under us: report it rather than hand out a short payload silently.
        this.destroy(this.opts.mapError(Object.assign(new Error('extent file ended early'), { code: 'EIO' })) as Error);
        return;
      }
      this.pos += bytesRead;
      this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }, (e) => this.destroy(this.opts.mapError(e) as Error));
  }

  /** Hands a chunk back for reuse; the caller must not touch it afterwards. Foreign buffers are ignored. */
  recycle(chunk: Buffer): void {
    if (this.free.length < FREE_MAX && this.owned.has(chunk.buffer)) {
      this.owned.delete(chunk.buffer);
      this.free.push(Buffer.from(chunk.buffer, 0, this.chunk));
    }
  }

  private nextBuffer(): Buffer {
    const buf = this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunk);
    this.owned.add(buf.buffer);
    return buf;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = null;
    if (!fh) {
      callback(error);
      return;
    }
    fh.close().then(() => callback(error), () => callback(error));
  }
}
