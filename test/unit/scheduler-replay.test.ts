/** Trace replay through the real scheduler and sim library, and its lower bound. */
import anyTest from 'ava';
import { POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import { formatTrace, parseTrace, replayTrace, type TraceRow } from '../../src/scheduler/replay.js';

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

test('bad options and traces are EINVAL', async (t) => {
  const trace = randomTrace(1, 3, 1);
  await t.throwsAsync(replayTrace(trace, { drives: 0, policies: ['cost'] }), { code: 'EINVAL', message: /drives/ });
  await t.throwsAsync(replayTrace(trace, { drives: 1, policies: ['lifo'] }), { code: 'EINVAL', message: /unknown policy 'lifo'/ });
  await t.throwsAsync(replayTrace('0,read,A,0,1\n1,read,A,0', { drives: 1, policies: ['cost'] }), { code: 'EINVAL', message: /trace:2/ });
  await t.throwsAsync(replayTrace('0,read,A,20000000000000,1', { drives: 1, policies: ['cost'] }), { code: 'EINVAL', message: /beyond the capacity/ });
});
