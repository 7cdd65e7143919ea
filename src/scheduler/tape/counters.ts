/**
 * What the tape scheduler counts, for `status()` and the benchmarks.
 * Waits go into a log-bucket histogram (1% wide), so a service running for
 * months keeps constant memory and percentiles stay within 1%.
 */

export type Activity = 'idle' | 'loading' | 'locating' | 'reading' | 'writing' | 'syncing' | 'unloading' | 'formatting' | 'failed';
export const ACTIVITIES: readonly Activity[] = ['idle', 'loading', 'locating', 'reading', 'writing', 'syncing', 'unloading', 'formatting', 'failed'];

const STEP = Math.log(1.01);

export class WaitHistogram {
  private readonly buckets = new Map<number, number>();
  private n = 0;
  private sum = 0;

  add(seconds: number): void {
    const s = Math.max(0, seconds);
    const b = s < 1e-3 ? -1 : Math.floor(Math.log(s * 1e3) / STEP);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
    this.n++;
    this.sum += s;
  }

  get count(): number { return this.n; }
  get mean(): number { return this.n === 0 ? 0 : this.sum / this.n; }

  /** Buckets, count and sum: what it takes to go on counting in a later run. */
  toJSON(): SavedHistogram {
    return { buckets: [...this.buckets.entries()].sort((a, b) => a[0] - b[0]), n: this.n, sum: this.sum };
  }

  /** Adds a saved histogram's samples to this one (malformed entries are skipped). */
  merge(h: Partial<SavedHistogram> | undefined): void {
    for (const e of Array.isArray(h?.buckets) ? h.buckets : []) {
      const [b, c] = Array.isArray(e) ? e : [];
      if (!Number.isInteger(b) || !(typeof c === 'number' && c > 0)) continue;
      this.buckets.set(b!, (this.buckets.get(b!) ?? 0) + c);
      this.n += c;
    }
    if (typeof h?.sum === 'number' && Number.isFinite(h.sum)) this.sum += h.sum;
  }

  /** Upper edge of the bucket holding the q-quantile (0 with no samples). */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) {
      seen += this.buckets.get(b)!;
      if (seen >= rank) return b < 0 ? 0 : Math.exp((b + 1) * STEP) / 1e3;
    }
    return 0;
  }
}

export interface SavedHistogram {
  buckets: [number, number][];
  n: number;
  sum: number;
}

const TOTALS = ['mounts', 'unmounts', 'syncs', 'formats', 'locate_s', 'bytes_read', 'bytes_written', 'reads', 'writes', 'read_errors', 'load_errors'] as const;

export type SavedTapeCounters = Record<(typeof TOTALS)[number], number> & { waits: SavedHistogram };

/**
 * Totals since the store was created: a service adds what an earlier run
 * saved (savedCounters.ts) to what it counts.
 */
export class TapeCounters {
  mounts = 0;
  unmounts = 0;
  syncs = 0;
  formats = 0;
  locate_s = 0;
  bytes_read = 0;
  bytes_written = 0;
  reads = 0;
  writes = 0;
  read_errors = 0;
  load_errors = 0;
  readonly waits = new WaitHistogram();

  toJSON(): SavedTapeCounters {
    const out = Object.fromEntries(TOTALS.map((k) => [k, this[k]])) as Record<(typeof TOTALS)[number], number>;
    return { ...out, waits: this.waits.toJSON() };
  }

  add(saved: Partial<SavedTapeCounters>): void {
    for (const k of TOTALS) {
      const v = saved[k];
      if (typeof v === 'number' && Number.isFinite(v)) this[k] += v;
    }
    this.waits.merge(saved.waits);
  }
}

/** Seconds a drive spent in each activity, and what it does now. */
export class ActivityClock {
  private current: Activity = 'idle';
  private sinceMs: number;
  readonly seconds: Record<Activity, number> = Object.fromEntries(ACTIVITIES.map((a) => [a, 0])) as Record<Activity, number>;

  constructor(nowMs: number) { this.sinceMs = nowMs; }

  get activity(): Activity { return this.current; }
  get since(): number { return this.sinceMs; }

  set(a: Activity, nowMs: number): void {
    this.seconds[this.current] += Math.max(0, nowMs - this.sinceMs) / 1e3;
    this.current = a;
    this.sinceMs = nowMs;
  }

  /** Splits the time since the last change: the first `firstS` seconds were `first`, the rest `rest`. */
  settle(first: Activity, firstS: number, rest: Activity, nowMs: number, next: Activity): void {
    const total = Math.max(0, nowMs - this.sinceMs) / 1e3;
    const a = Math.min(total, firstS);
    this.seconds[first] += a;
    this.seconds[rest] += total - a;
    this.current = next;
    this.sinceMs = nowMs;
  }
}
