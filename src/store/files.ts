import { existsSync, type Stats } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeimosError } from '../core/index.js';
import type { ObjectSink, ObjectSource } from '../layout/index.js';

/**
 * A path naming an opened file itself: a medium can copy from it inside
 * the kernel without reopening a path that may since name another file.
 * Undefined without /proc.
 */
function pathOfHandle(fh: FileHandle): string | undefined {
  return HAVE_PROC_FD ? `/proc/self/fd/${fh.fd}` : undefined;
}
const HAVE_PROC_FD = existsSync('/proc/self/fd');

export async function openFileSource(path: string, blockSize: number): Promise<ObjectSource & { stat: Stats; close(): Promise<void> }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw sourceError(path, e);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new DeimosError('EINVAL', `'${path}' is not a regular file`, 'put takes a file, or - for standard input');
  }
  // Buffers the layout hands back are reused: a fresh multi-MiB buffer per
  // read costs page faults and munmap for every chunk.
  const spare: Buffer[] = [];
  return {
    size: st.size,
    stat: st,
    file: pathOfHandle(fh),
    recycle(buf: Buffer) {
      if (buf.length === blockSize && spare.length < 8) spare.push(buf);
    },
    // The next chunk is read (in the thread pool) while the layout hashes
    // and queues this one: reading and hashing no longer take turns.
    async *read(offset: number, length: number) {
      const end = offset + length;
      const readAt = async (pos: number): Promise<Buffer> => {
        const want = Math.min(blockSize, end - pos);
        const buf = want === blockSize ? spare.pop() ?? Buffer.allocUnsafe(want) : Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) {
          throw new DeimosError('EIO', `'${path}' shrank while it was being stored`, 'do not modify a file during its put; retry');
        }
        return bytesRead === want ? buf : buf.subarray(0, bytesRead);
      };
      // A read ahead may fail while the generator waits at its yield: handled at once, thrown when awaited.
      const ahead = (pos: number): Promise<Buffer> | null => {
        if (pos >= end) return null;
        const p = readAt(pos);
        p.catch(() => undefined);
        return p;
      };
      let pos = offset;
      let next = ahead(pos);
      try {
        while (next) {
          const buf = await next;
          pos += buf.length;
          next = ahead(pos);
          yield buf;
        }
      } finally {
        // Stopped early (the consumer failed): the read ahead must not outlive the generator, nor its error go unhandled.
        await next?.catch(() => undefined);
      }
    },
    close: () => fh.close(),
  };
}

function sourceError(path: string, e: unknown): DeimosError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DeimosError('ENOENT', `no such file '${path}'`, 'check the source path');
  if (code === 'EACCES') return new DeimosError('EACCES', `cannot read '${path}': permission denied`, 'check its permissions');
  if (code === 'EISDIR') return new DeimosError('EISDIR', `'${path}' is a directory`, 'put takes a file; use --file LIST for many');
  return new DeimosError('EIO', `cannot read '${path}': ${(e as Error).message}`);
}

function tempBeside(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.deimos-${randomBytes(4).toString('hex')}`);
}

/**
 * A destination file that appears whole or not at all: bytes go to a hidden
 * temporary file beside it, renamed over the destination on commit.
 */
export class AtomicFile implements ObjectSink {
  private constructor(readonly dest: string, private tmpPath: string, private fh: FileHandle) {}

  /** The hidden temporary file the bytes are in until commit. */
  get tmp(): string {
    return this.tmpPath;
  }

  static async create(dest: string): Promise<AtomicFile> {
    const tmp = tempBeside(dest);
    let fh: FileHandle;
    try {
      fh = await open(tmp, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DeimosError('ENOENT', `directory of '${dest}' does not exist`, 'create it first or choose another destination');
      if (code === 'EACCES') throw new DeimosError('EACCES', `cannot write in the directory of '${dest}'`, 'choose a destination you can write to');
      throw e;
    }
    return new AtomicFile(dest, tmp, fh);
  }

  async write(buf: Buffer, offset: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async truncate(size: number): Promise<void> {
    await this.fh.truncate(size);
  }

  /**
   * A new temporary file made by `make` (a kernel copy) takes the place of
   * the current one. Not a copy into the open file: copyfile would truncate
   * it to 0 first, and ext4 (auto_da_alloc) then writes the whole file out
   * when it is closed, which a get, like cp, does not wait for.
   */
  async replaceWith(make: (path: string) => Promise<void>): Promise<void> {
    const tmp = tempBeside(this.dest);
    let fh: FileHandle;
    try {
      await make(tmp);
      fh = await open(tmp, 'r+');
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    const old = { fh: this.fh, tmp: this.tmpPath };
    this.fh = fh;
    this.tmpPath = tmp;
    await old.fh.close().catch(() => undefined);
    await unlink(old.tmp).catch(() => undefined);
  }

  async commit(opts: { fsync: boolean }): Promise<void> {
    if (opts.fsync) await this.fh.sync();
    await this.fh.close();
    await rename(this.tmp, this.dest);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}
