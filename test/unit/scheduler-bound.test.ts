/** The replay's lower bound against brute force: the assignment solver and the per-cartridge seek bound. */
import anyTest from 'ava';
import { Config } from '../../src/core/config.js';
import { locateSeconds, timingFromConfig } from '../../src/library/timing.js';
import { POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import { formatTrace, lowerBound, parseTrace, replayTrace, type TraceRow } from '../../src/scheduler/replay.js';
import { minAssignment } from '../../src/scheduler/replay/assignment.js';
import { backlogBound } from '../../src/scheduler/replay/backlogBound.js';
import { cheapPass, type CartridgeInfo } from '../../src/scheduler/replay/releaseBound.js';
import { scaleTrace, type ScaledRequest } from '../../src/scheduler/replay/scale.js';
import { ASSIGN_MAX, cartridgeSeeks, EXACT_READS, ownSeeks, type Extent } from '../../src/scheduler/replay/seekBound.js';

// Serial: the replays' virtual clocks would wait on each other's file I/O.
const test = anyTest.serial;

const timing = timingFromConfig(new Config({ file: null, env: {} }));
const CAP = 18e12;
const locate = (from: number, to: number): number => locateSeconds(timing, CAP, from, to);
const EXTRA = 10 + 17 + 30 + 10;

function rnd(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
}

function perms(n: number): number[][] {
  if (n === 0) return [[]];
  return perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

test('minAssignment is the least cost over every assignment (brute force, forbidden cells included)', (t) => {
  const r = rnd(3);
  for (let k = 0; k < 40; k++) {
    const rows = 1 + Math.floor(r() * 5);
    const cols = rows + Math.floor(r() * 3);
    const cost = Float64Array.from({ length: rows * cols }, (_, i) => (i % cols === Math.floor(i / cols) && r() < 0.5 ? Infinity : Math.floor(r() * 100)));
    let best = Infinity;
    // Every injective map rows -> cols: permutations of cols, first `rows` of each.
    for (const p of perms(cols)) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += cost[i * cols + p[i]!]!;
      best = Math.min(best, s);
    }
    if (best === Infinity) continue;
    t.is(minAssignment(cost, rows, cols), best, `case ${k}: ${rows}×${cols}`);
  }
});

/**
 * The least seek time of reading `reads` on one cartridge over every
 * schedule: every order, split into read sessions anywhere (each session
 * starts from BOT); each session after the first costs `extraS`.
 */
function bruteSeeks(reads: readonly Extent[], extraS: number, rewound = false): number {
  const n = reads.length;
  let best = Infinity;
  for (const p of perms(n)) {
    for (let breaks = 0; breaks < 1 << Math.max(0, n - 1); breaks++) {
      let s = 0;
      let at = 0;
      // With `rewound`: plus the rewind ending one of the sessions (the cheapest).
      let back = Infinity;
      p.forEach((i, k) => {
        if (k > 0 && breaks & (1 << (k - 1))) { back = Math.min(back, locate(at, 0)); at = 0; s += extraS; }
        s += locate(at, reads[i]!.start);
        at = reads[i]!.end;
      });
      back = Math.min(back, locate(at, 0));
      best = Math.min(best, s + (rewound ? back : 0));
    }
  }
  return best;
}

test('the seek bound of a cartridge is below the best schedule of its reads (brute force: every order and split into mounts)', (t) => {
  const r = rnd(11);
  let tighter = 0;
  for (let k = 0; k < 60; k++) {
    const n = 1 + Math.floor(r() * 6);
    const reads: Extent[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0 && r() < 0.15) { reads.push({ ...reads[i - 1]! }); continue; } // the same extent read twice
      // Clustered on a few wraps half the time, so read-through and short hops occur.
      const start = r() < 0.5 ? Math.floor(r() * CAP * 0.99) : Math.floor((0.3 + r() * 0.01) * CAP);
      const size = Math.floor(1e8 + r() * 4e9);
      if (i > 0 && r() < 0.2) { const prev = reads[i - 1]!; reads.push({ start: prev.end, end: prev.end + size }); continue; }
      reads.push({ start, end: start + size });
    }
    const got = cartridgeSeeks(reads, { locate, locateFixedS: timing.locateFixedS, writes: false, extraSessionS: EXTRA }, { rewind: (end) => locate(end, 0) });
    const freeSplits = bruteSeeks(reads, 0);
    const rewound = bruteSeeks(reads, EXTRA, true);
    t.true(Math.abs(got.rewoundS! - rewound) < 1e-6, `case ${k}: with a rewind ${got.rewoundS} = best ${rewound}`);
    const chargedSplits = bruteSeeks(reads, EXTRA);
    // Up to EXACT_READS reads the bound is the best schedule itself.
    t.true(Math.abs(got.locateS - freeSplits) < 1e-6, `case ${k}: locate bound ${got.locateS} = best ${freeSplits}`);
    t.true(Math.abs(got.workS - chargedSplits) < 1e-6, `case ${k}: work bound ${got.workS} = best ${chargedSplits}`);
    t.true(got.locateS <= got.workS + 1e-9);
    // Writes only loosen it (a head may also stand at end of data).
    t.true(cartridgeSeeks(reads, { locate, locateFixedS: timing.locateFixedS, writes: true, extraSessionS: EXTRA }).workS <= got.workS + 1e-9);
    // Against the old bound (each read's own least seek, one read from BOT), it is never weaker.
    const own = reads.map((e, i) => Math.min(locate(0, e.start), ...reads.filter((_, j) => j !== i).map((f) => locate(f.end, e.start))));
    const entry = Math.min(...reads.map((e, i) => locate(0, e.start) - own[i]!));
    const old = own.reduce((a, b) => a + b, 0) + entry;
    t.true(got.workS >= old - 1e-9, `case ${k}: ${got.workS} >= ${old}`);
    if (got.workS > old + 1e-6) tighter++;
  }
  t.true(tighter > 0, 'the bound must be tighter than the old one somewhere');
});

test('past EXACT_READS the assignment alone is below the best path, and tighter than each read\'s own seek', (t) => {
  for (let seed = 1; seed <= 5; seed++) {
    const r = rnd(seed);
    const reads: Extent[] = Array.from({ length: EXACT_READS + 8 }, () => {
      const start = Math.floor(r() * CAP * 0.99);
      return { start, end: start + 2e9 };
    });
    const got = cartridgeSeeks(reads, { locate, locateFixedS: timing.locateFixedS, writes: false, extraSessionS: EXTRA });
    const own = reads.reduce((s, e, i) => s + Math.min(locate(0, e.start), ...reads.filter((_, j) => j !== i).map((f) => locate(f.end, e.start))), 0);
    // Nearest-neighbour from BOT is one schedule: the bound is below it.
    const left = new Set(reads);
    let at = 0;
    let nn = 0;
    while (left.size > 0) {
      const next = [...left].reduce((a, b) => (locate(at, b.start) < locate(at, a.start) ? b : a));
      nn += locate(at, next.start);
      at = next.end;
      left.delete(next);
    }
    t.true(got.locateS <= nn + 1e-9 && got.locateS > own, `seed ${seed}: own ${own} < bound ${got.locateS} <= nearest-neighbour ${nn}`);
  }
});

test('past ASSIGN_MAX reads, each read\'s own cheapest predecessor: below the assignment, and quick', (t) => {
  const model = { locate, locateFixedS: timing.locateFixedS, writes: false, extraSessionS: EXTRA };
  for (let seed = 1; seed <= 10; seed++) {
    const r = rnd(seed);
    const reads: Extent[] = Array.from({ length: 30 }, () => {
      const start = Math.floor(r() * CAP * 0.99);
      return { start, end: start + Math.floor(1e8 + r() * 4e9) };
    });
    const earlier = reads.splice(0, seed % 3);
    for (const inSlot of [true, false]) {
      const p = { earlier, forceLoad: inSlot };
      for (const extraS of [0, EXTRA]) {
        const own = ownSeeks(reads, model, extraS, p);
        const got = cartridgeSeeks(reads, { ...model, extraSessionS: extraS }, { earlier, inSlot });
        t.true(own <= got.workS + 1e-9, `seed ${seed}: own ${own} <= assignment ${got.workS}`);
      }
    }
  }
  const many: Extent[] = Array.from({ length: ASSIGN_MAX + 100 }, (_, i) => ({ start: i * 1e10, end: i * 1e10 + 1e9 }));
  t.true(cartridgeSeeks(many, model).workS > 0);
});

/**
 * The least seek time of `reads` after a time τ, brute force: the head at τ
 * is at BOT or where an earlier read left it, and after τ any of the earlier
 * requests may still be read, in between, uncharged; a new load costs `extraS`.
 */
function bruteAfter(reads: readonly Extent[], earlier: readonly Extent[], extraS: number): number {
  let best = Infinity;
  const all = [...reads, ...earlier];
  for (let mask = 0; mask < 1 << earlier.length; mask++) {
    const idx = [...reads.keys(), ...[...earlier.keys()].filter((j) => mask & (1 << j)).map((j) => reads.length + j)];
    for (const p of perms(idx.length)) {
      for (const start of [0, ...earlier.map((e) => e.end)]) {
        for (let breaks = 0; breaks < 1 << idx.length; breaks++) {
          let s = 0;
          let at = start;
          p.forEach((q, k) => {
            const i = idx[q]!;
            if (breaks & (1 << k)) { at = 0; if (i < reads.length) s += extraS; }
            if (i < reads.length) s += locate(at, all[i]!.start);
            at = all[i]!.end;
          });
          best = Math.min(best, s);
        }
      }
    }
  }
  return best;
}

test('after a time τ: the seek bound is below the best schedule when earlier reads may come before or in between (brute force)', (t) => {
  const r = rnd(5);
  for (let k = 0; k < 30; k++) {
    const ext = (): Extent => {
      const start = Math.floor((r() < 0.5 ? r() * 0.99 : 0.5 + r() * 0.01) * CAP);
      return { start, end: start + Math.floor(1e8 + r() * 4e9) };
    };
    const reads = Array.from({ length: 1 + Math.floor(r() * 3) }, ext);
    const earlier = Array.from({ length: Math.floor(r() * 3) }, ext);
    const got = cartridgeSeeks(reads, { locate, locateFixedS: timing.locateFixedS, writes: false, extraSessionS: EXTRA }, { earlier, inSlot: false });
    const brute = bruteAfter(reads, earlier, EXTRA);
    t.true(got.workS <= brute + 1e-9, `case ${k}: ${got.workS} <= ${brute}`);
  }
});

function clusteredTrace(seed: number, n: number, carts: number): TraceRow[] {
  const r = rnd(seed);
  const rows: Omit<TraceRow, 'line'>[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += r() * 3;
    const size = Math.floor(1e8 + r() * 4e9);
    // Most reads on one cartridge, bunched on a few wraps: where two reads would share a predecessor.
    const cartridge = `C${r() < 0.6 ? 0 : 1 + Math.floor(r() * (carts - 1))}L9`;
    const base = Math.floor(r() * 4) * 4.5e12;
    rows.push({ arrivalS: t, op: 'read', cartridge, position: Math.floor(base + r() * 2e11), size });
  }
  return parseTrace(formatTrace(rows));
}

test('no policy beats the bound on small random traces that crowd one cartridge', async (t) => {
  for (const seed of [4, 5, 6]) {
    for (const drives of [1, 2]) {
      const res = await replayTrace(clusteredTrace(seed, 18, 3), { drives, policies: [...POLICY_NAMES] });
      const bound = res.find((r) => r.policy === 'lower-bound')!;
      for (const r of res) {
        t.true(r.makespan_s >= bound.makespan_s - 1e-6, `seed ${seed}, ${drives} drives: ${r.policy} ${r.makespan_s} s >= bound ${bound.makespan_s} s`);
        t.true(r.locate_s >= bound.locate_s - 1e-6, `seed ${seed}, ${drives} drives: ${r.policy} locate ${r.locate_s} >= ${bound.locate_s}`);
      }
    }
  }
});

function burstyTrace(seed: number, bursts: number, perBurst: number, carts: number): TraceRow[] {
  const r = rnd(seed);
  const rows: Omit<TraceRow, 'line'>[] = [];
  for (let b = 0; b < bursts; b++) {
    for (let i = 0; i < perBurst; i++) {
      const size = Math.floor(1e8 + r() * 4e9);
      rows.push({ arrivalS: b * 3000 + r() * 30, op: 'read', cartridge: `C${Math.floor(r() * carts)}L9`, position: Math.floor(r() * (18e12 - size)), size });
    }
  }
  return parseTrace(formatTrace(rows));
}

test('bursts: the bound counts what must follow the last burst, and no policy beats it', async (t) => {
  for (const seed of [21, 22, 23]) {
    for (const drives of [1, 2]) {
      const trace = burstyTrace(seed, 3, 8, 4);
      const res = await replayTrace(trace, { drives, policies: [...POLICY_NAMES] });
      const bound = res.find((r) => r.policy === 'lower-bound')!;
      // More than the last arrival plus one request: the last burst's work, after it began.
      t.true(bound.makespan_s > 6000 + 100, `seed ${seed}, ${drives} drives: bound ${bound.makespan_s} s`);
      for (const r of res) {
        t.true(r.makespan_s >= bound.makespan_s - 1e-6, `seed ${seed}, ${drives} drives: ${r.policy} ${r.makespan_s} s >= bound ${bound.makespan_s} s`);
      }
    }
  }
});

test('the release bound\'s pass over every arrival equals computing each τ from scratch', (t) => {
  for (const seed of [31, 32, 33]) {
    const rows = burstyTrace(seed, 4, 10, 5).map((r, i) => (i % 7 === 0 ? { ...r, op: 'write' as const } : r));
    const scaled = scaleTrace(parseTrace(formatTrace(rows)), { drives: 2 });
    const reads = scaled.requests.filter((r) => r.row.op === 'read');
    const writes = scaled.requests.filter((r) => r.row.op === 'write');
    const r = rnd(seed);
    const own = new Map<ScaledRequest, number>(scaled.requests.map((x) => [x, 1 + r() * 50]));
    const carts: CartridgeInfo[] = [...new Set(reads.map((x) => x.row.cartridge))].map((label) => ({
      reads: reads.filter((x) => x.row.cartridge === label),
      model: { locate, locateFixedS: 3, writes: true, extraSessionS: EXTRA },
      rewind: 5 + r() * 40,
    }));
    for (const drives of [1, 2, 3]) {
      const got = cheapPass(carts, own, writes, timing, drives);
      for (const { tau, s } of got) {
        let total = writes.filter((w) => w.row.arrivalS >= tau).reduce((a, w) => a + (w.end - w.start) / timing.rateBytesPerS, 0);
        let maxCart = 0;
        const rewinds: number[] = [];
        for (const c of carts) {
          const after = c.reads.filter((x) => x.row.arrivalS >= tau);
          if (after.length === 0) continue;
          const w = after.reduce((a, x) => a + own.get(x)!, 0);
          total += w;
          maxCart = Math.max(maxCart, w);
          rewinds.push(c.rewind);
        }
        total += Math.max(0, rewinds.length - drives) * (10 + 17 + 30 + 10);
        total += rewinds.sort((a, b) => b - a).slice(drives).reduce((a, b) => a + b, 0);
        t.true(Math.abs(s - (tau + Math.max(total / drives, maxCart))) < 1e-6, `seed ${seed}, ${drives} drives, τ ${tau}`);
      }
      t.is(got.length, new Set(scaled.requests.map((x) => x.row.arrivalS).filter((a) => a > 0)).size);
    }
  }
});

/** One cartridge, one drive, a single mount at 0: the best makespan over every order (a read starts no sooner than its arrival). */
function bruteMakespan(reads: readonly ScaledRequest[]): number {
  let best = Infinity;
  for (const p of perms(reads.length)) {
    let now = 10 + 17;
    let head = 0;
    for (const i of p) {
      const r = reads[i]!;
      now = Math.max(now, r.row.arrivalS) + locate(head, r.start) + (r.end - r.start) / timing.rateBytesPerS;
      head = r.end;
    }
    best = Math.min(best, now);
  }
  return best;
}

test('a stream requested over time: the backlog bound is below the best schedule (brute force), and above the bound from time 0 somewhere', (t) => {
  const r = rnd(41);
  let above = 0;
  for (let k = 0; k < 40; k++) {
    const n = 3 + Math.floor(r() * 4);
    const base = Math.floor(r() * 0.9 * CAP);
    let at = base;
    const reads: ScaledRequest[] = [];
    for (let i = 0; i < n; i++) {
      const size = Math.floor(2e9 + r() * 3e9);
      const start = at + (r() < 0.3 ? Math.floor(r() * 4e9) : 0);
      at = start + size;
      const arrivalS = r() * 150;
      reads.push({ row: { line: 0, arrivalS, op: 'read', cartridge: 'A', position: start, size }, start, end: start + size, key: `A@${start}+${size}` });
    }
    const bound = lowerBound(reads, new Map([['A', CAP]]), timing, 1).makespanS;
    const brute = bruteMakespan(reads);
    t.true(bound <= brute + 1e-6, `case ${k}: bound ${bound} <= best ${brute}`);
    const fromZero = lowerBound(reads.map((x) => ({ ...x, row: { ...x.row, arrivalS: 0 } })), new Map([['A', CAP]]), timing, 1).makespanS;
    const own = new Map(reads.map((x) => [x, (x.end - x.start) / timing.rateBytesPerS + Math.min(locate(0, x.start), ...reads.filter((y) => y !== x).map((y) => locate(y.end, x.start)))]));
    const backlog = backlogBound(reads, own, { locate, locateFixedS: timing.locateFixedS, writes: false, extraSessionS: EXTRA }, timing);
    t.true(backlog <= bound + 1e-6);
    if (backlog > fromZero + 1e-6) above++;
  }
  t.log(`backlog above the bound from 0 in ${above} of 40`);
  t.true(above > 0, 'the backlog must matter somewhere');
});
