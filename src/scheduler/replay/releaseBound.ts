import { mountSeconds, transferSeconds, type TapeTiming } from '../../library/timing.js';
import type { ScaledRequest } from './scale.js';
import { cartridgeSeeks, type SeekModel } from './seekBound.js';

/** What the bound knows of one cartridge read in the trace. */
export interface CartridgeInfo {
  reads: readonly ScaledRequest[];
  model: SeekModel;
  /** The least rewind that can end a read session of the cartridge (lowerBound.ts). */
  rewind: number;
}

/**
 * The bound on what follows a time τ: the whole-trace bound (lowerBound.ts)
 * leaves out that drives idle while they wait for requests, so on a trace
 * of bursts it is far below any schedule. For any τ, every request arriving
 * at or after τ is served after τ: its seek (which follows the request: a
 * locate is part of its read) and its transfer. Let R be those requests, on
 * C cartridges, and S the read sessions that serve them (stays of a
 * cartridge in a drive, S >= C). Then, all after τ and before the makespan:
 *   - R's seeks: per cartridge, the least-cost assignment of R's reads to
 *     distinct predecessors (seekBound.ts), where the reads before τ are
 *     possible predecessors too, and no load is forced (the cartridge may be
 *     mounted at τ, its head where an earlier read left it);
 *   - R's transfers (and those of writes arriving at or after τ);
 *   - loads and unloads: at most D sessions are under way at τ, so at least
 *     S − D of S start after τ (a mount each); each cartridge's sessions but
 *     its first start after τ too: at least max(S − D, S − C) mounts. As
 *     many unloads end a session of S before the makespan (each drive's
 *     sessions but its last; each cartridge's sessions but its last). And
 *     max(S − D, S − C) >= max(0, C − D) + (S − C): a mount, unload and
 *     robot move back for max(0, C − D), and the assignment charges the
 *     same for every load beyond a cartridge's first, at most S − C;
 *   - rewinds: those unloads end sessions that are not their drive's last,
 *     so as in lowerBound.ts all but the D largest rewind(c) of the C
 *     cartridges.
 * So makespan >= τ + (all that) / D, and >= τ + the work of any one of
 * the cartridges (serial: one cartridge is in one drive at a time).
 *
 * Every arrival is tried with each request's own least seek (cheap); the
 * `refine` best are then computed with the assignment, which only raises
 * them. Any τ gives a true bound: the largest is kept.
 */
export function releaseBound(carts: readonly CartridgeInfo[], own: Map<ScaledRequest, number>, writes: readonly ScaledRequest[], t: TapeTiming, drives: number, refine = 4): number {
  const sessionS = mountSeconds(t) + t.unloadS + t.robotMoveS;
  const at = (tau: number, work: (c: CartridgeInfo, after: ScaledRequest[]) => number): number => {
    let total = 0;
    for (const w of writes) if (w.row.arrivalS >= tau) total += transferSeconds(t, w.end - w.start);
    let maxCart = 0;
    const rewinds: number[] = [];
    for (const c of carts) {
      const after = c.reads.filter((r) => r.row.arrivalS >= tau);
      if (after.length === 0) continue;
      const w = work(c, after);
      total += w;
      maxCart = Math.max(maxCart, w);
      rewinds.push(c.rewind);
    }
    total += Math.max(0, rewinds.length - drives) * sessionS;
    rewinds.sort((a, b) => b - a);
    for (const r of rewinds.slice(drives)) total += r;
    return tau + Math.max(total / drives, maxCart);
  };
  const assigned = (c: CartridgeInfo, after: ScaledRequest[]): number => {
    const later = new Set(after);
    const before = c.reads.filter((r) => !later.has(r));
    const x = after.reduce((s, r) => s + transferSeconds(t, r.end - r.start), 0);
    return cartridgeSeeks(after, c.model, { earlier: before, inSlot: false }).workS + x;
  };
  const tried = cheapPass(carts, own, writes, t, drives).sort((a, b) => b.s - a.s);
  let best = 0;
  for (const { tau, s } of tried.slice(0, refine)) best = Math.max(best, s, at(tau, assigned));
  return best;
}

/**
 * `at` with each request's own least seek, for every arrival τ at once:
 * from the last arrival backwards, requests only join, so per-cartridge
 * work, the busiest cartridge and the D largest rewinds are kept as they
 * grow (O(n · D), not a pass over the trace per τ).
 */
export function cheapPass(carts: readonly CartridgeInfo[], own: Map<ScaledRequest, number>, writes: readonly ScaledRequest[], t: TapeTiming, drives: number): { tau: number; s: number }[] {
  const sessionS = mountSeconds(t) + t.unloadS + t.robotMoveS;
  const cartOf = new Map<ScaledRequest, CartridgeInfo>();
  for (const c of carts) for (const r of c.reads) cartOf.set(r, c);
  const all = [...carts.flatMap((c) => c.reads), ...writes].sort((a, b) => b.row.arrivalS - a.row.arrivalS);
  const work = new Map<CartridgeInfo, number>();
  let total = 0;
  let maxCart = 0;
  let rewindSum = 0;
  /** The D largest rewinds so far, descending. */
  const top: number[] = [];
  const out: { tau: number; s: number }[] = [];
  for (let i = 0; i < all.length; i++) {
    const r = all[i]!;
    const c = cartOf.get(r);
    if (c === undefined) {
      total += transferSeconds(t, r.end - r.start);
    } else {
      if (!work.has(c)) {
        rewindSum += c.rewind;
        top.push(c.rewind);
        top.sort((a, b) => b - a);
        if (top.length > drives) top.pop();
      }
      const w = (work.get(c) ?? 0) + own.get(r)!;
      work.set(c, w);
      total += own.get(r)!;
      maxCart = Math.max(maxCart, w);
    }
    const tau = r.row.arrivalS;
    // Only once every request of this arrival time has joined.
    if (tau <= 0 || (i + 1 < all.length && all[i + 1]!.row.arrivalS === tau)) continue;
    const sessions = Math.max(0, work.size - drives) * sessionS;
    const rewinds = rewindSum - top.reduce((a, b) => a + b, 0);
    out.push({ tau, s: tau + Math.max((total + sessions + rewinds) / drives, maxCart) });
  }
  return out;
}
