/**
 * Cold start (io_sched.cold_gather_s, cold_quiet_s; tape/coldStart.ts): with
 * no cartridge in any drive and the robot idle, the first read load waits
 * for its burst, so the cost policy loads the longest job first rather than
 * the first asked for; with a cartridge in a drive, or for a write, there is
 * no added wait. On the sim library with a virtual clock: times are exact.
 */
import anyTest, { type ExecutionContext } from 'ava';
import type { ReadCandidate } from '../../src/scheduler/interface.js';
import type { TapeScheduler } from '../../src/scheduler/tape/index.js';
import { header, one, readOne, schedEnv, type SchedEnv } from './schedulerEnv.js';

// Serial: the virtual clocks of concurrent tests would wait on each other's file I/O.
const test = anyTest.serial;

const KB = 1 << 10;
const MB = 1 << 20;
const SMALL = 'L00000L9';
const BIG = 'L00001L9';

/** SMALL holds one short extent; BIG seven short ones 4 MB apart (each read locates for seconds). */
async function cartridges(env: SchedEnv): Promise<{ small: ReadCandidate; big: ReadCandidate[] }> {
  const [small] = await env.fill(SMALL, [64 * KB]);
  const big = (await env.fill(BIG, [64 * KB, 4 * MB, 64 * KB, 4 * MB, 64 * KB, 4 * MB, 64 * KB])).filter((_, i) => i % 2 === 0);
  return { small: small!, big };
}

/** Equal up to float noise (seconds from the timing model times 1000). */
function near(t: ExecutionContext, actual: number | undefined, expected: number, what?: string): void {
  t.true(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${what ?? 'ms'}: ${actual} against ${expected}`);
}

async function loads(env: SchedEnv): Promise<(string | null | undefined)[]> {
  return (await env.catalog.listLogs()).filter((l) => l.cause === 'load').map((l) => l.medium);
}

/** The small cartridge asked for at t0, the big one 5 ms later; returns when each was first granted (ms after t0). */
async function smallThenBig(t: ExecutionContext, overrides: Record<string, string>): Promise<{ env: SchedEnv; grants: Record<string, number>; order: (string | null | undefined)[] }> {
  const env = await schedEnv(t, { 'library.drives': 'st[0-3]' });
  const { small, big } = await cartridges(env);
  const s = env.scheduler('cost', overrides);
  await env.catalog.clearLogs(); // the loads of fill()
  const t0 = env.clock.now();
  const grants: Record<string, number> = {};
  const at = (p: Promise<{ cand: ReadCandidate; grantedMs: number }>): Promise<void> => p.then((r) => {
    grants[r.cand.medium] = Math.min(grants[r.cand.medium] ?? Infinity, r.grantedMs - t0);
  });
  const reads = [at(readOne(s, env.clock, [small]))];
  await env.clock.sleep(5);
  for (const x of big) reads.push(at(readOne(s, env.clock, [x])));
  await Promise.all(reads);
  return { env, grants, order: await loads(env) };
}

test('cold start: the library empty, a small cartridge asked for then a big one 5 ms later: the big one is loaded first', async (t) => {
  const { env, grants, order } = await smallThenBig(t, {});
  const quietMs = env.config.num('io_sched', 'cold_quiet_s') * 1000;
  const mountMs = env.lib.mountSeconds() * 1000;
  const moveMs = env.config.num('library', 'robot_move_s') * 1000;
  t.deepEqual(order, [BIG, SMALL], 'the longest job first');
  // The burst paused cold_quiet_s after its last request (5 ms): the robot
  // moved BIG then, and SMALL once the robot was free again.
  near(t, grants[BIG], 5 + quietMs + mountMs);
  near(t, grants[SMALL], 5 + quietMs + moveMs + mountMs);
});

test('cold start off (cold_gather_s 0): the first asked for takes the robot at once, the big one waits for it', async (t) => {
  const { env, grants, order } = await smallThenBig(t, { 'io_sched.cold_gather_s': '0' });
  const mountMs = env.lib.mountSeconds() * 1000;
  const moveMs = env.config.num('library', 'robot_move_s') * 1000;
  t.deepEqual(order, [SMALL, BIG]);
  near(t, grants[SMALL], mountMs);
  near(t, grants[BIG], moveMs + mountMs);
});

test('cold start: a burst that keeps coming is waited for at most cold_gather_s after its first request', async (t) => {
  const env = await schedEnv(t, { 'library.drives': 'st[0-3]', 'io_sched.cold_gather_s': '1', 'io_sched.cold_quiet_s': '0.05' });
  const { small, big } = await cartridges(env);
  const s = env.scheduler('cost');
  await env.catalog.clearLogs();
  const t0 = env.clock.now();
  // A request every 20 ms (under the 50 ms quiet) for 2 s: SMALL's, then BIG's again and again.
  const reads: Promise<{ cand: ReadCandidate; grantedMs: number }>[] = [readOne(s, env.clock, [small])];
  for (let i = 0; i < 100; i++) {
    await env.clock.sleep(20);
    reads.push(readOne(s, env.clock, [big[i % big.length]!]));
  }
  const done = await Promise.all(reads);
  const first = Math.min(...done.map((r) => r.grantedMs)) - t0;
  near(t, first, 1000 + env.lib.mountSeconds() * 1000, 'the first load started cold_gather_s (1 s) after the first request');
  // At 1 s BIG had 49 requests queued against SMALL's 1: it went first.
  t.deepEqual(await loads(env), [BIG, SMALL]);
});

test('no added wait once a drive holds a cartridge: a read for another one is loaded into an empty drive at once', async (t) => {
  const env = await schedEnv(t, { 'library.drives': 'st[0-3]' });
  const { small, big } = await cartridges(env);
  const s = env.scheduler('cost');
  await s.switchByHand('st0', BIG);
  await env.clock.sleep(60_000);
  const t0 = env.clock.now();
  const r = await readOne(s, env.clock, [small]);
  near(t, r.grantedMs - t0, env.lib.mountSeconds() * 1000, 'loaded at once: only the robot move and the load');
  // And a read of the mounted cartridge is granted at once.
  const t1 = env.clock.now();
  t.is((await readOne(s, env.clock, [big[0]!])).grantedMs, t1);
});

/** One put through the scheduler; resolves with where it went and when it was granted. */
async function writeOne(s: TapeScheduler, env: SchedEnv, size: number): Promise<{ medium: string; grantedMs: number; done: Promise<void> }> {
  const g = await s.allocWrite({ family: 'tape', tags: [], count: 1, size, exclude: [], grouping: null });
  const grantedMs = env.clock.now();
  const slot = g.slots[0]!;
  const w = await slot.io.writeExtent(header('w', size), one(Buffer.alloc(size, 1)), () => ({}));
  return { medium: slot.io.name, grantedMs, done: g.complete({ ok: true, bytes: [w.size] }) };
}

test('cold start: a write is not delayed, even while reads of a cold library gather their burst', async (t) => {
  const env = await schedEnv(t, { 'library.drives': 'st[0-3]', 'io_sched.cold_quiet_s': '1' });
  const { small } = await cartridges(env);
  const s = env.scheduler('cost');
  const t0 = env.clock.now();
  const read = readOne(s, env.clock, [small]);
  await env.clock.sleep(5);
  const w = await writeOne(s, env, 64 * KB);
  t.is(w.medium, BIG, 'best fit: the fuller of the two cartridges with room');
  near(t, w.grantedMs - t0, 5 + env.lib.mountSeconds() * 1000, 'the write\'s load started when it was asked for');
  // The write's load ended the cold period: the read's load followed as soon as the robot was free.
  const r = await read;
  near(t, r.grantedMs - t0, 5 + env.config.num('library', 'robot_move_s') * 1000 + env.lib.mountSeconds() * 1000);
  await w.done;
});
