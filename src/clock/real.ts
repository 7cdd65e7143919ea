import { performance } from 'node:perf_hooks';
import { DeimosError } from '../core/errors.js';
import type { Clock } from './interface.js';

/** setTimeout's ceiling; longer sleeps are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Simulated durations played out in real time, scaled: with time_scale
 * 0.001 a 17 s load takes 17 ms of wall time. `now()` reports simulated ms,
 * so figures read the same on both clocks.
 */
export class RealClock implements Clock {
  private readonly t0 = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(readonly timeScale: number) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
      throw new DeimosError('EINVAL', `time scale ${timeScale} is invalid for the real clock`, 'use a positive number (1 = real time, 0.001 = a thousand times faster)');
    }
  }

  now(): number {
    return (performance.now() - this.t0) / this.timeScale;
  }

  seconds(): number {
    return this.now() / 1000;
  }

  sleep(ms: number): Promise<void> {
    if (Number.isNaN(ms)) throw new DeimosError('EINVAL', 'sleep(NaN) on the real clock', 'a duration computation went wrong upstream');
    if (this.stopped) return new Promise<void>(() => {});
    const until = performance.now() + Math.max(0, ms) * this.timeScale;
    return new Promise<void>((resolve) => {
      const arm = (): void => {
        const left = until - performance.now();
        const h = setTimeout(() => {
          this.timers.delete(h);
          // Timers may fire a fraction of a millisecond early: a sleep never ends before its time.
          if (performance.now() < until) arm();
          else resolve();
        }, Math.min(Math.max(0, left), MAX_TIMEOUT_MS));
        this.timers.add(h);
      };
      arm();
    });
  }

  /** Cancels pending sleeps (they never resolve), so the process can exit. */
  stop(): void {
    this.stopped = true;
    for (const h of this.timers) clearTimeout(h);
    this.timers.clear();
  }
}
