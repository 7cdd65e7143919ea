/**
 * Waiting for "a deadline or a kick", for the flusher and the cleaner loops.
 * On the real clock the timer is cancelled when the kick comes first, so a
 * stopped cache keeps nothing alive; on an injected clock (virtual in tests)
 * the sleep cannot be cancelled and simply resolves into a loop that looks
 * again.
 */
import type { Clock } from '../clock/index.js';

export interface Timers {
  now(): number;
  /** Resolves after `ms`, or at once when `kicked` resolves first. */
  waitUntilKick(ms: number | null, kicked: Promise<void>): Promise<void>;
}

export function timersOf(clock: Clock | undefined): Timers {
  if (clock) {
    return {
      now: () => clock.now(),
      waitUntilKick: (ms, kicked) => ms === null ? kicked : Promise.race([kicked, clock.sleep(Math.max(0, ms))]),
    };
  }
  return {
    now: () => Date.now(),
    waitUntilKick: (ms, kicked) => {
      if (ms === null) return kicked;
      let h: NodeJS.Timeout | undefined;
      // Unref'd: a pending flush deadline alone does not keep a process alive.
      const timer = new Promise<void>((r) => { h = setTimeout(r, Math.max(0, Math.min(ms, 2 ** 31 - 1))); h.unref(); });
      return Promise.race([kicked, timer]).finally(() => clearTimeout(h));
    },
  };
}

/** A level-triggered wake-up: kicks before anyone waits are not lost. */
export class Kick {
  private pending = false;
  private wake: (() => void) | null = null;

  kick(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    } else {
      this.pending = true;
    }
  }

  /** A promise that resolves at the next kick (at once if one came since the last wait). */
  next(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((r) => { this.wake = r; });
  }
}
