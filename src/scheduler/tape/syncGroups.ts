import type { Config } from '../../core/config.js';
import type { Family } from '../../catalog/interface.js';

/**
 * Grouped syncs (Phobos' sync_time_ms / sync_nb_req / sync_wsize_kb): writes
 * on a medium accumulate in one group, and the medium is synced once when
 * the first threshold is reached — not once per object. Every writer in the
 * group is acknowledged by that one sync. The writes of one batch (a flush
 * group of the cache, a `put --file` list) count as one request, as a
 * Phobos grouped put is one: a flush of 64 small files synced every 5 files
 * spent most of the drive's time in syncs (3 s each, the whole index
 * written again each time).
 */
export interface SyncThresholds {
  timeMs: number;
  nbReq: number;
  bytes: number;
}

export function syncThresholds(config: Config, family: Family): SyncThresholds {
  return {
    timeMs: config.perFamily('lrs', 'sync_time_ms', family),
    nbReq: config.perFamily('lrs', 'sync_nb_req', family),
    bytes: config.perFamily('lrs', 'sync_wsize_kb', family) * 1024,
  };
}

interface Waiter { resolve(): void; reject(e: unknown): void }

export interface SyncGroup {
  firstMs: number;
  /** Requests: writes outside any batch, and batches. */
  nbReq: number;
  batches: Set<string>;
  bytes: number;
  waiters: Waiter[];
}

export class SyncGroups {
  private readonly groups = new Map<string, SyncGroup>();

  constructor(private readonly th: SyncThresholds) {}

  /** Records a completed write; the promise settles with the sync that covers it. */
  add(medium: string, bytes: number, nowMs: number, batch?: string): Promise<void> {
    let g = this.groups.get(medium);
    if (g === undefined) {
      g = { firstMs: nowMs, nbReq: 0, batches: new Set(), bytes: 0, waiters: [] };
      this.groups.set(medium, g);
    }
    if (batch === undefined) g.nbReq++;
    else if (!g.batches.has(batch)) {
      g.batches.add(batch);
      g.nbReq++;
    }
    g.bytes += bytes;
    const group = g;
    return new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
  }

  has(medium: string): boolean {
    return this.groups.has(medium);
  }

  due(medium: string, nowMs: number): boolean {
    const g = this.groups.get(medium);
    if (g === undefined) return false;
    return (this.th.nbReq > 0 && g.nbReq >= this.th.nbReq)
      || (this.th.bytes > 0 && g.bytes >= this.th.bytes)
      // The same sum as dueAtMs: a wake-up at that time must find it due.
      || nowMs >= g.firstMs + this.th.timeMs;
  }

  /** When the time threshold makes this medium's group due, or null without a group. */
  dueAtMs(medium: string): number | null {
    const g = this.groups.get(medium);
    return g === undefined ? null : g.firstMs + this.th.timeMs;
  }

  /** Takes the group out to be synced; the caller settles its waiters. */
  take(medium: string): SyncGroup | undefined {
    const g = this.groups.get(medium);
    this.groups.delete(medium);
    return g;
  }

  media(): string[] {
    return [...this.groups.keys()];
  }
}

export function settle(g: SyncGroup, error?: unknown): void {
  for (const w of g.waiters) {
    if (error === undefined) w.resolve();
    else w.reject(error);
  }
}
