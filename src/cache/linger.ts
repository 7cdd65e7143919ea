/**
 * A cache file's descriptor stays open a moment after the last handle of
 * its entry closes: the next open of the entry (rsync opens each file it
 * has just written again, read-only, to chmod it; the flusher fdatasyncs it
 * before its put) then needs no open(2), and the close no close(2), each a
 * round trip through the libuv pool on the path of a FUSE op. At most `max`
 * descriptors linger, each at most `ms`; an entry dropped from the cache
 * (evicted, forgotten) closes its descriptor at once.
 */
import type { Logger } from '../core/index.js';
import type { Entry } from './entry.js';

export class Lingering {
  private readonly timers = new Map<Entry, NodeJS.Timeout>();

  constructor(private readonly max: number, private readonly ms: number, private readonly log: Logger) {}

  /** The last handle of `e` closed: its descriptor closes after `ms`, or sooner when `max` others linger. */
  keep(e: Entry): void {
    if (!e.fh) return;
    this.stop(e);
    if (this.max <= 0 || this.ms <= 0) {
      this.closeIfUnused(e);
      return;
    }
    const t = setTimeout(() => this.close(e), this.ms);
    t.unref();
    this.timers.set(e, t);
    if (this.timers.size > this.max) this.close(this.timers.keys().next().value!);
  }

  /** Closes `e`'s lingering descriptor now, unless the entry is open again (its last close lingers it again). */
  close(e: Entry): void {
    if (!this.timers.has(e)) return;
    this.stop(e);
    this.closeIfUnused(e);
  }

  /** Descriptors lingering now. */
  get size(): number {
    return this.timers.size;
  }

  /** Closes every lingering descriptor (shutdown). */
  async closeAll(): Promise<void> {
    const entries = [...this.timers.keys()];
    for (const e of entries) this.stop(e);
    await Promise.all(entries.map((e) => (e.openCount === 0 ? e.closeHandle() : undefined)?.catch((err: unknown) => this.log.warn({ err, key: e.key }, 'closing a cache file'))));
  }

  private stop(e: Entry): void {
    const t = this.timers.get(e);
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(e);
  }

  private closeIfUnused(e: Entry): void {
    if (e.openCount > 0) return;
    e.closeHandle().catch((err: unknown) => this.log.warn({ err, key: e.key }, 'closing a cache file'));
  }
}
