/**
 * Empty files made ahead of need, open, under hidden names in the cache
 * directory: a new cache file is a spare renamed to its name, so the create
 * of a small file through the mount does not wait for the file system to
 * allocate an inode. That wait is long where many files were just deleted
 * (ext4 without a journal scans past every inode freed in the last seconds:
 * 0.6–1.2 ms per create here after a benchmark's `rm -rf`, against 70 µs),
 * and `rsync` creates its files one after the other. Spares are refilled in
 * the background, one at a time. A crash leaves them as dot-files, which
 * recover removes with the other leftovers.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

interface Spare {
  name: string;
  fh: FileHandle;
}

export class SpareFiles {
  private readonly spares: Spare[] = [];
  private filling: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly root: string, private readonly target: number) {}

  /** Starts making spares. */
  start(): void {
    this.refill();
  }

  /**
   * An empty file, open for reading and writing, renamed to `path`
   * (replacing a file of that name); null when none is ready.
   */
  async takeAs(path: string): Promise<FileHandle | null> {
    const s = this.spares.pop();
    if (this.spares.length < this.target / 2) this.refill();
    if (!s) return null;
    try {
      await rename(join(this.root, s.name), path);
      return s.fh;
    } catch {
      await s.fh.close().catch(() => undefined);
      return null;
    }
  }

  /** Stops refilling; closes and removes the spares left. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.filling;
    for (const s of this.spares.splice(0)) {
      await s.fh.close().catch(() => undefined);
      await unlink(join(this.root, s.name)).catch(() => undefined);
    }
  }

  private refill(): void {
    if (this.filling || this.stopped) return;
    this.filling = (async () => {
      try {
        while (!this.stopped && this.spares.length < this.target) {
          const name = `.spare-${randomUUID()}`;
          this.spares.push({ name, fh: await open(join(this.root, name), 'wx+', 0o600) });
        }
      } catch {
        // A full or failing disk: creates make their own files (and report the error).
      } finally {
        this.filling = null;
      }
    })();
  }
}
