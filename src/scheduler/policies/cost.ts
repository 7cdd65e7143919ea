import type { ChoiceContext, CostModel, MediumOrder, PendingRead, PolicyOptions, QueueSummary, ReadPolicy } from './interface.js';
import { bestRotation, JOIN_FIXED, OPEN_END, planTour, rewindEnd, shortHop } from './tour.js';

/** Arrivals kept to see a front of requests in. */
const FRONT_KEEP = 8;
/** A front is at least this many requests rising in position, each asked for within FRONT_WINDOW_MS. */
const FRONT_MIN = 3;
const FRONT_WINDOW_MS = 2000;
/** The longest hold for a front, in fixed locate costs (a hop this short is made anyway). */
const HOLD_FIXED = JOIN_FIXED;

/**
 * The default policy: plan each mount as a whole and choose mounts by value
 * over cost.
 *
 * - Order inside a mount: the tour planner (tour.ts). Contiguous runs are
 *   units read in position order (the elevator wins when runs are present
 *   and it is about as short); sparse extents are visited along the
 *   shortest path the locate model allows (nearest-neighbour + or-opt), or
 *   nearest-neighbour itself when few requests wait elsewhere and early
 *   completions count more than the path. So sparse recalls get
 *   nearest-first's short hops without its detours, and restores stream.
 * - While requests wait for other cartridges, this one is unloaded after
 *   its queue and the unload starts with a rewind: the plan counts it, so
 *   the path ends near BOT when that costs less than it saves (tour.ts).
 * - Requests that arrive during a mount are inserted where they cost least
 *   instead of replanning everything; the plan is rebuilt when a quarter of
 *   it is new, or when the head is not where the plan expected it.
 * - A run of touching extents (a restore asked for all at once) may be
 *   started further along than its first extent: after a load the head is
 *   at BOT, and the run's start may lie a long locate away (far along a
 *   wrap, or on a backward wrap) while a later part begins next to BOT's
 *   end of the tape. The skipped start is read last, after one locate back,
 *   when that lowers the sum of waits (tour.ts: bestRotation). Never across
 *   a hole: a file not asked for yet may be on its way. Never when the
 *   longer path would end after the other drives' planned work (othersS in
 *   dispatch.ts): the makespan does not pay for the waits.
 * - Anticipation: when the next read would pass over a gap and the latest
 *   requests form a front rising in position just behind the head (a
 *   restore asked for in name order, faster than the tape streams), the
 *   drive waits the few seconds until the front reaches the head (frontHold)
 *   rather than leave a straggler for a locate back at the end.
 * - A stream is never broken for a request that arrives behind the head
 *   inside it (a restore still being requested in name order): such
 *   stragglers are read after the stream, in one pass back, instead of one
 *   detour each — the detours are what make greedy nearest-first lose on
 *   restores.
 * - Which medium next, when more queues wait than drives are free: the one
 *   that serves most requests per mount, the longest waiting first on a
 *   tie. (Smith's rule on the planned service time — requests per second
 *   of drive time — was measured too: it lost ~3% of mean wait on bursty
 *   traces, where the cartridges asked first keep receiving requests that
 *   then ride along.) When every queue gets a drive at once, the longest
 *   job first: loads share the robot, and the longest started last would
 *   set the makespan. A run it would rather start further along counts at
 *   that longer length (PlannedOrder.estimate).
 * - The drive given up for a new cartridge is the one that frees soonest
 *   (shortest rewind + unload).
 * - Gathering (`io_sched.read_gather_s`): before an unmounted medium takes
 *   a drive from another cartridge, it gathers its burst until read
 *   requests (for any cartridge) stop coming for a quarter of the window
 *   (quiet), at most the window.
 *   Live recalls reach the scheduler one at a time (each awaits catalog
 *   calls first), so the first request of a burst would otherwise evict a
 *   cartridge whose own requests are a few ms behind, and both are mounted
 *   twice. A load costs ~17 s and an unload ~30 s: a second or two of
 *   gathering is cheap. An empty drive is taken at once (dispatch.ts),
 *   unless every drive is (below).
 * - Cold start (`io_sched.cold_gather_s`, `cold_quiet_s`): with no cartridge
 *   in any drive and the robot idle, the first load waits until read
 *   requests pause for cold_quiet_s, at most cold_gather_s after the first
 *   (tape/coldStart.ts). A restore asked for file by file, ms apart, is
 *   known by then, and the longest job goes first instead of the first
 *   asked for. Writes never wait for it.
 */
export interface CostPolicyOptions extends PolicyOptions {
  /** A burst is over when no request came for this long (ms); default a quarter of the window. */
  quietMs?: number;
  /** Never gather longer than this (ms); default readGatherMs, else 0 (off). */
  maxGatherMs?: number;
}

export function costPolicy(opts: CostPolicyOptions): ReadPolicy {
  const maxGatherMs = opts.maxGatherMs ?? opts.readGatherMs ?? 0;
  const quietMs = opts.quietMs ?? maxGatherMs / 4;
  const maxColdMs = opts.coldGatherMs ?? 0;
  const coldQuietMs = opts.coldQuietMs ?? 0;
  return {
    name: 'cost',
    grouped: true,
    newOrder: (_m, cost) => new PlannedOrder(cost),
    mediumValue: (q: QueueSummary, _now: number, cost: CostModel, ctx: ChoiceContext) => {
      // Every queue gets a drive now; only the robot serializes the loads:
      // the longest job first finishes soonest (LPT).
      if (!ctx.contended) return cost.mountS + cost.unmountS + Math.max(q.serviceS, 1);
      // Drives are short: the most requests per mount (a mount and an unmount
      // cost minutes, a read seconds), the longest waiting first on a tie.
      return q.reads;
    },
    gatherMs: (q: QueueSummary, nowMs: number, lastReadMs: number) => {
      if (q.mounted) return 0;
      // Quiet on every medium, not only this one: the cartridge that would
      // be evicted may be the one whose requests are still coming.
      const untilQuiet = Math.max(q.newestMs, lastReadMs) + quietMs - nowMs;
      const untilMax = q.oldestMs + maxGatherMs - nowMs;
      return Math.max(0, Math.min(untilQuiet, untilMax));
    },
    coldGatherMs: (oldestMs: number, nowMs: number, lastReadMs: number) => {
      // Until requests pause (a client asking for a restore's files back
      // to back sends them ms apart), at most maxColdMs after the first.
      const untilQuiet = lastReadMs + coldQuietMs - nowMs;
      const untilMax = oldestMs + maxColdMs - nowMs;
      return Math.max(0, Math.min(untilQuiet, untilMax));
    },
    evictionCost: (d) => d.unmountS,
    estimate: (order: MediumOrder, head: number) => (order instanceof PlannedOrder ? order.estimate(head) : 0),
  };
}

export class PlannedOrder implements MediumOrder {
  private readonly items = new Map<number, PendingRead>();
  /** The plan, flattened; null when it must be rebuilt. */
  private plan: PendingRead[] | null = null;
  /** Where the head is expected when plan[0] is read. */
  private planHead = 0;
  private inserted = 0;
  /** What next() handed out last, and from where, until it is taken. */
  private last: { r: PendingRead; from: number } | null = null;
  /** Where the head should be after the read in flight; anything else ends the stream. */
  private expected: number | null = null;
  /**
   * Start of the stream the head is in: the first of the extents just read
   * one after the other with only short forward hops. Requests arriving
   * behind the head inside it are read after the stream, never by going
   * back in the middle of it: a restore still being requested keeps
   * adding such stragglers, and one pass back for all of them costs less
   * than a detour for each.
   */
  private chainStart: number | null = null;
  private readonly streamHopS: number;
  private pressure = 0;
  /** Whether the plan was made with requests waiting elsewhere (it then ends near BOT: tour.ts). */
  private planPressed = false;
  /** The other drives' planned work, as next() was last given it; whether the plan was made knowing it. */
  private othersS: (() => number) | undefined;
  private planRotationChecked = false;

  /** The latest arrivals, oldest first (read or not): a front of requests shows in them. */
  private readonly recent: PendingRead[] = [];
  holdUntilMs: number | null = null;

  constructor(private readonly cost: CostModel) {
    this.streamHopS = JOIN_FIXED * cost.locateFixedS;
  }

  get size(): number { return this.items.size; }

  add(r: PendingRead): void {
    this.items.set(r.id, r);
    this.recent.push(r);
    if (this.recent.length > FRONT_KEEP) this.recent.shift();
    if (this.plan === null) return;
    const behind = this.chainStart !== null && r.position >= this.chainStart && r.position < this.planHead;
    this.insertCheapest(r, behind ? this.streamPrefix() : 0);
    this.inserted++;
  }

  remove(id: number): void {
    const r = this.items.get(id);
    if (r === undefined) return;
    this.items.delete(id);
    // The request next() handed out is being read: from now on the head is
    // (as good as) at its end, and arrivals are placed from there.
    if (this.last?.r.id === id) {
      const hop = this.isStreamHop(this.last.from, r.position);
      if (!hop || this.chainStart === null) this.chainStart = r.position;
      this.planHead = r.position + r.size;
      this.expected = this.planHead;
      this.last = null;
    }
    if (this.plan === null) return;
    const i = this.plan.findIndex((x) => x.id === id);
    if (i >= 0) this.plan.splice(i, 1);
  }

  next(head: number, nowMs = 0, pressure = 0, othersS?: () => number): PendingRead | null {
    return this.pick(head, nowMs, pressure, true, othersS);
  }

  /** The plan's next request; with `anticipate`, null while holding for a front (frontHold). */
  private pick(head: number, nowMs: number, pressure: number, anticipate: boolean, othersS?: () => number): PendingRead | null {
    this.pressure = pressure;
    this.holdUntilMs = null;
    this.othersS = othersS;
    if (this.expected !== null && head !== this.expected) this.chainStart = null;
    this.expected = null;
    this.last = null;
    if (this.items.size === 0) return null;
    if (this.staleForRead(head) || this.mayRotateNow(head)) this.replan(head, this.othersS);
    const r = this.plan![0] ?? null;
    this.holdUntilMs = r !== null && anticipate && pressure === 0 ? this.frontHold(head, r, nowMs) : null;
    if (this.holdUntilMs !== null) return null;
    this.last = r === null ? null : { r, from: head };
    return r;
  }

  /**
   * Anticipation (as anticipatory disk scheduling waits for the next request
   * of a sequential reader): when the head would pass over a gap, and the
   * latest requests for this cartridge form a front rising in position just
   * behind the head — a restore being asked for in name order, faster than
   * the tape streams — the drive waits until the front reaches the head, at
   * most HOLD_FIXED fixed locate costs. The files it brings into the gap are
   * then read on the way instead of after a locate back at the end. Only
   * when nobody waits for another cartridge (the drive is not wanted
   * elsewhere). Returns when to look again, or null to read now.
   */
  private frontHold(head: number, r: PendingRead, nowMs: number): number | null {
    // Reading on without passing a gap (the next extent touches the head), or going back: nothing to wait for.
    if (r.position - head <= r.size / 64) return null;
    const rec = this.recent;
    let i = rec.length - 1;
    const newest = rec[i];
    if (newest === undefined || newest.position >= head || nowMs - newest.arrivalMs > FRONT_WINDOW_MS) return null;
    while (i > 0 && rec[i - 1]!.position < rec[i]!.position && nowMs - rec[i - 1]!.arrivalMs <= FRONT_WINDOW_MS) i--;
    const first = rec[i]!;
    if (rec.length - i < FRONT_MIN || newest.arrivalMs <= first.arrivalMs) return null;
    const bytesPerMs = (newest.position - first.position) / (newest.arrivalMs - first.arrivalMs);
    const etaMs = (head - newest.position) / bytesPerMs - (nowMs - newest.arrivalMs);
    if (etaMs <= 0 || etaMs > HOLD_FIXED * this.cost.locateFixedS * 1000) return null;
    return nowMs + etaMs;
  }

  /**
   * Passed-over requests in the plan's order among them: once a long mount
   * has outlasted ageing_s, all its queue is passed over, and the plan then
   * goes on as planned instead of reading by arrival. A request taken out of
   * the plan's order moves to its front and counts as inserted (the plan is
   * rebuilt once a quarter of it changed), not a replan per read: this runs
   * in the scheduler's synchronous pass, and a hot cartridge's queue may
   * hold thousands.
   */
  nextPassedOver(head: number, nowMs: number, pressure: number, passedOver: (r: PendingRead) => boolean): PendingRead | null {
    // Passed over for ageing_s: read now, never held for a front.
    const first = this.pick(head, nowMs, pressure, false);
    if (first === null || passedOver(first)) return first;
    const plan = this.plan!;
    const i = plan.findIndex(passedOver);
    if (i < 0) return null;
    const r = plan.splice(i, 1)[0]!;
    plan.unshift(r);
    this.inserted++;
    this.last = { r, from: head };
    return r;
  }

  /**
   * The plan must be rebuilt: none yet, the head is elsewhere, or a quarter
   * of it was inserted one by one (cheap, but a queue filled that way — a
   * restore requested while its cartridge waits — is far from its best path).
   */
  private stale(head: number): boolean {
    return this.plan === null || this.planHead !== head || this.inserted > this.plan.length / 4;
  }

  /** For reading: also rebuilt when others start or stop waiting (an estimate's plan was made without knowing). */
  private staleForRead(head: number): boolean {
    return this.stale(head) || this.planPressed !== this.pressure > 0;
  }

  /**
   * A plan made for an estimate (before the mount, nobody to ask about the
   * other drives) never starts a run further along; the first read looks
   * again, once, if a rotation would lower the waits (bestRotation).
   */
  private mayRotateNow(head: number): boolean {
    if (this.planRotationChecked || this.othersS === undefined) return false;
    this.planRotationChecked = true;
    const r = bestRotation(head, [...this.items.values()], this.cost, this.pressure > 0 ? rewindEnd(this.cost) : OPEN_END, this.pressure);
    return r.k !== r.k0;
  }

  /**
   * Seconds to read the queue from `head` along the current plan, without
   * replanning (0 without a plan). With a read in flight, from where it
   * ends: the drive's head is still where it started, and the locate to it
   * is the caller's to count (othersS in dispatch.ts) — from the old head
   * the first planned read would count that locate a second time.
   */
  plannedS(head: number): number {
    return this.plan === null ? 0 : this.pathS(this.expected ?? head, this.plan);
  }

  /**
   * Seconds to read the whole queue from `head` (a load: the queue waits for
   * a drive), for the choice of what to load (mediumValue's LPT). A run the
   * plan would rather start further along (bestRotation, with nobody else
   * waiting: every queue gets a drive when LPT is used) counts at that
   * longer length: it is only read so if it still ends before the other
   * drives (replan), so the longest such job is loaded first and has the
   * room to (restore-at-once: R00000 goes before R00001 and both rotate).
   */
  estimate(head: number): number {
    if (this.items.size === 0) return 0;
    if (this.stale(head)) this.replan(head);
    const s = this.pathS(head, this.plan!);
    const spin = bestRotation(head, [...this.items.values()], this.cost);
    return spin.k === spin.k0 ? s : Math.max(s, this.pathS(head, spin.order));
  }

  private pathS(head: number, order: readonly PendingRead[]): number {
    let s = 0;
    let at = head;
    for (const r of order) {
      s += this.cost.locate(at, r.position) + this.cost.transfer(r.size);
      at = r.position + r.size;
    }
    return s;
  }

  private isStreamHop(from: number, to: number): boolean {
    return shortHop(this.cost, from, to, this.streamHopS);
  }

  /** How many planned requests continue the stream from the head. */
  private streamPrefix(): number {
    const plan = this.plan!;
    let at = this.planHead;
    let n = 0;
    while (n < plan.length && this.isStreamHop(at, plan[n]!.position)) {
      at = plan[n]!.position + plan[n]!.size;
      n++;
    }
    return n;
  }

  /** `others`: the other drives' planned work (next()); without it (an estimate) no run is started further along. */
  private replan(head: number, others?: () => number): void {
    let rest = [...this.items.values()];
    const prefix: PendingRead[] = [];
    let at = head;
    if (this.chainStart !== null) {
      // The stream goes on first, in position order, as far as it continues.
      const ahead = rest.filter((r) => r.position >= head).sort((a, b) => a.position - b.position || a.id - b.id);
      for (const r of ahead) {
        if (!this.isStreamHop(at, r.position)) break;
        prefix.push(r);
        at = r.position + r.size;
      }
      const taken = new Set(prefix);
      rest = rest.filter((r) => !taken.has(r));
    }
    // A run may be started further along (bestRotation) only when reading
    // it so still ends before the other drives' work: never at the cost of
    // the makespan. Plans made for an estimate never are.
    let prefixS = 0;
    for (let i = 0, from = head; i < prefix.length; i++) {
      prefixS += this.cost.locate(from, prefix[i]!.position) + this.cost.transfer(prefix[i]!.size);
      from = prefix[i]!.position + prefix[i]!.size;
    }
    const mayRotate = others === undefined ? undefined : (rotatedS: number, plainS: number): boolean => {
      const ok = prefixS + rotatedS <= Math.max(others(), prefixS + plainS);
      return ok;
    };
    this.plan = [...prefix, ...planTour(at, rest, this.cost, { pressure: this.pressure, mayRotate }).flatMap((u) => u.items)];
    this.planRotationChecked = others !== undefined;
    this.planPressed = this.pressure > 0;
    this.planHead = head;
    this.inserted = 0;
  }

  private insertCheapest(r: PendingRead, from: number): void {
    const plan = this.plan!;
    const c = this.cost;
    const rEnd = r.position + r.size;
    let bestI = plan.length;
    let bestS = Infinity;
    let prevEnd = from === 0 ? this.planHead : plan[from - 1]!.position + plan[from - 1]!.size;
    for (let i = from; i <= plan.length; i++) {
      const nxt = plan[i];
      const s = c.locate(prevEnd, r.position) + (nxt ? c.locate(rEnd, nxt.position) - c.locate(prevEnd, nxt.position) : 0);
      if (s < bestS) { bestS = s; bestI = i; }
      if (nxt) prevEnd = nxt.position + nxt.size;
    }
    plan.splice(bestI, 0, r);
  }
}
