/**
 * Write-behind of large files being written: while a handle that may write
 * by the direct path is open, every TICK_MS the cache takes in what it
 * wrote, and once the file has grown by STEP bytes since the last time it
 * starts an fdatasync of it in the background (not waited for, one at a
 * time per file). The kernel starts writing dirty pages back only past
 * dirty_background_ratio (gigabytes on a large machine), so a 1 GiB write
 * ended by fsync or close wrote nothing to disk until then and the fsync
 * then wrote it all; written behind, the disk works while the data still
 * arrives and the final fsync finds little left. dataUnsynced is left set:
 * these syncs are a head start, fsync and the flusher still sync.
 */
import type { Logger } from '../core/index.js';
import type { Entry } from './entry.js';

const TICK_MS = 50;
const STEP = 32 * 1024 * 1024;

interface Writer {
  entry: Entry;
  size(): number;
}

export class WriteBehind {
  private readonly writers = new Set<Writer>();
  /** Per entry: the size at the last sync started, and whether one runs. */
  private readonly synced = new WeakMap<Entry, { at: number; running: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  /** Background syncs started, for tests. */
  started = 0;

  constructor(private readonly log: Logger, private readonly step = STEP, private readonly tickMs = TICK_MS) {}

  add(w: Writer): void {
    this.writers.add(w);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  remove(w: Writer): void {
    this.writers.delete(w);
    if (this.writers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    for (const w of this.writers) {
      const e = w.entry;
      const size = w.size();
      let s = this.synced.get(e);
      if (!s) this.synced.set(e, (s = { at: 0, running: false }));
      if (s.running || size - s.at < this.step || !e.fh) continue;
      s.running = true;
      s.at = size;
      this.started++;
      e.fh.datasync().catch((err: unknown) => {
        e.syncError = err;
        this.log.warn({ err, key: e.key }, 'write-behind sync failed (the next fsync or flush of the file reports it)');
      }).finally(() => { s.running = false; });
    }
  }
}
