/** The scheduler's pure parts: fair share, write choice, tour planning, trace parsing, counters. */
import test from 'ava';
import { Config } from '../../src/core/config.js';
import { locateSeconds, timingFromConfig, transferSeconds } from '../../src/library/timing.js';
import { createPolicy, isPolicyName, POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import type { CostModel, PendingRead } from '../../src/scheduler/policies/interface.js';
import { PlannedOrder } from '../../src/scheduler/policies/cost.js';
import { bestRotation, buildUnits, elevator, EXACT_MAX, exactPath, nearestNeighbour, orOpt, pathSeconds, planTour, rewindEnd, waitSeconds } from '../../src/scheduler/policies/tour.js';
import { parseTrace } from '../../src/scheduler/replay.js';
import { WaitHistogram } from '../../src/scheduler/tape/counters.js';
import { FairShare, parseShares } from '../../src/scheduler/tape/fairShare.js';
import { chooseWriteMedia, type WriteCandidate } from '../../src/scheduler/tape/writeChoice.js';

const timing = timingFromConfig(new Config({ file: null, env: {} }));
const CAP = 18e12;
const cost: CostModel = {
  locate: (a, b) => locateSeconds(timing, CAP, a, b),
  transfer: (n) => transferSeconds(timing, n),
  mountS: 27, unmountS: 40, locateFixedS: 3, wrapBytes: CAP / 280,
};

function rnd(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
}

function sparse(n: number, seed: number): PendingRead[] {
  const r = rnd(seed);
  return Array.from({ length: n }, (_, id) => ({ id, position: Math.floor(r() * (CAP - 4e9)), size: 2e9, arrivalMs: id }));
}

test('fair share: parse, maxima always, minima as reservations while work waits', (t) => {
  const fs = new FairShare(parseShares('LTO9=read:1,write:1,format:0', 'min'), parseShares('LTO9=read:4,write:2,format:1; LTO8=write:0', 'max'));
  const none = { read: false, write: false, format: false };
  t.false(fs.allows('LTO9', 'write', { read: 0, write: 2, format: 0 }, 2, none), 'write max 2 reached');
  t.false(fs.allows('LTO8', 'write', { read: 0, write: 0, format: 0 }, 4, none), 'max 0 forbids');
  t.true(fs.allows('LTO9', 'read', { read: 3, write: 0, format: 0 }, 1, none), 'no write waiting: no reservation');
  t.false(fs.allows('LTO9', 'read', { read: 3, write: 0, format: 0 }, 1, { ...none, write: true }), 'last free drive kept for the waiting write');
  t.true(fs.allows('LTO9', 'read', { read: 3, write: 0, format: 0 }, 2, { ...none, write: true }));
  t.true(fs.allows('LTO7', 'format', { read: 9, write: 9, format: 9 }, 1, none), 'unnamed models are unconstrained');
  for (const bad of ['LTO9', 'LTO9=read', 'LTO9=read:x', 'LTO9=copy:1', 'LTO9=read:-1']) {
    t.throws(() => parseShares(bad, 'io_sched.fair_share_max'), { code: 'EINVAL' }, bad);
  }
  t.is(parseShares('', 'x').size, 0);
});

test('write choice: mounted with room, then best fit, then most room to split', (t) => {
  const c = (name: string, room: number, mounted = false, writing = false, lastGrouping: string | null = null): WriteCandidate => ({ name, room, mounted, writing, lastGrouping });
  t.deepEqual(chooseWriteMedia([c('a', 100), c('b', 50, true), c('c', 60)], 1, 40, null), ['b'], 'mounted first');
  t.deepEqual(chooseWriteMedia([c('a', 100), c('b', 30, true), c('c', 60)], 1, 40, null), ['c'], 'then best fit among the others');
  t.deepEqual(chooseWriteMedia([c('a', 100, true, true), c('b', 100, true, false)], 1, 40, null), ['b'], 'an idle mounted one before a busy one');
  t.deepEqual(chooseWriteMedia([c('a', 100, true, true, 'g'), c('b', 100, true)], 1, 40, 'g'), ['a'], 'same grouping stays together');
  t.deepEqual(chooseWriteMedia([c('a', 10), c('b', 30, true), c('c', 20)], 1, 40, null), ['b'], 'nothing fits: mounted with most room');
  t.deepEqual(chooseWriteMedia([c('a', 10), c('b', 30), c('c', 20)], 2, 40, null), ['b', 'c']);
  t.is(chooseWriteMedia([c('a', 10), c('b', 0)], 2, 5, null), null, 'not enough media with room');
});

test('tour: contiguous extents form one unit read in position order', (t) => {
  const base = 5e12;
  const items: PendingRead[] = [3, 0, 2, 1].map((k, id) => ({ id, position: base + k * 1e9, size: 1e9, arrivalMs: id }));
  const units = buildUnits(items, cost);
  t.is(units.length, 1);
  t.deepEqual(units[0]!.items.map((r) => r.position), [0, 1, 2, 3].map((k) => base + k * 1e9));
  t.deepEqual(planTour(0, items, cost).flatMap((u) => u.items).map((r) => r.id), [1, 3, 2, 0]);
});

test('tour: or-opt never lengthens nearest-neighbour and beats position order on sparse recalls', (t) => {
  let nn = 0;
  let planned = 0;
  let sorted = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const items = sparse(20, seed);
    const units = buildUnits(items, cost);
    const n = nearestNeighbour(0, units, cost);
    const o = orOpt(0, n, cost, 8);
    t.true(pathSeconds(0, o, cost) <= pathSeconds(0, n, cost) + 1e-9);
    nn += pathSeconds(0, n, cost);
    planned += pathSeconds(0, planTour(0, items, cost), cost);
    sorted += pathSeconds(0, elevator(0, units), cost);
  }
  t.true(planned < nn, `planned ${planned} < nearest ${nn}`);
  t.true(sorted / planned > 1.4, `position order is ${(sorted / planned).toFixed(2)}× the planned path`);
});

test('tour: with requests waiting elsewhere, the path counts the rewind of the unload after it and ends nearer BOT', (t) => {
  const rewind = rewindEnd(cost);
  let open = 0;
  let closed = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const items = sparse(20, seed);
    const units = buildUnits(items, cost);
    const n = nearestNeighbour(0, units, cost);
    t.true(pathSeconds(0, orOpt(0, n, cost, 8, rewind), cost, rewind) <= pathSeconds(0, n, cost, rewind) + 1e-9);
    open += pathSeconds(0, planTour(0, items, cost, { pressure: 0 }), cost, rewind);
    closed += pathSeconds(0, planTour(0, items, cost, { pressure: 1 }), cost, rewind);
  }
  t.true(closed < 0.97 * open, `path + rewind: ${closed.toFixed(0)} s planned for it, ${open.toFixed(0)} s planned open`);
});

test('tour: exactPath is the shortest path (brute force on 6 units) and never longer than or-opt', (t) => {
  const rewind = rewindEnd(cost);
  const perms = <T>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
  let shorter = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const small = buildUnits(sparse(6, seed), cost);
    for (const end of [undefined, rewind]) {
      const brute = Math.min(...perms(small).map((p) => pathSeconds(0, p, cost, end)));
      t.true(Math.abs(pathSeconds(0, exactPath(0, small, cost, end), cost, end) - brute) < 1e-6);
    }
  }
  for (let seed = 1; seed <= 30; seed++) {
    const units = buildUnits(sparse(EXACT_MAX, seed), cost);
    const exact = pathSeconds(0, exactPath(0, units, cost), cost);
    const heuristic = pathSeconds(0, orOpt(0, nearestNeighbour(0, units, cost), cost, 8), cost);
    t.true(exact <= heuristic + 1e-9);
    if (exact < heuristic - 1e-6) shorter++;
  }
  t.true(shorter > 0, 'or-opt is not always optimal: the exact path must beat it somewhere');
  t.throws(() => exactPath(0, buildUnits(sparse(EXACT_MAX + 1, 1), cost), cost), { instanceOf: RangeError });
});

test('cost order: an estimate after requests were inserted one by one is that of a plan made from scratch', (t) => {
  const items = sparse(40, 7);
  const built = new PlannedOrder(cost);
  built.add(items[0]!);
  built.estimate(0);
  for (const r of items.slice(1)) built.add(r);
  const fresh = new PlannedOrder(cost);
  for (const r of items) fresh.add(r);
  t.is(built.estimate(0), fresh.estimate(0));
});

test('cost order: passed-over requests are read in the plan\'s order among them, not oldest first', (t) => {
  const items = sparse(30, 9);
  const order = new PlannedOrder(cost);
  for (const r of items) order.add(r);
  const planned = order.next(0, 0, 5)!;
  t.is(order.nextPassedOver(0, 0, 5, () => true), planned, 'all passed over: the plan as it is');
  // The plan's order, read off a copy.
  const copy = new PlannedOrder(cost);
  for (const r of items) copy.add(r);
  const seq: number[] = [];
  for (let head = 0, r = copy.next(head, 0, 5); r !== null; r = copy.next(head, 0, 5)) {
    seq.push(r.id);
    copy.remove(r.id);
    head = r.position + r.size;
  }
  // Only some passed over (not the plan's first, nor the oldest): the first of them in the plan.
  const old = new Set(items.filter((r) => r.id % 3 === 1 && r.id !== planned.id && r.id !== 1).map((r) => r.id));
  const got = order.nextPassedOver(0, 0, 5, (r) => old.has(r.id))!;
  t.is(got.id, seq.find((id) => old.has(id))!);
  t.not(got.id, Math.min(...old), 'not the oldest');
  order.remove(got.id);
  t.is(order.size, 29);
});

test('tour: a rotation of the position order is scored as reading it would cost (sum of completions plus pressure per second of path)', (t) => {
  // A run of touching extents from mid-wrap 1 (a backward wrap) into wrap 2.
  const wrap = CAP / 280;
  const items: PendingRead[] = Array.from({ length: 40 }, (_, id) => ({ id, position: 1.5 * wrap + id * 1.6e9, size: 1.6e9, arrivalMs: 0 }));
  for (const [pressure, end] of [[0, undefined], [3, rewindEnd(cost)]] as const) {
    const r = bestRotation(0, items, cost, end, pressure);
    const score = (k: number): number => {
      const units = [...buildUnits(items.slice(k), cost), ...buildUnits(items.slice(0, k), cost)];
      return waitSeconds(0, units, cost) + pressure * pathSeconds(0, units, cost, end);
    };
    const brute = items.map((_, k) => score(k));
    t.true(Math.abs(r.score - Math.min(...brute)) < 1e-6, `pressure ${pressure}: ${r.score} vs ${Math.min(...brute)}`);
    t.true(Math.abs(r.score0 - brute[0]!) < 1e-6, 'the plain elevator from BOT');
    t.deepEqual(r.order.map((x) => x.id), [...items.slice(r.k), ...items.slice(0, r.k)].map((x) => x.id));
  }
  const open = bestRotation(0, items, cost);
  t.true(items[open.k]!.position >= 2 * wrap && items[open.k - 1]!.position < 2 * wrap, 'no one else waits: the run starts at the forward wrap, next to BOT');
  // With holes (every other extent not asked for yet), nothing is put off.
  const holes = items.filter((_, i) => i % 2 === 0);
  t.is(bestRotation(0, holes, cost).k, 0);
});

test('cost order: the estimate of a run it would rather start further along is that longer path (what LPT loads by)', (t) => {
  // A run from wrap 1 (backward) at 30% of the tape from BOT to wrap 2 at
  // 90%: starting on wrap 2, next to BOT, serves most of it sooner, but the
  // locate back to the skipped start is longer than the one it saves.
  const wrap = CAP / 280;
  const items: PendingRead[] = Array.from({ length: 48 }, (_, id) => ({ id, position: 1.7 * wrap + id * 1.6e9, size: 1.6e9, arrivalMs: 0 }));
  const order = new PlannedOrder(cost);
  for (const r of items) order.add(r);
  const spin = bestRotation(0, items, cost);
  t.not(spin.k, spin.k0);
  const path = (o: readonly PendingRead[]): number => {
    let at = 0;
    let sum = 0;
    for (const r of o) { sum += cost.locate(at, r.position) + cost.transfer(r.size); at = r.position + r.size; }
    return sum;
  };
  const rotatedS = path(spin.order);
  t.true(rotatedS > path(items), 'the rotation is the longer path');
  t.true(Math.abs(order.estimate(0) - rotatedS) < 1e-6, `${order.estimate(0)} vs ${rotatedS}`);
  // With holes nothing is put off: the plan's own path.
  const holes = new PlannedOrder(cost);
  for (const r of items.filter((_, i) => i % 2 === 0)) holes.add(r);
  t.true(Math.abs(holes.estimate(0) - path(items.filter((_, i) => i % 2 === 0))) < 1e-6);
});

test('cost order: with a read in flight, the planned seconds count from where it ends (its locate is not counted twice)', (t) => {
  const items = sparse(12, 7);
  const order = new PlannedOrder(cost);
  for (const r of items) order.add(r);
  const first = order.next(0, 0)!;
  order.remove(first.id); // granted: in flight, the drive's head still at 0
  const end = first.position + first.size;
  const fromEnd = order.plannedS(end);
  t.true(fromEnd > 0);
  t.is(order.plannedS(0), fromEnd, 'from the in-flight read\'s end, not from the head it left');
  // Once the next read is asked for, from the head given.
  order.next(end, 0);
  t.is(order.plannedS(end), fromEnd);
});

test('cost policy: the cold start waits until the burst pauses, at most cold_gather_s after its first request', (t) => {
  const p = createPolicy('cost', { ageingMs: 1_800_000, readGatherMs: 2000, coldGatherMs: 5000, coldQuietMs: 20 });
  t.is(p.coldGatherMs!(1000, 1000, 1000), 20, 'one request: the quiet after it');
  t.is(p.coldGatherMs!(1000, 1010, 1005), 15, 'the latest request 5 ms ago');
  t.is(p.coldGatherMs!(1000, 1030, 1005), 0, 'quiet for 25 ms: load');
  t.is(p.coldGatherMs!(1000, 5990, 5990), 10, 'still coming: until 5 s after the first');
  t.is(p.coldGatherMs!(1000, 6000, 6000), 0);
  t.is(createPolicy('cost', { ageingMs: 1_800_000 }).coldGatherMs!(1000, 1000, 1000), 0, 'off without cold_gather_s');
  for (const n of POLICY_NAMES.filter((x) => x !== 'cost')) t.is(createPolicy(n, { ageingMs: 1 }).coldGatherMs, undefined, `${n} loads at once`);
});

test('policies: every name is known, unknown ones are EINVAL', (t) => {
  for (const p of POLICY_NAMES) {
    t.true(isPolicyName(p));
    t.is(createPolicy(p, { ageingMs: 1000 }).name, p);
  }
  t.throws(() => createPolicy('lifo', { ageingMs: 1 }), { code: 'EINVAL', message: /unknown io_sched.policy 'lifo'/ });
});

test('grouped-sorted order: one-way elevator from the head', (t) => {
  const order = createPolicy('grouped-sorted', { ageingMs: 1 }).newOrder('L', cost);
  for (const [id, position] of [[1, 50], [2, 10], [3, 30], [4, 70]] as const) order.add({ id, position, size: 1, arrivalMs: 0 });
  t.is(order.next(0, 0)?.id, 2);
  t.is(order.next(31, 0)?.id, 1, 'from 31 the next above');
  t.is(order.next(71, 0)?.id, 2, 'past the last: back to the lowest');
  order.remove(2);
  t.is(order.next(0, 0)?.id, 3);
  t.is(order.size, 3);
});

test('trace parser: header, comments, sorting, and EINVAL with the line number', (t) => {
  const rows = parseTrace('arrival_s,op,cartridge,position_bytes,size_bytes\n# c\n5,read,A,10,2\n\n1.5,write,B,0,7\n', 'x.csv');
  t.deepEqual(rows.map((r) => [r.line, r.arrivalS, r.op, r.cartridge]), [[5, 1.5, 'write', 'B'], [3, 5, 'read', 'A']]);
  const bad: [string, RegExp][] = [
    ['1,read,A,0', /x.csv:1: expected 5 fields, found 4/],
    ['1,read,A,0,1\n-1,read,A,0,1', /x.csv:2: arrival_s '-1'/],
    ['1,delete,A,0,1', /x.csv:1: op 'delete'/],
    ['1,read,A B,0,1', /x.csv:1: cartridge 'A B'/],
    ['1,read,A,1.5,1', /x.csv:1: position_bytes '1.5'/],
    ['1,read,A,0,0', /x.csv:1: size_bytes '0'/],
    ['# nothing\n', /x.csv: no request/],
  ];
  for (const [text, re] of bad) t.throws(() => parseTrace(text, 'x.csv'), { code: 'EINVAL', message: re }, text);
});

test('wait histogram: percentiles within 1%', (t) => {
  const h = new WaitHistogram();
  for (let i = 1; i <= 1000; i++) h.add(i);
  t.is(h.count, 1000);
  t.is(h.mean, 500.5);
  t.true(Math.abs(h.quantile(0.5) - 500) / 500 < 0.011);
  t.true(Math.abs(h.quantile(0.99) - 990) / 990 < 0.011);
  t.is(new WaitHistogram().quantile(0.5), 0);
});
