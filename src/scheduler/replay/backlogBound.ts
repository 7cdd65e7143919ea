import { mountSeconds, transferSeconds, type TapeTiming } from '../../library/timing.js';
import { minAssignment } from './assignment.js';
import type { ScaledRequest } from './scale.js';
import { ASSIGN_MAX, type SeekModel } from './seekBound.js';

/**
 * One cartridge's backlog after a time τ: what a request arriving late in
 * a stream costs. A restore requested in name order sweeps each cartridge's
 * run four times (one per writer), so any schedule that reads before the
 * last sweep leaves holes to come back for, and the whole-trace bound
 * (each cartridge's least work from time 0) does not see them.
 *
 * Let τ > 0, L the cartridge's reads arriving at or after τ, E the others,
 * and Done the reads of E whose locate starts before τ. One drive holds the
 * cartridge at a time, and it is first readable after a mount (robot move +
 * load) that starts at 0 at the earliest, so Done's reads, serial, all but
 * the last ending before τ, transfer for at most
 *   B = τ − mount + the longest transfer of E   (0 if τ <= mount).
 * Every other read (L, and E \ Done) is entirely after τ — an L request
 * arrives at or after τ, and E \ Done's locates start after it — so after τ
 * the cartridge's drive spends at least Σ_all − Σ_Done of transfers, and
 * seeks(Done): each of those reads follows a distinct predecessor — another
 * of them (its end), the head as it stands at τ (one column: BOT, the end
 * of a read of E, or where the trace writes the end of data), a load after
 * τ (each but one also charged an unload of the cartridge and a mount,
 * serial for it; the first free is a relaxation), or where the trace writes
 * a write or sync (>= locate_fixed_s): an assignment in which the reads of
 * Done take their own column (their ends precede nobody after τ).
 *
 * Done is the schedule's choice, bound only by Σ_Done <= B. For any λ >= 0,
 *   Σ_all − Σ_Done + seeks(Done) >= Σ_all − Σ_Done + seeks(Done) + λ (Σ_Done − B)
 *     >= min over D ⊆ E of [Σ_all − (1 − λ) Σ_D + seeks(D)] − λ B,
 * and the min is one assignment: a read of E may take its own column at
 * −(1 − λ) × its transfer. λ = 0 lets every early read be done before τ
 * for free (only L's reads and the holes between them count); λ = 1 counts
 * no hole but takes all of B off; between both, the bound sees that what is
 * read early leaves holes, and that only B of it fits before τ. So
 *   makespan >= τ + that, for every τ and λ (weak duality: no λ is wrong).
 *
 * A few τ spread over the cartridge's arrivals are tried with each row at
 * its least cell; for each λ of LAMBDAS one τ is then solved (not past
 * ASSIGN_MAX reads: the least cells alone are still a bound).
 */
export const LAMBDAS = [0.3] as const;

export function backlogBound(reads: readonly ScaledRequest[], own: Map<ScaledRequest, number>, m: SeekModel, t: TapeTiming): number {
  const mount = mountSeconds(t);
  const x = (r: ScaledRequest): number => transferSeconds(t, r.end - r.start);
  const total = reads.reduce((s, r) => s + x(r), 0);
  const budget = (tau: number, late: ReadonlySet<ScaledRequest>): number => {
    let early = 0;
    for (const r of reads) if (!late.has(r)) early = Math.max(early, x(r));
    return tau > mount ? tau - mount + early : 0;
  };
  const lateOf = (tau: number): Set<ScaledRequest> => new Set(reads.filter((r) => r.row.arrivalS >= tau));
  // Least cells: a late read at its own least seek, an early one dropped.
  const cheap = (tau: number, lambda: number): number => {
    const late = lateOf(tau);
    let s = total - lambda * budget(tau, late);
    for (const r of reads) s += late.has(r) ? own.get(r)! - x(r) : -(1 - lambda) * x(r);
    return tau + s;
  };
  // Which τ to solve: the least cells drop every early read but still let
  // late reads follow their ends, which hides the holes; the score instead
  // lets late reads follow only each other (or BOT), as if every early read
  // were done, on a few τ spread over the arrivals. Only a choice: the
  // value kept is always a bound.
  const score = (tau: number, lambda: number): number => {
    const late = [...lateOf(tau)];
    let s = cheap(tau, lambda);
    for (const r of late) {
      let seek = m.locate(0, r.start);
      for (const q of late) if (q !== r) seek = Math.min(seek, m.locate(q.end, r.start));
      s += seek - (own.get(r)! - x(r));
    }
    return s;
  };
  const arrivals = [...new Set(reads.map((r) => r.row.arrivalS))].filter((a) => a > 0).sort((a, b) => a - b);
  const taus = arrivals.filter((_, i) => i % Math.max(1, Math.floor(arrivals.length / SPREAD)) === 0);
  let best = 0;
  for (const tau of taus) for (const lambda of LAMBDAS) best = Math.max(best, cheap(tau, lambda));
  if (reads.length > ASSIGN_MAX) return best;
  for (const lambda of LAMBDAS) {
    let top = { tau: 0, s: -Infinity };
    for (const tau of taus) {
      const s = score(tau, lambda);
      if (s > top.s) top = { tau, s };
    }
    if (top.s === -Infinity) continue;
    const late = lateOf(top.tau);
    best = Math.max(best, top.tau + total - lambda * budget(top.tau, late) + backlogSeeks(reads, late, m, lambda, x));
  }
  return best;
}

/** How many τ, spread over a cartridge's arrivals, are scored for solving. */
const SPREAD = 16;

/**
 * The assignment above. Rows: every read. Columns: every read's end (its
 * own: an early read kept before τ, at −(1 − λ) × its transfer; forbidden
 * to a late one), the head at τ, n loads (the first free of extra), where
 * the trace writes n end-of-data events.
 */
export function backlogSeeks(reads: readonly ScaledRequest[], late: ReadonlySet<ScaledRequest>, m: SeekModel, lambda: number, x: (r: ScaledRequest) => number): number {
  const n = reads.length;
  const cols = 2 * n + 1 + (m.writes ? n : 0);
  const cost = new Float64Array(n * cols);
  const early = reads.filter((r) => !late.has(r));
  for (let i = 0; i < n; i++) {
    const row = i * cols;
    const r = reads[i]!;
    const to = r.start;
    for (let j = 0; j < n; j++) cost[row + j] = i === j ? (late.has(r) ? Infinity : -(1 - lambda) * x(r)) : m.locate(reads[j]!.end, to);
    const fromBot = m.locate(0, to);
    let head = fromBot;
    for (const e of early) head = Math.min(head, m.locate(e.end, to));
    if (m.writes) head = Math.min(head, m.locateFixedS);
    cost[row + n] = head;
    cost[row + n + 1] = fromBot;
    for (let k = 1; k < n; k++) cost[row + n + 1 + k] = fromBot + m.extraSessionS;
    if (m.writes) for (let k = 0; k < n; k++) cost[row + 2 * n + 1 + k] = m.locateFixedS;
  }
  return minAssignment(cost, n, cols);
}
