import type { CostModel } from '../policies/interface.js';
import { coldStartMs } from './coldStart.js';
import type { ReqType } from './fairShare.js';
import type { ReadJob } from './readQueues.js';
import { accepts, type DriveSlot, type FormatJob, type TapeState, type WriteJob } from './state.js';

/**
 * The decision step: given the state, the next thing one drive should
 * start, or null. Synchronous and side-effect free; the scheduler runs it
 * until it returns null, starting each action before asking again.
 *
 * Priorities, for a drive with cartridge M loaded:
 *   1. a due sync of M (a put is acknowledged only then), a read of M
 *      passed over for ageing_s during this mount (the oldest, or the
 *      policy's next among those: MediumOrder.nextPassedOver), the next
 *      writer of M, a format of M;
 *   2. an aged request nobody can serve gets a free drive, or else a drive
 *      that has held its cartridge for ageing_s yields between two reads
 *      (ageing: nothing waits forever behind a busy cartridge, yet a long
 *      burst where everything is old is still read in batches);
 *   3. the next read of M, in the policy's order (which may hold the
 *      drive briefly for requests about to arrive: MediumOrder.holdUntilMs);
 *   4. free drives (empty, or their cartridge has no work) take what is
 *      waiting elsewhere: cartridges of queued writes, formats, then read
 *      queues by the policy's value — within fair share;
 *   5. a locked drive with a cartridge that work waits for gives it back
 *      to its slot (the only thing a locked drive does), so that another
 *      drive takes it;
 *   6. a cartridge idle for idle_unload_s goes back to its slot.
 * A read queue still gathering its burst (policy.gatherMs) may take an
 * empty drive but not evict another cartridge; with the library cold (no
 * cartridge in a drive, the robot idle) the first read load waits for the
 * burst as the policy says (policy.coldGatherMs, coldStart.ts). Deadlines
 * that would change a decision (sync time, gather windows, idle unloads)
 * are returned as `wakeMs` so the scheduler looks again then.
 */

export type Action =
  | { kind: 'sync'; drive: DriveSlot }
  | { kind: 'write'; job: WriteJob; drives: DriveSlot[] }
  | { kind: 'read'; drive: DriveSlot; jobId: number }
  | { kind: 'format'; drive: DriveSlot; job: FormatJob }
  | { kind: 'switch'; drive: DriveSlot; to: string | null; use: ReqType | null };

export interface CartridgeView {
  model: string;
  failed: boolean;
}

export interface DispatchEnv {
  nowMs: number;
  cartridge(label: string): CartridgeView | null;
  head(drive: DriveSlot): number;
  /** Rewind + unload + robot move of the drive's cartridge. */
  unmountS(drive: DriveSlot): number;
  /** Ms before a robot could start a move asked for now (library.robotWaitSeconds). */
  robotWaitMs(): number;
  cost(label: string): CostModel;
}

export interface Decision {
  action: Action | null;
  wakeMs: number;
}

export function decide(s: TapeState, env: DispatchEnv): Decision {
  const w = { wakeMs: Infinity };
  const action = ownWork(s, env, w) ?? agedElsewhere(s, env) ?? reads(s, env, w) ?? givenBack(s) ?? switches(s, env, w) ?? idleUnloads(s, env, w);
  return { action, wakeMs: w.wakeMs };
}

type Wake = { wakeMs: number };

const ready = (d: DriveSlot, s: TapeState): boolean => d.usable && !d.busy && d.loaded !== null && !s.inTransit.has(d.loaded);

function aged(s: TapeState, job: ReadJob, nowMs: number): boolean {
  return nowMs >= job.arrivalMs + s.settings.ageingMs;
}

function ownWork(s: TapeState, env: DispatchEnv, w: Wake): Action | null {
  for (const d of s.drives) {
    if (!ready(d, s)) continue;
    const m = d.loaded!;
    if (s.syncs.due(m, env.nowMs) || (s.draining && s.syncs.has(m))) return { kind: 'sync', drive: d };
    const due = s.syncs.dueAtMs(m);
    if (due !== null) w.wakeMs = Math.min(w.wakeMs, due);
    const q = s.reads.queue(m);
    const passedOver = (r: { arrivalMs: number }): boolean => env.nowMs >= Math.max(r.arrivalMs, d.mountedAtMs) + s.settings.ageingMs;
    const oldest = q?.oldest();
    if (q !== undefined && oldest !== undefined && passedOver(oldest)) {
      const next = q.order.nextPassedOver?.(env.head(d), env.nowMs, pressure(s), passedOver) ?? oldest;
      return { kind: 'read', drive: d, jobId: next.id };
    }
    const job = s.writersOf(m)[0];
    if (job !== undefined) {
      const drives = job.media.map((x) => s.driveOf(x));
      if (drives.every((x, i) => x !== undefined && ready(x, s) && s.writersOf(job.media[i]!)[0] === job)) {
        return { kind: 'write', job, drives: drives as DriveSlot[] };
      }
    }
    const fmt = s.formats.find((f) => f.label === m);
    if (fmt !== undefined) return { kind: 'format', drive: d, job: fmt };
  }
  return null;
}

/** The oldest aged request none of whose media is in a drive. */
function agedOrphan(s: TapeState, nowMs: number): ReadJob | undefined {
  for (const job of s.reads.all()) {
    if (!aged(s, job, nowMs)) return undefined;
    if (!job.candidates.some((c) => s.isMounted(c.medium) || s.inTransit.has(c.medium))) return job;
  }
  return undefined;
}

function agedElsewhere(s: TapeState, env: DispatchEnv): Action | null {
  const job = agedOrphan(s, env.nowMs);
  if (job === undefined) return null;
  for (const c of job.candidates) {
    const d = findDrive(s, env, c.medium, 'read', false);
    if (d) return { kind: 'switch', drive: d, to: c.medium, use: 'read' };
  }
  // No free drive: one that has kept its cartridge for ageing_s yields between two reads.
  for (const c of job.candidates) {
    const cart = env.cartridge(c.medium);
    const d = s.drives.find((x) => ready(x, s) && s.useOf(x) === 'read' && accepts(x.model, cart?.model)
      && env.nowMs >= x.mountedAtMs + s.settings.ageingMs && !s.writersOf(x.loaded!).length && !s.syncs.has(x.loaded!)
      && !s.loadFailedOn.get(c.medium)?.has(x.name));
    if (d) return { kind: 'switch', drive: d, to: c.medium, use: 'read' };
  }
  return null;
}

function reads(s: TapeState, env: DispatchEnv, w: Wake): Action | null {
  for (const d of s.drives) {
    if (!ready(d, s)) continue;
    const q = s.reads.queue(d.loaded!);
    if (!s.policy.grouped) {
      const a = fifoStep(s, env, d);
      if (a) return a;
      continue;
    }
    if (q === undefined || q.size === 0) continue;
    const next = q.order.next(env.head(d), env.nowMs, pressure(s), () => othersS(s, env, d));
    if (next) return { kind: 'read', drive: d, jobId: next.id };
    const hold = q.order.holdUntilMs;
    if (hold !== undefined && hold !== null) w.wakeMs = Math.min(w.wakeMs, hold);
  }
  return null;
}

/**
 * Seconds until the latest of the other drives' planned reads ends, as
 * far as known: a cartridge being loaded counts a whole mount first, a
 * read in flight what is left of its locate. Queues still waiting for a
 * drive are left out (their end is not known yet).
 */
function othersS(s: TapeState, env: DispatchEnv, self: DriveSlot): number {
  let end = 0;
  for (const x of s.drives) {
    const m = x.loaded ?? x.incoming;
    if (x === self || !x.usable || m === null) continue;
    const loading = x.loaded === null || s.inTransit.has(m);
    const q = s.reads.queue(m);
    const queued = q !== undefined && q.size > 0 ? q.order.plannedS?.(loading ? 0 : env.head(x)) ?? 0 : 0;
    // A read in flight: at least what is left of its locate.
    const inFlight = x.busy && !loading && x.use === 'read' ? Math.max(0, x.locateS - (env.nowMs - x.activity.since) / 1000) : 0;
    if (queued === 0 && inFlight === 0) continue;
    end = Math.max(end, (loading ? env.cost(m).mountS : 0) + inFlight + queued);
  }
  return end;
}

/** Requests waiting for cartridges not in a drive, per usable drive. */
function pressure(s: TapeState): number {
  let n = 0;
  for (const q of s.reads.nonEmpty()) if (!s.isMounted(q.medium)) n += q.size;
  return n / Math.max(1, s.drives.filter((d) => d.usable).length);
}

/**
 * fifo: the oldest request that no other drive holds decides — read it
 * here if it is on this cartridge, else this drive switches to it.
 */
function fifoStep(s: TapeState, env: DispatchEnv, d: DriveSlot): Action | null {
  if (s.hasWork(d.loaded!) && s.useOf(d) !== 'read') return null;
  for (const job of s.reads.all()) {
    const here = job.candidates.find((c) => c.medium === d.loaded);
    if (here && s.reads.queue(d.loaded!)?.entries.get(job.id)) return { kind: 'read', drive: d, jobId: job.id };
    if (job.candidates.some((c) => s.isMounted(c.medium) || s.inTransit.has(c.medium))) continue;
    const c = job.candidates.find((x) => accepts(d.model, env.cartridge(x.medium)?.model) && !s.loadFailedOn.get(x.medium)?.has(d.name));
    if (c) return { kind: 'switch', drive: d, to: c.medium, use: 'read' };
  }
  return null;
}

interface Target {
  label: string;
  use: ReqType;
  /** The read queue still gathers its burst for this long: it may take an empty drive, not another cartridge's. */
  gatherMs?: number;
}

function switches(s: TapeState, env: DispatchEnv, w: Wake): Action | null {
  // A load into an empty drive starts with a robot move: while every robot
  // is busy it would only queue, first come first served, so the choice of
  // what to load waits until one is free and is made then, on what is
  // known then (a restore's longest cartridge first, not its first asked).
  // Evictions go on: their robot move comes after the rewind and unload.
  const robotWaitMs = env.robotWaitMs();
  // With the library cold, the first read load waits for its burst
  // (coldStart.ts); writes and formats do not.
  const coldMs = coldStartMs(s, env.nowMs, robotWaitMs);
  for (const t of targets(s, env)) {
    const d = findDrive(s, env, t.label, t.use, true);
    if (d === undefined) continue;
    if (d.loaded === null && robotWaitMs > 0) {
      w.wakeMs = Math.min(w.wakeMs, env.nowMs + robotWaitMs);
      continue;
    }
    if (t.use === 'read' && coldMs > 0) {
      w.wakeMs = Math.min(w.wakeMs, env.nowMs + coldMs);
      continue;
    }
    if (d.loaded !== null && t.gatherMs !== undefined && t.gatherMs > 0) {
      w.wakeMs = Math.min(w.wakeMs, env.nowMs + t.gatherMs);
      continue;
    }
    return { kind: 'switch', drive: d, to: t.label, use: t.use };
  }
  return null;
}

/** Cartridges that need a drive, most urgent first. */
function targets(s: TapeState, env: DispatchEnv): Target[] {
  const out: Target[] = [];
  const away = (label: string): boolean => !s.isMounted(label) && !s.inTransit.has(label) && env.cartridge(label)?.failed === false;
  const jobs = [...new Set([...s.writers.values()].flat())].sort((a, b) => a.id - b.id);
  for (const j of jobs) for (const m of j.media) if (away(m)) out.push({ label: m, use: 'write' });
  for (const f of s.formats) if (away(f.label)) out.push({ label: f.label, use: 'format' });
  const scored: { label: string; aged: boolean; oldest: number; value: number; gatherMs: number }[] = [];
  const waiting = s.reads.nonEmpty().filter((q) => away(q.medium));
  const free = s.drives.filter((d) => d.usable && !d.busy && (d.loaded === null || !s.hasWork(d.loaded))).length;
  const ctx = { contended: waiting.length > free };
  for (const q of waiting) {
    const oldest = q.oldest()!;
    const isAged = aged(s, oldest, env.nowMs);
    const cost = env.cost(q.medium);
    const sum = q.summary(false, s.policy.estimate?.(q.order, 0) ?? 0);
    const gatherMs = s.draining || isAged ? 0 : s.policy.gatherMs(sum, env.nowMs, s.reads.newestMs);
    scored.push({ label: q.medium, aged: isAged, oldest: oldest.arrivalMs, value: s.policy.mediumValue(sum, env.nowMs, cost, ctx), gatherMs });
  }
  scored.sort((a, b) => (a.aged !== b.aged ? (a.aged ? -1 : 1) : a.aged ? a.oldest - b.oldest : b.value - a.value || a.oldest - b.oldest));
  for (const x of scored) out.push({ label: x.label, use: 'read', gatherMs: x.gatherMs });
  return out;
}

/**
 * A drive for `label`: an empty one first, then the one whose cartridge has
 * been idle longest. With `preempt`, a type below its fair-share minimum may
 * also take a drive between two reads of a type above its own.
 */
function findDrive(s: TapeState, env: DispatchEnv, label: string, use: ReqType, preempt: boolean): DriveSlot | undefined {
  const cart = env.cartridge(label);
  if (cart === null || cart.failed) return undefined;
  const waiting = s.waitingTypes();
  const failedIn = s.loadFailedOn.get(label);
  const free = s.drives.filter((d) => d.usable && !d.busy && accepts(d.model, cart.model) && !failedIn?.has(d.name) && (d.loaded === null || !s.hasWork(d.loaded))
    && (d.loaded === null || !s.inTransit.has(d.loaded)))
    .map((d) => ({ d, evict: d.loaded === null ? -Infinity : s.policy.evictionCost?.({ unmountS: env.unmountS(d), idleMs: env.nowMs - d.lastUsedMs }) ?? 0 }))
    .sort((a, b) => a.evict - b.evict || a.d.lastUsedMs - b.d.lastUsedMs)
    .map((x) => x.d);
  for (const d of free) {
    const { inUse, free: n } = s.typeCounts(d.model);
    if (s.share.allows(d.model, use, inUse, n, waiting)) return d;
  }
  if (!preempt) return undefined;
  for (const d of s.drives) {
    if (!ready(d, s) || !accepts(d.model, cart.model) || failedIn?.has(d.name)) continue;
    const u = s.useOf(d);
    if (u !== 'read' || s.writersOf(d.loaded!).length || s.syncs.has(d.loaded!)) continue;
    const { inUse } = s.typeCounts(d.model);
    if (inUse[use] < s.share.minOf(d.model, use) && inUse.read > s.share.minOf(d.model, 'read') && inUse[use] < s.share.maxOf(d.model, use)) return d;
  }
  return undefined;
}

function givenBack(s: TapeState): Action | null {
  for (const d of s.drives) {
    // A drive never added may belong to another system: it is left alone.
    if (d.usable || !d.added || d.failed || d.busy || d.loaded === null || s.inTransit.has(d.loaded)) continue;
    if (s.hasWork(d.loaded)) return { kind: 'switch', drive: d, to: null, use: null };
  }
  return null;
}

function idleUnloads(s: TapeState, env: DispatchEnv, w: Wake): Action | null {
  const ms = s.settings.idleUnloadMs;
  if (ms <= 0) return null;
  for (const d of s.drives) {
    if (!ready(d, s) || s.hasWork(d.loaded!)) continue;
    const at = d.lastUsedMs + ms;
    if (at <= env.nowMs) return { kind: 'switch', drive: d, to: null, use: null };
    w.wakeMs = Math.min(w.wakeMs, at);
  }
  return null;
}
