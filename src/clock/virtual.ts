import { DeimosError } from '../core/errors.js';
import type { Clock } from './interface.js';

/**
 * A deterministic discrete-event clock. `sleep(ms)` only registers a timer;
 * simulated time jumps to the earliest timer when the process has nothing
 * else to do, so a run of hours of tape work takes milliseconds and gives
 * the same timings every time.
 *
 * The rule for "nothing else to do" (checked from a setImmediate loop, which
 * runs after microtasks, nextTicks and the poll phase's I/O callbacks):
 *   - no libuv request is in flight (fs, dns, close — the `*Req*` entries of
 *     process.getActiveResourcesInfo()), so a file write of the sim finishes
 *     before time moves on;
 *   - and that has held for `quietTurns` consecutive turns, so short chains
 *     of immediates and I/O callbacks settle too.
 * Then exactly one timer fires (earliest time, ties in insertion order) and
 * the rule is checked again before the next one: each continuation and its
 * I/O complete before any other timer fires, which is what makes runs with
 * real file I/O reproducible.
 *
 * Work that runs before its first sleep is not ordered by the clock: it
 * races as any async code does.
 *
 * Not waited for: real timers (setTimeout), worker threads, child processes
 * and sockets. Code that awaits those while others sleep on this clock will
 * see time jump past it.
 */

interface Timer { at: number; seq: number; resolve: () => void }

export interface VirtualClockOptions {
  /** Simulated ms at creation. */
  start?: number;
  /** Idle event-loop turns required before time jumps (default 3). */
  quietTurns?: number;
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private readonly quietTurns: number;
  private quiet = 0;
  private looping = false;
  private stopped = false;

  constructor(opts: VirtualClockOptions = {}) {
    this.t = opts.start ?? 0;
    this.quietTurns = Math.max(1, opts.quietTurns ?? 3);
  }

  now(): number {
    return this.t;
  }

  seconds(): number {
    return this.t / 1000;
  }

  sleep(ms: number): Promise<void> {
    if (Number.isNaN(ms)) throw new DeimosError('EINVAL', 'sleep(NaN) on the virtual clock', 'a duration computation went wrong upstream');
    // After stop() nobody should be waiting: such a sleeper is left pending rather than woken into a torn-down world.
    if (this.stopped) return new Promise<void>(() => {});
    return new Promise<void>((resolve) => {
      this.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
      this.kick();
    });
  }

  /** Timers waiting to fire. */
  pending(): number {
    return this.heap.length;
  }

  /** Drops every pending timer (their sleeps never resolve) and stops advancing. */
  stop(): void {
    this.stopped = true;
    this.heap.length = 0;
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    this.quiet = 0;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    if (this.stopped || this.heap.length === 0) {
      this.looping = false;
      return;
    }
    this.quiet = ioInFlight() ? 0 : this.quiet + 1;
    if (this.quiet >= this.quietTurns) {
      this.quiet = 0;
      const timer = this.pop();
      this.t = Math.max(this.t, timer.at);
      timer.resolve();
    }
    setImmediate(this.turn);
  };

  // A binary min-heap on (at, seq).
  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A libuv request (file system, close, dns) has not delivered its callback yet. */
function ioInFlight(): boolean {
  return process.getActiveResourcesInfo().some((name) => name.includes('Req'));
}
