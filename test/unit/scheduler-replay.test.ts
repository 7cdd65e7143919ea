/** Trace replay through the real scheduler and sim library, and its lower bound. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import anyTest from 'ava';
import { Config } from '../../src/core/config.js';
import { locateSeconds, timingFromConfig, type TapeTiming } from '../../src/library/timing.js';
import { POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import { formatTrace, lowerBound, parseTrace, replayTrace, type TraceRow } from '../../src/scheduler/replay.js';
import { rewindFloorFrom } from '../../src/scheduler/replay/lowerBound.js';
import type { ScaledRequest } from '../../src/scheduler/replay/scale.js';

// Serial: the virtual clocks of concurrent tests would wait on each other's file I/O.
const test = anyTest.serial;

function randomTrace(seed: number, n: number, carts: number, writes = 0): TraceRow[] {
  let x = seed;
  const r = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const rows: Omit<TraceRow, 'line'>[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += r() * 20;
    const size = Math.floor(1e8 + r() * 4e9);
    const op = i < writes ? 'write' : 'read';
    rows.push({ arrivalS: t, op, cartridge: `C${Math.floor(r() * carts)}L9`, position: Math.floor(r() * (18e12 - size)), size });
  }
  return parseTrace(formatTrace(rows));
}

test('the lower bound is below every policy on random traces', async (t) => {
  for (const seed of [1, 2, 3]) {
    const res = await replayTrace(randomTrace(seed, 24, 4), { drives: 2, policies: [...POLICY_NAMES] });
    const bound = res.find((r) => r.policy === 'lower-bound')!;
    t.is(res.length, POLICY_NAMES.length + 1);
    t.is(bound.mounts, new Set(randomTrace(seed, 24, 4).map((r) => r.cartridge)).size);
    for (const r of res) {
      t.true(r.makespan_s >= bound.makespan_s - 1e-6, `seed ${seed}: ${r.policy} ${r.makespan_s} s >= bound ${bound.makespan_s} s`);
      t.true(r.mean_wait_s >= bound.mean_wait_s - 1e-6, `seed ${seed}: ${r.policy} mean wait`);
      t.true(r.locate_s >= bound.locate_s - 1e-6, `seed ${seed}: ${r.policy} locate`);
      t.true(r.mounts >= bound.mounts);
    }
  }
});

test('no policy beats the lower bound on any shipped benchmark trace (test/bench/traces, 4 drives as sched.sh)', async (t) => {
  const dir = fileURLToPath(new URL('../../../test/bench/traces/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
  t.true(files.length >= 6);
  for (const f of files) {
    const res = await replayTrace(parseTrace(readFileSync(dir + f, 'utf8'), f), { drives: 4, policies: [...POLICY_NAMES] });
    const bound = res.find((r) => r.policy === 'lower-bound')!;
    for (const r of res) {
      t.true(r.makespan_s >= bound.makespan_s - 1e-6, `${f}: ${r.policy} ${r.makespan_s} s >= bound ${bound.makespan_s} s`);
      t.true(r.mean_wait_s >= bound.mean_wait_s - 1e-6, `${f}: ${r.policy} mean wait`);
      t.true(r.locate_s >= bound.locate_s - 1e-6, `${f}: ${r.policy} locate`);
      t.true(r.mounts >= bound.mounts, `${f}: ${r.policy} mounts`);
    }
  }
});

test('a trace with writes replays (grouped puts, syncs) and keeps the bound', async (t) => {
  const res = await replayTrace(randomTrace(9, 20, 3, 6), { drives: 2, policies: ['cost', 'fifo'] });
  const bound = res.find((r) => r.policy === 'lower-bound')!;
  for (const r of res) {
    t.is(r.requests, 20);
    t.true(r.makespan_s >= bound.makespan_s - 1e-6, `${r.policy} ${r.makespan_s} >= ${bound.makespan_s}`);
  }
});

test('replays are deterministic', async (t) => {
  const trace = randomTrace(5, 16, 3);
  const a = await replayTrace(trace, { drives: 2, policies: ['cost', 'nearest'] });
  const b = await replayTrace(trace, { drives: 2, policies: ['cost', 'nearest'] });
  t.deepEqual(a, b);
});

test('cost: a burst that outlasts ageing_s on its cartridge is still read along the plan, not by arrival', async (t) => {
  // 40 sparse reads of one cartridge at once: reading them takes far longer than ageing_s = 60.
  const rows = randomTrace(7, 40, 1).map((r) => ({ ...r, arrivalS: r.arrivalS / 100 }));
  const trace = parseTrace(formatTrace(rows));
  const [aged] = await replayTrace(trace, { drives: 1, policies: ['cost'], overrides: { 'io_sched.ageing_s': '60' } });
  const [young] = await replayTrace(trace, { drives: 1, policies: ['cost'] });
  t.true(aged!.makespan_s > 600, `${aged!.makespan_s} s`);
  t.is(aged!.locate_s, young!.locate_s);
  t.is(aged!.makespan_s, young!.makespan_s);
});

test('contiguous runs: one mount per cartridge and streaming, so position order meets the bound closely', async (t) => {
  const rows: Omit<TraceRow, 'line'>[] = [];
  for (let i = 0; i < 30; i++) rows.push({ arrivalS: i * 0.1, op: 'read', cartridge: 'R0L9', position: 3e12 + i * 5e8, size: 5e8 });
  const res = await replayTrace(parseTrace(formatTrace(rows)), { drives: 1, policies: ['grouped-sorted', 'cost'] });
  const bound = res.find((r) => r.policy === 'lower-bound')!;
  for (const r of res.filter((x) => x !== bound)) {
    t.is(r.mounts, 1);
    t.true(r.makespan_s <= 1.05 * bound.makespan_s, `${r.policy}: ${r.makespan_s} s vs bound ${bound.makespan_s} s`);
  }
});

/** Round figures: 4 wraps of 1000 bytes on a 100 m tape, 2 bands (wraps 2-3 are band 1), 100 bytes/s. */
const SMALL: TapeTiming = {
  robotMoveS: 10, loadS: 20, unloadS: 30, rateBytesPerS: 100, locateFixedS: 1, tapeLengthM: 100, locateSpeedMPerS: 10,
  wraps: 4, bands: 2, wrapChangeS: 2, bandChangeS: 3, reversalS: 5, syncS: 0, indexBytes: 0,
};

function req(op: 'read' | 'write', cartridge: string, start: number, end: number): ScaledRequest {
  return { row: { line: 0, arrivalS: 0, op, cartridge, position: start, size: end - start }, start, end, key: op === 'read' ? `${cartridge}@${start}+${end - start}` : '' };
}

test('the bound counts the rewind before each unload it counts, all but the D largest (hand-computed)', (t) => {
  // One extent per cartridge, each from BOT: no seek; work = mount 30 + transfer.
  // A ends at 100 (wrap 0, x 10 m): rewind 1 + 10/10 + 2 reversals (backward, on a forward wrap, to a forward wrap) = 12.
  // B ends at 1500 (wrap 1, x 50 m, backward wrap): 1 + 5 + wrap change 2 + 1 reversal = 13.
  // C ends at 2900 (wrap 2, band 1, x 90 m): 1 + 9 + 2 + band change 3 + 2 reversals = 25.
  const cap = new Map([['A', 4000], ['B', 4000], ['C', 4000]]);
  const reads = [req('read', 'A', 0, 100), req('read', 'B', 0, 1500), req('read', 'C', 0, 2900)];
  t.is(locateSeconds(SMALL, 4000, 100, 0), 12);
  t.is(locateSeconds(SMALL, 4000, 1500, 0), 13);
  t.is(locateSeconds(SMALL, 4000, 2900, 0), 25);
  // Work 31 + 45 + 59 = 135. One drive: 2 unloads of 30 + 10, rewinds 13 + 12 (C may stay loaded).
  t.is(lowerBound(reads, cap, SMALL, 1).makespanS, 135 + 80 + 25);
  // Two drives: 1 unload, the least rewind (12); (135 + 40 + 12) / 2.
  t.is(lowerBound(reads, cap, SMALL, 2).makespanS, 93.5);
  // Three drives: no unload needed; the longest cartridge's work, 59.
  t.is(lowerBound(reads, cap, SMALL, 3).makespanS, 59);
  // With a write (200 bytes: 2 s) the head may rewind from at/after end of data instead:
  // A from wrap 0: 1; B from wrap 1: 1 + 2 = 3; C from band 1: 1 + 2 + 3 = 6. One drive: rewinds 3 + 1.
  t.is(rewindFloorFrom(SMALL, 4000, 100), 1);
  t.is(rewindFloorFrom(SMALL, 4000, 1500), 3);
  t.is(rewindFloorFrom(SMALL, 4000, 2900), 6);
  t.is(lowerBound([...reads, req('write', 'A', 0, 200)], cap, SMALL, 1).makespanS, 135 + 2 + 80 + 4);
});

test('the bound counts what must follow a late arrival: its reads, a load and an unload per cartridge beyond the drives, rewinds (hand-computed)', (t) => {
  const cap = new Map([['A', 4000], ['B', 4000], ['C', 4000]]);
  const late = (r: ScaledRequest): ScaledRequest => ({ ...r, row: { ...r.row, arrivalS: 1000 } });
  const reads = [req('read', 'A', 0, 100), late(req('read', 'B', 0, 1500)), late(req('read', 'C', 0, 2900))];
  // From τ = 1000, one drive: B and C are read from BOT (no seek), 15 + 29 s; one of them must
  // be loaded and the other unloaded, 30 + 30 + 10 s; the unloaded one rewinds at least 13 s (B's).
  t.is(lowerBound(reads, cap, SMALL, 1).makespanS, 1000 + 15 + 29 + 70 + 13);
  // Two drives: both may be mounted at 1000; the longer read sets it.
  t.is(lowerBound(reads, cap, SMALL, 2).makespanS, 1000 + 29);
});

test('no rewind from at or past a position is below its floor, although rewinds are not monotonic in position', (t) => {
  const timing = timingFromConfig(new Config({ file: null, env: {} }));
  const cap = 280 * 50;
  const perWrap = cap / timing.wraps;
  // Serpentine: the end of wrap 1 lies near BOT, the end of wrap 0 at the far end.
  t.true(locateSeconds(timing, cap, 2 * perWrap - 1, 0) < locateSeconds(timing, cap, perWrap - 1, 0));
  // Least rewind from any position >= p, for every p, against the floor.
  let least = Infinity;
  for (let p = cap; p >= 1; p--) {
    least = Math.min(least, locateSeconds(timing, cap, p, 0));
    if (rewindFloorFrom(timing, cap, p) > least) t.fail(`from ${p}: floor ${rewindFloorFrom(timing, cap, p)} > ${least}`);
  }
  t.pass();
});

test('bad options and traces are EINVAL', async (t) => {
  const trace = randomTrace(1, 3, 1);
  await t.throwsAsync(replayTrace(trace, { drives: 0, policies: ['cost'] }), { code: 'EINVAL', message: /drives/ });
  await t.throwsAsync(replayTrace(trace, { drives: 1, policies: ['lifo'] }), { code: 'EINVAL', message: /unknown policy 'lifo'/ });
  await t.throwsAsync(replayTrace('0,read,A,0,1\n1,read,A,0', { drives: 1, policies: ['cost'] }), { code: 'EINVAL', message: /trace:2/ });
  await t.throwsAsync(replayTrace('0,read,A,20000000000000,1', { drives: 1, policies: ['cost'] }), { code: 'EINVAL', message: /beyond the capacity/ });
});
