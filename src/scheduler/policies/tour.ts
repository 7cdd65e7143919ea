import type { CostModel, PendingRead } from './interface.js';

/**
 * Plans the order in which one mount reads its queue: an open asymmetric
 * travelling-salesman path from the head over the requested extents, with
 * the locate model as the distance.
 *
 * 1. Runs: extents that follow each other on tape, or are reached from the
 *    previous one by a short forward hop (read-through or locate cheaper
 *    than `joinS`, a few fixed locate costs), are chained by position into
 *    one unit. A restore of a dataset written together is a few long runs
 *    — still with holes while its requests arrive — and a unit is never
 *    broken by the search below, so position order streams it.
 * 2. Nearest-neighbour from the head over the units.
 * 3. Up to EXACT_MAX units, the shortest path exactly (exactPath); beyond,
 *    or-opt: move segments of 1–3 units elsewhere in the path while that
 *    shortens it. Segments keep their direction, so each move's gain is
 *    known from six edges (no O(n) re-evaluation, unlike 2-opt on an
 *    asymmetric cost). Passes are bounded by count, never by wall time, so
 *    plans are deterministic.
 */

export interface Unit {
  items: PendingRead[];
  start: number;
  end: number;
  /** Transfer plus read-through of the gaps inside the unit. */
  readS: number;
}

/**
 * A forward hop short enough to belong to one stream: cheaper than `joinS`,
 * or a gap that streams in `joinS` and spans a small part of a wrap (a wrap
 * turn costs a locate in the model even when little tape lies between).
 */
export function shortHop(cost: CostModel, from: number, to: number, joinS: number): boolean {
  if (to < from) return false;
  const gap = to - from;
  return (gap <= cost.wrapBytes / 16 && cost.transfer(gap) <= joinS) || cost.locate(from, to) <= joinS;
}

/** Hops up to this many fixed locate costs chain extents into one unit. */
export const JOIN_FIXED = 2.5;

export function buildUnits(items: readonly PendingRead[], cost: CostModel, joinS = JOIN_FIXED * cost.locateFixedS): Unit[] {
  const sorted = [...items].sort((a, b) => a.position - b.position || a.id - b.id);
  const units: Unit[] = [];
  let cur: Unit | null = null;
  for (const r of sorted) {
    const end = r.position + r.size;
    if (cur !== null && shortHop(cost, cur.end, r.position, joinS)) {
      {
        cur.items.push(r);
        cur.readS += cost.locate(cur.end, r.position) + cost.transfer(r.size);
        cur.end = end;
        continue;
      }
    }
    cur = { items: [r], start: r.position, end, readS: cost.transfer(r.size) };
    units.push(cur);
  }
  return units;
}

/**
 * What the head's last position costs after the path: nothing when the
 * cartridge stays mounted, the rewind to BOT when it is unloaded next
 * (unmountSeconds: an unload starts with a locate to 0).
 */
export type EndCost = (end: number) => number;
export const OPEN_END: EndCost = () => 0;
export const rewindEnd = (cost: CostModel): EndCost => (end) => cost.locate(end, 0);

/** Seconds to read `units` in this order from `head`, plus what its end costs. */
export function pathSeconds(head: number, units: readonly Unit[], cost: CostModel, endCost: EndCost = OPEN_END): number {
  let s = 0;
  let at = head;
  for (const u of units) {
    s += cost.locate(at, u.start) + u.readS;
    at = u.end;
  }
  return s + (units.length > 0 ? endCost(at) : 0);
}

/** Sum of completion times (seconds from now) of every request when read in this order. */
export function waitSeconds(head: number, units: readonly Unit[], cost: CostModel): number {
  let t = 0;
  let sum = 0;
  let at = head;
  for (const u of units) {
    t += cost.locate(at, u.start);
    let pos = u.start;
    for (const r of u.items) {
      t += cost.locate(pos, r.position) + cost.transfer(r.size);
      pos = r.position + r.size;
      sum += t;
    }
    at = u.end;
  }
  return sum;
}

export function nearestNeighbour(head: number, units: readonly Unit[], cost: CostModel): Unit[] {
  const left = new Set(units);
  const out: Unit[] = [];
  let at = head;
  while (left.size > 0) {
    let best: Unit | null = null;
    let bestS = Infinity;
    for (const u of left) {
      const s = cost.locate(at, u.start);
      if (s < bestS || (s === bestS && best !== null && u.start < best.start)) { best = u; bestS = s; }
    }
    out.push(best!);
    left.delete(best!);
    at = best!.end;
  }
  return out;
}

/**
 * Or-opt on a path whose first node is the head (a virtual unit that never
 * moves) and whose end costs `endCost` (open: 0). Returns the improved
 * order; `maxPasses` bounds the work.
 */
export function orOpt(head: number, path: Unit[], cost: CostModel, maxPasses: number, endCost: EndCost = OPEN_END): Unit[] {
  const n = path.length;
  if (n < 3) return path;
  const p = [...path];
  // Edge cost from node i (-1 = head) to node j (past the last: the end's cost).
  const endOf = (i: number): number => (i < 0 ? head : p[i]!.end);
  const c = (i: number, j: number): number => (j >= p.length ? endCost(endOf(i)) : cost.locate(endOf(i), p[j]!.start));
  for (let pass = 0; pass < maxPasses; pass++) {
    let improved = false;
    for (let len = 1; len <= 3; len++) {
      for (let i = 0; i + len <= p.length; i++) {
        const j = i + len - 1;
        const removeGain = c(i - 1, i) + c(j, j + 1) - c(i - 1, j + 1);
        if (removeGain <= 1e-9) continue;
        let bestK = -2;
        let bestDelta = -1e-9;
        // Insert the segment between k and k+1 (k = -1: right after the head).
        for (let k = -1; k < p.length; k++) {
          if (k >= i - 1 && k <= j) continue;
          const next = k + 1;
          const insertCost = (next < p.length ? cost.locate(p[j]!.end, p[next]!.start) : endCost(p[j]!.end))
            + cost.locate(endOf(k), p[i]!.start)
            - c(k, next);
          const delta = insertCost - removeGain;
          if (delta < bestDelta) { bestDelta = delta; bestK = k; }
        }
        if (bestK === -2) continue;
        const seg = p.splice(i, len);
        const at = bestK < i ? bestK + 1 : bestK + 1 - len;
        p.splice(at, 0, ...seg);
        improved = true;
      }
    }
    if (!improved) break;
  }
  return p;
}

/** Up to this many units the shortest path is found exactly (2^n·n² steps: ~0.6 M at 12). */
export const EXACT_MAX = 12;

/**
 * The shortest path from the head over every unit, plus what its end costs
 * (Held-Karp dynamic programming over subsets; units.length <= EXACT_MAX).
 * A mount of a sparse recall reads a handful of extents, where or-opt from
 * nearest-neighbour still leaves a few percent of locate time.
 */
export function exactPath(head: number, units: readonly Unit[], cost: CostModel, endCost: EndCost = OPEN_END): Unit[] {
  const n = units.length;
  if (n > EXACT_MAX) throw new RangeError(`exactPath: ${n} units, at most ${EXACT_MAX}`);
  if (n <= 1) return [...units];
  // Edge costs once: locate from the end of i to the start of j, plus reading j.
  const edge = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) edge[i * n + j] = cost.locate(units[i]!.end, units[j]!.start) + units[j]!.readS;
  const full = (1 << n) - 1;
  const best = new Float64Array((full + 1) * n).fill(Infinity);
  const prev = new Int8Array((full + 1) * n).fill(-1);
  for (let j = 0; j < n; j++) best[(1 << j) * n + j] = cost.locate(head, units[j]!.start) + units[j]!.readS;
  for (let m = 1; m <= full; m++) {
    for (let j = 0; j < n; j++) {
      const v = best[m * n + j]!;
      if (v === Infinity) continue;
      for (let k = 0; k < n; k++) {
        if (m & (1 << k)) continue;
        const to = (m | (1 << k)) * n + k;
        const w = v + edge[j * n + k]!;
        if (w < best[to]!) { best[to] = w; prev[to] = j; }
      }
    }
  }
  let last = 0;
  let lastS = Infinity;
  for (let j = 0; j < n; j++) {
    const v = best[full * n + j]! + endCost(units[j]!.end);
    if (v < lastS) { lastS = v; last = j; }
  }
  const out: Unit[] = [];
  for (let m = full, j = last; j >= 0;) {
    out.push(units[j]!);
    const p = prev[m * n + j]!;
    m &= ~(1 << j);
    j = p;
  }
  return out.reverse();
}

export const ELEVATOR_MARGIN = 1.1;

/** Units in one-way elevator order from the head: ascending from it, then from the lowest. */
export function elevator(head: number, units: readonly Unit[]): Unit[] {
  const sorted = [...units].sort((a, b) => a.start - b.start);
  const i = sorted.findIndex((u) => u.start >= head);
  return i <= 0 ? sorted : [...sorted.slice(i), ...sorted.slice(0, i)];
}

/**
 * The position order started elsewhere than at the head: from the k-th
 * request (by position) to the last, then back to the lowest and up to the
 * (k-1)-th, for k within the leading stretch of touching extents — the one-way elevator is this rotation for the first request at
 * or past the head. Returns the rotation that costs the requesters least
 * (sum of completion times plus `pressure` per second of path and its end),
 * scored in O(n) over every k after one pass of locates (prefix sums).
 *
 * Why: after a load the head is at BOT, and reaching the start of a long
 * run may cost a long locate (the run may begin far along a wrap, or on a
 * backward wrap) while a point further along the same run lies near BOT's
 * end of the tape (the start of a forward wrap). Starting there completes
 * most of the run earlier; the part skipped is read after one locate back,
 * at the end. The path is longer by that locate, so it is only chosen when
 * the sum of waits (and the pressure of others) says so.
 */
/** Two extents touch when the gap between them could not hold a file like them (under 1/64 of the smaller: headers, filemarks). */
export function touching(a: PendingRead, b: PendingRead): boolean {
  const gap = b.position - (a.position + a.size);
  return gap <= Math.min(a.size, b.size) / 64;
}

export function bestRotation(head: number, items: readonly PendingRead[], cost: CostModel, endCost: EndCost = OPEN_END, pressure = 0): { order: PendingRead[]; k: number; score: number; k0: number; score0: number } {
  const a = [...items].sort((x, y) => x.position - y.position || x.id - y.id);
  const n = a.length;
  if (n === 0) return { order: [], k: 0, score: 0, k0: 0, score0: 0 };
  const x = a.map((r) => cost.transfer(r.size));
  // P[i]: time from the end of a[0] to the end of a[i] reading in position order.
  const P = new Float64Array(n);
  for (let i = 1; i < n; i++) P[i] = P[i - 1]! + cost.locate(a[i - 1]!.position + a[i - 1]!.size, a[i]!.position) + x[i]!;
  // Q[i]: sum of P[0..i-1].
  const Q = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) Q[i + 1] = Q[i]! + P[i]!;
  const back = cost.locate(a[n - 1]!.position + a[n - 1]!.size, a[0]!.position);
  const score = (k: number): number => {
    const s = cost.locate(head, a[k]!.position) + x[k]! - P[k]!;
    let sum = (n - k) * s + (Q[n]! - Q[k]!);
    let end = s + P[n - 1]!;
    let last = a[n - 1]!;
    if (k > 0) {
      const e2 = end + back + x[0]!;
      sum += k * e2 + Q[k]!;
      end = e2 + P[k - 1]!;
      last = a[k - 1]!;
    }
    return sum + pressure * (end + endCost(last.position + last.size));
  };
  let k0 = a.findIndex((r) => r.position >= head);
  if (k0 < 0) k0 = 0;
  const score0 = score(k0);
  let k = k0;
  let best = score0;
  // Only the leading stretch without holes may be put off: a hole in it is
  // likely a file of the same dataset still to be requested (a restore
  // being asked for in name order), which would then wait for the end too.
  let solid = 1;
  while (solid < n && touching(a[solid - 1]!, a[solid]!)) solid++;
  for (let i = 0; i < solid; i++) {
    const v = score(i);
    if (v < best - 1e-9) { best = v; k = i; }
  }
  return { order: [...a.slice(k), ...a.slice(0, k)], k, score: best, k0, score0 };
}

/**
 * The full plan. Candidates: nearest-neighbour improved by or-opt (the
 * shortest path), plain nearest-neighbour (early completions), and the
 * elevator (or, when it costs the requesters less and `mayRotate` accepts
 * its longer path, the position order started further along: bestRotation). Each is scored by what it costs the requesters: the sum of this
 * queue's completion times plus, for every second the path takes, the
 * `pressure` of requests waiting for other cartridges (when many wait, the
 * shortest path wins; when none do, early completions do).
 *
 * On runs (a restore still being requested) the elevator wins whenever its
 * path is about as short: requests still to come fill the holes of the runs
 * in position order, which only the elevator then streams — a tour must be
 * clearly shorter (ELEVATOR_MARGIN) to beat it. On sparse recalls the
 * elevator loses by far (a serpentine tape makes position order sweep every
 * wrap end to end).
 */
export function planTour(head: number, items: readonly PendingRead[], cost: CostModel, opts: { pressure?: number; maxPasses?: number; mayRotate?: (rotatedS: number, plainS: number) => boolean } = {}): Unit[] {
  const units = buildUnits(items, cost);
  const pressure = opts.pressure ?? 0;
  // With requests waiting for other cartridges, this one is unloaded after
  // its queue, and the unload starts with a rewind from wherever the path
  // ends: up to a tape length of locate, drive time the next mount waits
  // for. The path then ends near BOT when that costs less than it saves.
  const endCost = pressure > 0 ? rewindEnd(cost) : OPEN_END;
  // Or-opt is O(n²) per pass: on very large queues one pass is enough to fix
  // nearest-neighbour's worst detours.
  const passes = units.length > 400 ? 1 : opts.maxPasses ?? 4;
  const nn = nearestNeighbour(head, units, cost);
  const tour = units.length <= EXACT_MAX ? exactPath(head, units, cost, endCost) : orOpt(head, nn, cost, passes, endCost);
  let lift = elevator(head, units);
  const spin = bestRotation(head, items, cost, endCost, pressure);
  if (spin.k !== spin.k0 && opts.mayRotate !== undefined) {
    const i = items.length - spin.k;
    const rotated = [...buildUnits(spin.order.slice(0, i), cost), ...buildUnits(spin.order.slice(i), cost)];
    const rotatedS = pathSeconds(head, rotated, cost);
    const plainS = pathSeconds(head, lift, cost);
    if (waitSeconds(head, rotated, cost) + pressure * pathSeconds(head, rotated, cost, endCost)
      < waitSeconds(head, lift, cost) + pressure * pathSeconds(head, lift, cost, endCost) - 1e-9
      && opts.mayRotate(rotatedS, plainS)) lift = rotated;
  }
  const tourS = pathSeconds(head, tour, cost, endCost);
  if (units.length < items.length && pathSeconds(head, lift, cost, endCost) <= ELEVATOR_MARGIN * tourS) return lift;
  let best = tour;
  let bestJ = waitSeconds(head, tour, cost) + pressure * tourS;
  for (const cand of [nn, lift]) {
    const j = waitSeconds(head, cand, cost) + pressure * pathSeconds(head, cand, cost, endCost);
    if (j < bestJ) { best = cand; bestJ = j; }
  }
  return best;
}
