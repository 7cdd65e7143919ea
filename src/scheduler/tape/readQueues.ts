import type { ReadCandidate, ReadGrant } from '../interface.js';
import type { CostModel, MediumOrder, QueueSummary, ReadPolicy } from '../policies/interface.js';

/** A read request while it waits for a drive. */
export interface ReadJob {
  id: number;
  /** Candidates still worth trying (failed ones are dropped). */
  candidates: ReadCandidate[];
  arrivalMs: number;
  batch?: string;
  resolve(g: ReadGrant): void;
  reject(e: unknown): void;
}

/** One medium's queue: the policy's order plus what the scheduler needs to choose mounts. */
export class MediumQueue {
  /** Job id → the candidate of that job on this medium, in arrival order. */
  readonly entries = new ArrivalMap<{ job: ReadJob; cand: ReadCandidate }>((e) => e.job.arrivalMs);
  bytes = 0;
  newestMs = -Infinity;

  constructor(readonly medium: string, readonly order: MediumOrder) {}

  get size(): number { return this.entries.size; }

  oldest(): ReadJob | undefined {
    return this.entries.first()?.job;
  }

  summary(mounted: boolean, serviceS: number): QueueSummary {
    return {
      medium: this.medium,
      reads: this.entries.size,
      bytes: this.bytes,
      oldestMs: this.oldest()?.arrivalMs ?? Infinity,
      newestMs: this.newestMs,
      mounted,
      serviceS,
    };
  }
}

/**
 * Reads queued per medium. A job with replicas sits in the queue of every
 * medium it was placed on, and leaves all of them as soon as one drive
 * takes it. Queue and job maps are kept in arrival order (a job put back
 * after a failure keeps its place), so the oldest is always the first.
 */
export class ReadQueues {
  private readonly media = new Map<string, MediumQueue>();
  private readonly jobs = new ArrivalMap<ReadJob>((j) => j.arrivalMs);
  /** When the last read request was queued, on any medium: a burst is over when this gets old. */
  newestMs = -Infinity;

  constructor(private readonly policy: ReadPolicy, private readonly costOf: (medium: string) => CostModel) {}

  get size(): number { return this.jobs.size; }

  enqueue(job: ReadJob, on: readonly ReadCandidate[], nowMs: number): void {
    this.jobs.set(job.id, job);
    this.newestMs = Math.max(this.newestMs, nowMs);
    for (const cand of on) {
      const q = this.queueFor(cand.medium);
      q.entries.set(job.id, { job, cand });
      q.bytes += cand.size;
      q.newestMs = Math.max(q.newestMs, nowMs);
      q.order.add({ id: job.id, position: cand.position, size: cand.size, arrivalMs: job.arrivalMs });
    }
  }

  /** Removes a job from every queue (served, failed or cancelled). */
  take(jobId: number): ReadJob | undefined {
    const job = this.jobs.get(jobId);
    if (job === undefined) return undefined;
    this.jobs.delete(jobId);
    for (const cand of job.candidates) {
      const q = this.media.get(cand.medium);
      const e = q?.entries.get(jobId);
      if (q === undefined || e === undefined) continue;
      q.entries.delete(jobId);
      q.bytes -= e.cand.size;
      q.order.remove(jobId);
    }
    return job;
  }

  queue(medium: string): MediumQueue | undefined {
    return this.media.get(medium);
  }

  /** The medium's queue, created empty if needed (a mounted medium keeps its order between bursts). */
  queueFor(medium: string): MediumQueue {
    let q = this.media.get(medium);
    if (q === undefined) {
      q = new MediumQueue(medium, this.policy.newOrder(medium, this.costOf(medium)));
      this.media.set(medium, q);
    }
    return q;
  }

  /** Forgets an empty queue (its medium left the drives). */
  dropIfEmpty(medium: string): void {
    if (this.media.get(medium)?.size === 0) this.media.delete(medium);
  }

  nonEmpty(): MediumQueue[] {
    return [...this.media.values()].filter((q) => q.size > 0);
  }

  oldest(): ReadJob | undefined {
    return this.jobs.first();
  }

  all(): IterableIterator<ReadJob> {
    return this.jobs.values();
  }
}

/**
 * A map kept in ascending arrival order. Arrivals come in clock order, so
 * appending is the rule; only a job put back after a failure (older than
 * the newest) costs a re-sort.
 */
export class ArrivalMap<V> {
  private readonly m = new Map<number, V>();
  private maxKey = -Infinity;

  constructor(private readonly key: (v: V) => number) {}

  get size(): number { return this.m.size; }
  get(id: number): V | undefined { return this.m.get(id); }
  delete(id: number): boolean { return this.m.delete(id); }
  first(): V | undefined { return this.m.values().next().value; }
  values(): IterableIterator<V> { return this.m.values(); }

  set(id: number, v: V): void {
    const k = this.key(v);
    if (k >= this.maxKey) {
      this.maxKey = k;
      this.m.set(id, v);
      return;
    }
    const items = [...this.m.entries(), [id, v] as [number, V]].sort((a, b) => this.key(a[1]) - this.key(b[1]) || a[0] - b[0]);
    this.m.clear();
    for (const [i, x] of items) this.m.set(i, x);
  }
}
