/**
 * Foreground I/O first: while files are open through the cache (a user
 * reading or writing through the mount), the flusher's own disk I/O — the
 * durable commit of a file it is about to put (fdatasync, catalog sync) and
 * each block it copies to its media — waits, for at most `yieldMs` from the
 * moment files started being open, so a reader or writer that keeps files
 * open all the time delays the flusher by that much and no more. A cache
 * above its high watermark (`urgent`) does not wait: writers need the
 * space that flushed files give back. Forced flushes (deimos flush,
 * user.deimos.flush) do not ask.
 *
 * Why: the flush of many small files is mostly synchronous I/O (an fsync
 * or two per file), and on a shared disk each one stalls the reads of a
 * user who is reading other data meanwhile: a cold 1 GiB read took 3.2 s
 * next to a flush backlog of 8,000 small files, 0.9 s without.
 */
import type { Timers } from './timers.js';

export class ForegroundGate {
  private open = 0;
  /** When `open` last went from 0 to 1. */
  private since = 0;
  private wake: (() => void) | null = null;
  private closed: Promise<void> | null = null;
  /** Times background I/O waited, for tests and stats. */
  yields = 0;

  constructor(private readonly timers: Timers, private readonly yieldMs: number, private readonly urgent: () => boolean) {}

  /** A file was opened (by a user: the flusher's own reads do not count). */
  enter(): void {
    if (this.open++ === 0) this.since = this.timers.now();
  }

  /** A file opened with enter() was closed. */
  leave(): void {
    if (--this.open > 0) return;
    this.open = 0;
    const w = this.wake;
    this.wake = null;
    this.closed = null;
    w?.();
  }

  /** Files open right now. */
  get active(): number {
    return this.open;
  }

  /** Resolves when background I/O may go on (see the top of this file). */
  async idle(): Promise<void> {
    let counted = false;
    while (this.open > 0 && this.yieldMs > 0 && !this.urgent()) {
      const left = this.since + this.yieldMs - this.timers.now();
      if (left <= 0) return;
      if (!counted) { this.yields++; counted = true; }
      this.closed ??= new Promise<void>((r) => { this.wake = r; });
      await this.timers.waitUntilKick(left, this.closed);
    }
  }
}
