import { locateSeconds, mountSeconds, pointAt, transferSeconds, type TapeTiming } from '../../library/timing.js';
import type { ScaledRequest } from './scale.js';
import { backlogBound } from './backlogBound.js';
import { releaseBound, type CartridgeInfo } from './releaseBound.js';
import { cartridgeSeeks, type SeekModel } from './seekBound.js';

/**
 * A lower bound on what any schedule can achieve on a trace — no feasible
 * schedule, online or clairvoyant, beats it:
 *
 * - Seeks. Right before each read the head locates from where the
 *   cartridge's previous head-moving event left it (a load: BOT; a read:
 *   the end of its extent; where the trace writes, a write or sync: at or
 *   past the initial end of data). Each event precedes at most one read, so
 *   the reads of a cartridge need at least the least-cost assignment of
 *   reads to distinct predecessor events, one of them a load when the trace
 *   does not write; up to EXACT_READS reads, at least their cheapest path,
 *   every order and split into mounts tried (seekBound.ts, which proves
 *   both; workS(c) is the larger, past 500 reads each read's own cheapest
 *   predecessor). Per request, its own
 *   least seek: min over {BOT} ∪ {end of every other requested extent of
 *   the cartridge, and e's own end if e is read twice} (∪ locate_fixed_s
 *   where the trace writes) of locate(from, e.start).
 * - Reading e takes transfer(size) at the streaming rate, and a write of n
 *   bytes takes transfer(n).
 * - Every cartridge read starts in a slot, so it is mounted at least once:
 *   robot move + load.
 * - Unloads. Call a read session a stay of a cartridge in a drive, from its
 *   load to its unload, in which at least one read of the trace is served
 *   (stays without reads only add time). Every read session of a drive but
 *   its last one ends with an unload done before that drive loads its next
 *   read session, so before that session's reads complete: before the
 *   makespan (the last completion). With C cartridges read and D drives
 *   there are at least C read sessions, so at least C − D such unloads,
 *   each unload_s + robot_move_s of drive time (the sim's unload holds the
 *   drive until the robot has put the cartridge back).
 * - Rewinds. The sim's unload starts with a rewind, locate(head, BOT)
 *   (TapeVolume.unmount; a sync of unsynced writes before it leaves the
 *   head at end of data). In a read session the last read leaves the head
 *   at the end of its extent (the stream moves it there); after it only
 *   writes and syncs move the head, to the end of data of the time, at or
 *   past the cartridge's initial end of data, which replay/populate.ts puts
 *   at the end of its last requested extent. (Nothing else moves a head:
 *   format returns to BOT but refuses a cartridge with extents.) So the
 *   rewind ending a read session of cartridge c takes at least rewind(c),
 *   the least of
 *     - locate(end, BOT) over c's requested extents, and
 *     - where the trace writes, a floor for any position p at or past c's
 *       initial end of data: locate_fixed_s, plus wrap_change_s if that end
 *       of data lies past wrap 0, plus band_change_s if past band 0. Any
 *       locate from p > 0 to BOT pays the fixed part and the wrap and band
 *       changes of p, with travel and reversals >= 0, and p's wrap and band
 *       only grow with p. (Not the rewind from the end of data itself: on a
 *       serpentine tape a rewind's cost is not monotonic in the position —
 *       from the end of wrap 1, near BOT, it is shorter than from the end of
 *       wrap 0, at the far end — so a head further along may rewind faster.)
 *   Jointly with the path, where the trace does not write and c has at
 *   most EXACT_READS reads: c's seeks plus the rewind ending one of its
 *   sessions take at least rewoundS(c) (seekBound.ts: the path's end is
 *   where the rewind starts, and the shortest path seldom ends near BOT),
 *   so such a rewind adds at least extra(c) = max(rewind(c), rewoundS(c)
 *   − workS(c)) to c's work bound; elsewhere extra(c) = rewind(c).
 *   The C − D unloads above end read sessions that are not the last of
 *   their drive. A cartridge with no such session has all its read sessions
 *   among the at most D last ones: at most D cartridges. So those unloads
 *   rewind for at least
 *     Σ_c extra(c) − (the D largest extra(c))
 *   of drive time before the makespan (beyond the seeks counted in work),
 *   besides their unload_s + robot_move_s.
 * Then for work(c) = mount + workS(c) + Σ transfers, where workS charges a
 * mount, an unload and a robot move for every load of c beyond the first
 * (seekBound.ts). Those are not counted twice: with
 * S read sessions in all, of which s_c of cartridge c, at least S − D
 * unloads (each drive's sessions but its last) and at least S − C (each
 * cartridge's sessions but its last: it is unloaded before it is loaded
 * again) come before the makespan, and max(S − D, S − C) >= max(0, C − D)
 * + Σ_c (s_c − 1): the unloads counted above plus one per further session.
 *   1. a request arriving at a cannot complete before a + its own seek +
 *      transfer (a drive serves one request at a time);
 *   2. one cartridge is in one drive at a time, so its work is serial:
 *      makespan >= max work(c) (not more per cartridge: any one cartridge
 *      may be among those still loaded at the end, with no unload to count);
 *   3. D drives work in parallel at best: makespan >= (Σ work + unloads +
 *      rewinds) / D (writes' transfers included).
 *   4. what must follow any time τ (releaseBound.ts): the requests arriving
 *      from τ on, their cartridges' loads, unloads and rewinds, after τ;
 *   5. per cartridge, what must follow τ when its requests keep arriving
 *      (backlogBound.ts): reads done before τ fit in τ, and those left
 *      leave holes between them.
 * Syncs, robot contention and waiting are left out: leaving out work only
 * weakens the bound, it never makes it wrong. Waits use the same
 * per-request minimum (seek + transfer), each a bound for that request.
 */
export interface Bound {
  makespanS: number;
  meanWaitS: number;
  p99WaitS: number;
  locateS: number;
  mounts: number;
}

export function lowerBound(reqs: readonly ScaledRequest[], capacity: Map<string, number>, timing: TapeTiming, drives: number): Bound {
  const perCart = new Map<string, ScaledRequest[]>();
  const written = new Set<string>();
  for (const r of reqs) {
    if (r.row.op === 'write') { written.add(r.row.cartridge); continue; }
    const list = perCart.get(r.row.cartridge) ?? [];
    list.push(r);
    perCart.set(r.row.cartridge, list);
  }
  // Writes may land on any cartridge: any cartridge may see a head at end of data.
  const anyWrites = written.size > 0;
  const own = new Map<ScaledRequest, number>();
  let total = 0;
  let maxCart = 0;
  let locateS = 0;
  const rewinds: number[] = [];
  const carts: CartridgeInfo[] = [];
  for (const [label, list] of perCart) {
    const cap = capacity.get(label)!;
    const count = new Map<string, number>();
    for (const r of list) count.set(r.key, (count.get(r.key) ?? 0) + 1);
    const extents = [...new Map(list.map((r) => [r.key, r])).values()];
    const seekOf = new Map<string, number>();
    for (const e of extents) {
      let best = locateSeconds(timing, cap, 0, e.start);
      for (const f of extents) {
        if (f.key === e.key && count.get(e.key)! < 2) continue;
        best = Math.min(best, locateSeconds(timing, cap, f.end, e.start));
        if (best === 0) break;
      }
      if (anyWrites) best = Math.min(best, timing.locateFixedS);
      seekOf.set(e.key, best);
    }
    const model: SeekModel = {
      locate: (from, to) => locateSeconds(timing, cap, from, to),
      locateFixedS: timing.locateFixedS,
      writes: anyWrites,
      extraSessionS: mountSeconds(timing) + timing.unloadS + timing.robotMoveS,
    };
    // The least rewind that can end a read session of the cartridge (see above).
    let rewind = Infinity;
    for (const e of extents) rewind = Math.min(rewind, locateSeconds(timing, cap, e.end, 0));
    if (anyWrites) rewind = Math.min(rewind, rewindFloorFrom(timing, cap, Math.max(...extents.map((e) => e.end))));
    const seeks = cartridgeSeeks(list, model, { rewind: anyWrites ? undefined : (end) => locateSeconds(timing, cap, end, 0) });
    let work = mountSeconds(timing) + seeks.workS;
    locateS += seeks.locateS;
    for (const r of list) {
      const x = transferSeconds(timing, r.end - r.start);
      own.set(r, seekOf.get(r.key)! + x);
      work += x;
    }
    total += work;
    maxCart = Math.max(maxCart, work, backlogBound(list, own, model, timing));
    // With the path: what a rewind ending one of its sessions adds at least.
    rewinds.push(Math.max(rewind, (seeks.rewoundS ?? -Infinity) - seeks.workS));
    carts.push({ reads: list, model, rewind });
  }
  total += Math.max(0, perCart.size - drives) * (timing.unloadS + timing.robotMoveS);
  // All but the D largest: those cartridges may stay loaded to the end.
  rewinds.sort((a, b) => b - a);
  for (const r of rewinds.slice(drives)) total += r;
  let arrival = 0;
  const waits: number[] = [];
  for (const r of reqs) {
    const w = own.get(r) ?? transferSeconds(timing, r.end - r.start);
    if (r.row.op === 'write') total += w;
    arrival = Math.max(arrival, r.row.arrivalS + w);
    waits.push(w);
  }
  waits.sort((a, b) => a - b);
  return {
    makespanS: Math.max(arrival, total / drives, maxCart, releaseBound(carts, own, reqs.filter((r) => r.row.op === 'write'), timing, drives)),
    meanWaitS: waits.reduce((a, b) => a + b, 0) / waits.length,
    p99WaitS: waits[Math.min(waits.length - 1, Math.ceil(0.99 * waits.length) - 1)] ?? 0,
    locateS,
    mounts: perCart.size,
  };
}

/**
 * No rewind from any position p >= `from` (> 0) takes less: a locate to BOT
 * costs locate_fixed_s, plus the wrap change and band change of p, plus
 * travel and reversals (>= 0); wrap and band never decrease with p.
 */
export function rewindFloorFrom(t: TapeTiming, capacity: number, from: number): number {
  const p = pointAt(t, capacity, from);
  return t.locateFixedS + (p.wrap > 0 ? t.wrapChangeS : 0) + (p.band > 0 ? t.bandChangeS : 0);
}
