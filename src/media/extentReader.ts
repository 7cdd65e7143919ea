import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { readFooter } from './extentFile.js';

/** Reads large enough that a 1 GiB get is a few hundred syscalls, not tens of thousands. */
export const READ_CHUNK = 4 << 20;

export interface ExtentReaderOptions {
  file: string;
  /** Names the extent in errors ("medium m, address a"). */
  where: string;
  offset: number;
  length?: number;
  chunk?: number;
  /** Maps file-system errors (ENOENT…) to the errors callers see. */
  mapError: (e: unknown) => Error;
}

/**
 * The payload of one extent file as a stream, never its trailer: the footer
 * is read first to learn where the payload ends. Each read gets a fresh
 * buffer, so consumers may keep chunks (hash them, write them later).
 */
export class ExtentReader extends Readable {
  private fh: FileHandle | null = null;
  private pos = 0;
  private end = 0;
  private readonly opts: ExtentReaderOptions;
  private readonly chunk: number;

  constructor(opts: ExtentReaderOptions) {
    const chunk = opts.chunk ?? READ_CHUNK;
    // highWaterMark of one chunk: the next read is in flight while the consumer handles the current one.
    super({ highWaterMark: chunk });
    this.opts = opts;
    this.chunk = chunk;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.openFile().then(() => callback(), (e) => callback(this.opts.mapError(e)));
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
    const buf = Buffer.allocUnsafeSlow(want);
    this.fh!.read(buf, 0, want, this.pos).then(({ bytesRead }) => {
      if (bytesRead === 0) {
        // The file shrank under us: report it rather than hand out a short payload silently.
        this.destroy(this.opts.mapError(Object.assign(new Error('extent file ended early'), { code: 'EIO' })));
        return;
      }
      this.pos += bytesRead;
      this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }, (e) => this.destroy(this.opts.mapError(e)));
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
