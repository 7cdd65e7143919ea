import { minAssignment } from './assignment.js';

/**
 * The least seek time a cartridge's reads need together, by assignment.
 *
 * Right before each read r of the trace, the head moves (locates) from
 * where the previous head-moving event of the cartridge left it to r's
 * start. That event — call it r's predecessor — is one of:
 *   - a load (the head at BOT),
 *   - another read r' of the cartridge, which left the head at r'.end
 *     (a read streams its whole extent; the same extent read twice is two
 *     reads, each the other's possible predecessor; a read never precedes
 *     itself),
 *   - where the trace writes, a write or sync, which left the head at the
 *     end of data of the time, at or past the initial end of data, which
 *     lies at or past the end of every requested extent: reaching r from
 *     there is a move backward, never a read-through, so it costs at least
 *     locate_fixed_s.
 * Each event is the predecessor of at most one read (the next head move
 * after it is one locate, to one read). So in any schedule, the
 * predecessors form an assignment of the reads to distinct events, and the
 * seek time is the sum of locate(event, read) over it. The least-cost
 * assignment (minAssignment) is therefore a lower bound on any schedule's
 * seek time. It is tighter than the least seek of each read on its own
 * (what the bound used before): two reads can no longer both follow the
 * end of the same extent. It is still not a path: the assignment may form
 * cycles, which only weakens the bound.
 *
 * When the trace does not write, some read is the first after the
 * cartridge's first load: the assignment must use one load. Each further
 * load used is another read session of the cartridge, which costs a mount
 * and, before it, an unload of the cartridge (it was in a drive), both done
 * before the makespan: `extraSessionS` is charged per further load in
 * `workS` (the bound counts the first mount, and the unloads of the first
 * sessions of all cartridges, elsewhere; see lowerBound.ts).
 *
 * Up to EXACT_READS reads, the reads' path itself (exactSeeks): take the
 * cartridge's reads in the order a schedule serves them. Between two
 * consecutive ones, j then k, the head reaches k's start from j's end, or
 * from BOT after a further load (extraSessionS more), or, where the trace
 * writes, from the end of data (>= locate_fixed_s), or, for the bound after
 * a time τ, from the end of an earlier request's read done in between.
 * Charging each step the least of these (each earlier read as often as
 * wanted, which only lowers it), the cheapest order (Held–Karp) is below
 * any schedule's seek time — and, unlike the assignment, it has no cycles.
 * Both are true bounds; the larger is kept.
 */
export interface CartridgeSeeks {
  /** Least total seek time of the cartridge's reads, whatever the number of loads. */
  locateS: number;
  /** Least seek time plus extraSessionS per load beyond the first. */
  workS: number;
  /**
   * With a rewind (exact path only): the least of that plus the rewind that
   * ends one of the cartridge's read sessions, from the end of its last read.
   */
  rewoundS?: number;
}

export interface SeekModel {
  /** locate(from, to) of this cartridge, seconds. */
  locate(from: number, to: number): number;
  locateFixedS: number;
  /** The trace writes: a head may stand at or past the end of data (no load needs to come first). */
  writes: boolean;
  /** Mount + unload + robot move back: what a further read session of the cartridge costs at least. */
  extraSessionS: number;
}

export interface Extent {
  start: number;
  end: number;
}

/**
 * `earlier`: reads of the cartridge that may come before these (requests
 * that arrived before a time τ, for the bound on what follows τ): possible
 * predecessors, not rows. `inSlot` (default true): the cartridge starts in
 * its slot, so one read follows a load (unless the trace writes); false for
 * a cartridge that may already be mounted, its head anywhere a read left it.
 */
export function cartridgeSeeks(reads: readonly Extent[], m: SeekModel, opts: { earlier?: readonly Extent[]; inSlot?: boolean; rewind?: (end: number) => number } = {}): CartridgeSeeks {
  if (reads.length === 0) return { locateS: 0, workS: 0 };
  const p = { earlier: opts.earlier ?? [], forceLoad: (opts.inSlot ?? true) && !m.writes };
  const exact = reads.length <= EXACT_READS;
  const assign = reads.length <= ASSIGN_MAX ? solve : ownSeeks;
  const locateS = Math.max(assign(reads, m, 0, p), exact ? exactSeeks(reads, m, 0, p).pathS : 0);
  const work = exact ? exactSeeks(reads, m, m.extraSessionS, p, opts.rewind) : null;
  const out: CartridgeSeeks = { locateS, workS: Math.max(assign(reads, m, m.extraSessionS, p), work?.pathS ?? 0) };
  if (work?.rewoundS !== undefined) out.rewoundS = work.rewoundS;
  return out;
}

/**
 * Past this many reads on one cartridge the assignment (O(n³), n² cells)
 * would take minutes: each read's own cheapest predecessor is used instead,
 * the same bound without distinct predecessors (weaker, still true).
 */
export const ASSIGN_MAX = 500;

/** The assignment's rows each at their least cell, without building the matrix; one load forced as in solve(). */
export function ownSeeks(reads: readonly Extent[], m: SeekModel, extraS: number, p: { earlier: readonly Extent[]; forceLoad: boolean }): number {
  let total = 0;
  let entry = Infinity;
  reads.forEach((k, i) => {
    const fromBot = m.locate(0, k.start);
    // A first load costs no extra; only one read can have it, hence `entry` below.
    let least = p.forceLoad ? fromBot + extraS : fromBot;
    if (m.writes) least = Math.min(least, m.locateFixedS);
    for (const e of p.earlier) least = Math.min(least, m.locate(e.end, k.start));
    reads.forEach((j, at) => { if (at !== i) least = Math.min(least, m.locate(j.end, k.start)); });
    total += least;
    entry = Math.min(entry, fromBot - least);
  });
  return p.forceLoad ? total + entry : total;
}

/** Up to this many reads the path bound is exact (2^n · n² steps, twice with a rewind: ~1.2 M at 12). */
export const EXACT_READS = 12;

/**
 * The least seek time over every order of the reads, each step at its
 * cheapest predecessor (see above); with `rewind`, also the least seek time
 * plus the rewind that ends one of the read sessions (a second layer of
 * states: that rewind charged yet or not; it ends the session at a further
 * load, or the last). Only where no earlier read and no write can stand
 * between two reads: a further load is then the only way besides the
 * previous read.
 */
function exactSeeks(reads: readonly Extent[], m: SeekModel, extraS: number, p: { earlier: readonly Extent[]; forceLoad: boolean }, rewind?: (end: number) => number): { pathS: number; rewoundS?: number } {
  if (rewind !== undefined && (p.earlier.length > 0 || m.writes)) throw new RangeError('exactSeeks: a rewind only without earlier reads or writes');
  const n = reads.length;
  // The cheapest way to reach k other than from the previous read: a load, an earlier read, end of data.
  const other = reads.map((k) => {
    let s = m.locate(0, k.start) + extraS;
    for (const e of p.earlier) s = Math.min(s, m.locate(e.end, k.start));
    return m.writes ? Math.min(s, m.locateFixedS) : s;
  });
  const first = reads.map((k, i) => (p.forceLoad ? m.locate(0, k.start) : Math.min(other[i]!, m.locate(0, k.start))));
  const step = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) step[j * n + k] = j === k ? Infinity : m.locate(reads[j]!.end, reads[k]!.start);
  const back = reads.map((e) => rewind?.(e.end) ?? Infinity);
  const full = (1 << n) - 1;
  const layer = (full + 1) * n;
  // best[set * n + j]: no rewind charged yet; best[layer + set * n + j]: one charged.
  const best = new Float64Array(2 * layer).fill(Infinity);
  for (let k = 0; k < n; k++) best[(1 << k) * n + k] = first[k]!;
  for (let set = 1; set <= full; set++) {
    for (let f = 0; f < 2; f++) {
      for (let j = 0; j < n; j++) {
        const v = best[f * layer + set * n + j]!;
        if (v === Infinity) continue;
        for (let k = 0; k < n; k++) {
          if (set & (1 << k)) continue;
          const at = (set | (1 << k)) * n + k;
          const w = v + Math.min(step[j * n + k]!, other[k]!);
          if (w < best[f * layer + at]!) best[f * layer + at] = w;
          // A further load ends the session at j: its rewind, if none was charged yet.
          const r = v + back[j]! + other[k]!;
          if (f === 0 && r < best[layer + at]!) best[layer + at] = r;
        }
      }
    }
  }
  let pathS = Infinity;
  let rewoundS = Infinity;
  for (let j = 0; j < n; j++) {
    pathS = Math.min(pathS, best[full * n + j]!);
    rewoundS = Math.min(rewoundS, best[layer + full * n + j]!, best[full * n + j]! + back[j]!);
  }
  return rewind === undefined ? { pathS } : { pathS, rewoundS };
}

/**
 * Rows: the reads. Columns: the reads as predecessors, the earlier reads,
 * then n loads (the first costs only its locate, each further one `extraS`
 * more), then, where the trace writes, n end-of-data events. n of each is
 * enough for any assignment.
 */
function solve(reads: readonly Extent[], m: SeekModel, extraS: number, p: { earlier: readonly Extent[]; forceLoad: boolean }): number {
  const n = reads.length;
  const e = p.earlier.length;
  const loads = n + e;
  const cols = loads + n + (m.writes ? n : 0);
  const cost = new Float64Array(n * cols);
  let most = 0;
  for (let i = 0; i < n; i++) {
    const row = i * cols;
    const to = reads[i]!.start;
    for (let j = 0; j < n; j++) cost[row + j] = i === j ? Infinity : m.locate(reads[j]!.end, to);
    for (let j = 0; j < e; j++) cost[row + n + j] = m.locate(p.earlier[j]!.end, to);
    const fromBot = m.locate(0, to);
    cost[row + loads] = fromBot;
    for (let k = 1; k < n; k++) cost[row + loads + k] = fromBot + extraS;
    if (m.writes) for (let k = 0; k < n; k++) cost[row + loads + n + k] = m.locateFixedS;
    for (let j = 0; j < cols; j++) if (cost[row + j]! !== Infinity) most = Math.max(most, cost[row + j]!);
  }
  if (!p.forceLoad) return minAssignment(cost, n, cols);
  // Force the first load into the assignment: a bonus larger than any cell
  // makes every least-cost assignment use it (else moving any row onto it
  // would be cheaper), and the bonus is given back after.
  const bonus = most + 1;
  for (let i = 0; i < n; i++) cost[i * cols + loads] -= bonus;
  return minAssignment(cost, n, cols) + bonus;
}
