/**
 * The cleaner: one loop, woken by a kick, that keeps the cache between its
 * watermarks by evicting clean files least recently used first. A writer or
 * a recall that needs room kicks it and waits for its pass (rclone's
 * vfscache cleaner, without the ticker: nothing grows the cache without
 * telling us, so there is nothing to poll).
 */
import type { Logger } from '../core/index.js';
import { Kick } from './timers.js';

export interface Evictable {
  size: number;
  lastAccess: number;
}

export interface CleanerDeps<T extends Evictable> {
  capacity: number;
  high: number;
  low: number;
  /** Bytes the cache holds (and has promised to recalls in progress). */
  used(): number;
  /** Entries that may be evicted now (clean, not open, not busy). */
  candidates(): T[];
  /** Evicts one; false when it turned out busy meanwhile. */
  evict(entry: T): Promise<boolean>;
  log?: Logger;
}

/** Least recently used first, until `used` would be at most `target`. */
export function pickVictims<T extends Evictable>(candidates: readonly T[], used: number, target: number): T[] {
  const out: T[] = [];
  let u = used;
  for (const c of [...candidates].sort((a, b) => a.lastAccess - b.lastAccess)) {
    if (u <= target) break;
    out.push(c);
    u -= c.size;
  }
  return out;
}

export class Cleaner<T extends Evictable> {
  private readonly kick = new Kick();
  private stopped = false;
  /** Room asked for by waiting writers: the next pass frees that much below capacity too. */
  private need = 0;
  private passWaiters: (() => void)[] = [];
  private readonly done: Promise<void>;

  constructor(private readonly d: CleanerDeps<T>) {
    this.done = this.loop();
  }

  /** Starts a pass if the cache is above its high watermark. */
  poke(): void {
    if (this.d.used() > this.d.high) this.kick.kick();
  }

  /**
   * Room for `bytes` more: at once if it fits, else after a pass. False
   * when even then it does not fit (everything left is dirty, open or busy).
   */
  async makeRoom(bytes: number): Promise<boolean> {
    if (this.d.used() + bytes <= this.d.capacity) return true;
    if (this.stopped) return false;
    this.need = Math.max(this.need, bytes);
    await new Promise<void>((r) => { this.passWaiters.push(r); this.kick.kick(); });
    return this.d.used() + bytes <= this.d.capacity;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.kick.kick();
    await this.done;
    for (const w of this.passWaiters.splice(0)) w();
  }

  private async loop(): Promise<void> {
    for (;;) {
      await this.kick.next();
      if (this.stopped) return;
      const waiters = this.passWaiters.splice(0);
      const need = this.need;
      this.need = 0;
      try {
        await this.pass(need);
      } catch (e) {
        this.d.log?.error({ err: e }, 'cache eviction pass failed');
      }
      for (const w of waiters) w();
    }
  }

  /** Evicts down to the low watermark, or lower when writers wait for room. */
  async pass(need = 0): Promise<number> {
    const used = this.d.used();
    if (used <= this.d.high && used + need <= this.d.capacity) return 0;
    const target = Math.min(this.d.low, this.d.capacity - need);
    let evicted = 0;
    for (const victim of pickVictims(this.d.candidates(), used, target)) {
      if (this.d.used() <= target) break;
      if (await this.d.evict(victim)) evicted++;
    }
    return evicted;
  }
}
