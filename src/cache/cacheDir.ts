/**
 * The cache directory as plain file-system facts: one file per object
 * version named `<uuid>.<version>`, written in place; recalls written to a
 * hidden temporary name and renamed whole (a crash leaves a dot-file, never
 * a half file under a real name). What `recover` trusts is only what is
 * here and what the catalog says.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DeimosError, shared } from '../core/index.js';
import type { ObjectSource } from '../layout/index.js';
import { syncDir } from '../media/index.js';
import { AtomicFile } from '../store/index.js';
import { SpareFiles, type NewFile } from './spareFiles.js';

const NAME_RE = /^[0-9a-f-]{36}\.[1-9][0-9]*$/;

export class CacheDir {
  private spares: SpareFiles | null = null;

  constructor(readonly root: string) {}

  static fileName(uuid: string, version: number): string {
    return `${uuid}.${version}`;
  }

  /** Names the cache gave its files; anything else in the directory is not ours. */
  static isCacheName(name: string): boolean {
    return NAME_RE.test(name);
  }

  path(file: string): string {
    return join(this.root, file);
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  /**
   * From now on new objects' files are spares made ahead (see SpareFiles):
   * call it once recover has removed the files no entry claims, which
   * spares are until taken.
   */
  keepSpares(count: number): void {
    if (this.spares || count <= 0) return;
    this.spares = new SpareFiles(this.root, count, (uuid) => CacheDir.fileName(uuid, 1));
    this.spares.start();
  }

  async dropSpares(): Promise<void> {
    await this.spares?.stop();
    this.spares = null;
  }

  /** An empty file (truncating a leftover of the same name). */
  async createEmpty(file: string): Promise<void> {
    const fh = await this.createOpen(file);
    await fh.close();
  }

  /** A new empty file (truncating a leftover of the same name), open for reading and writing: its first handle. */
  async createOpen(file: string): Promise<FileHandle> {
    return open(this.path(file), 'w+', 0o600);
  }

  /** The empty file of a new object's first version, under a new uuid, open for reading and writing: a spare when one is ready. */
  async createNew(): Promise<NewFile> {
    const spare = this.spares?.take();
    if (spare) return spare;
    const uuid = randomUUID();
    const file = CacheDir.fileName(uuid, 1);
    return { uuid, file, fh: await this.createOpen(file) };
  }

  async openRw(file: string): Promise<FileHandle> {
    try {
      return await open(this.path(file), 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new DeimosError('EIO', `cache file ${file} is missing`, 'the cache directory was changed behind deimos; see the service log');
      }
      throw e;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(this.path(from), this.path(to));
  }

  async remove(file: string): Promise<void> {
    await unlink(this.path(file)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async size(file: string): Promise<number | null> {
    try {
      return (await stat(this.path(file))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Makes the file creations and renames in the directory so far durable; concurrent callers share fsyncs. */
  readonly sync = shared(() => syncDir(this.root));

  /** A recall's destination: appears under `file` whole, on commit, or not at all. */
  stagingFile(file: string): Promise<AtomicFile> {
    return AtomicFile.create(this.path(file));
  }

  /** Cache files by name, and leftovers (temporary files of interrupted recalls, foreign names). */
  async scan(): Promise<{ files: Map<string, number>; leftovers: string[] }> {
    const files = new Map<string, number>();
    const leftovers: string[] = [];
    for (const d of await readdir(this.root, { withFileTypes: true })) {
      if (!d.isFile()) continue;
      if (CacheDir.isCacheName(d.name)) files.set(d.name, (await stat(this.path(d.name))).size);
      else if (d.name.startsWith('.')) leftovers.push(d.name);
    }
    return { files, leftovers };
  }

  /** The first `size` bytes of a cache file, as a put's source; `before` is awaited before each block is read. */
  async source(file: string, size: number, blockSize: number, before?: () => Promise<void>): Promise<ObjectSource & { close(): Promise<void> }> {
    const fh = await open(this.path(file), 'r');
    return {
      size,
      async *read(offset: number, length: number) {
        let pos = offset;
        const end = Math.min(offset + length, size);
        while (pos < end) {
          const want = Math.min(blockSize, end - pos);
          if (before) await before();
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await fh.read(buf, 0, want, pos);
          if (bytesRead === 0) {
            throw new DeimosError('EIO', `cache file ${file} shrank while it was flushed`, 'it is flushed again once it stops changing');
          }
          pos += bytesRead;
          yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
        }
      },
      close: () => fh.close(),
    };
  }
}
