import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Config } from '../../src/core/config.js';
import { createClock, RealClock, VirtualClock } from '../../src/clock/index.js';

test('virtual clock fires timers in time order, ties in insertion order', async (t) => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const at = (name: string, ms: number) => clock.sleep(ms).then(() => fired.push(`${name}@${clock.now()}`));
  await Promise.all([at('c', 30), at('a', 10), at('b1', 20), at('b2', 20), at('z', 0)]);
  t.deepEqual(fired, ['z@0', 'a@10', 'b1@20', 'b2@20', 'c@30']);
  t.is(clock.seconds(), 0.03);
  t.is(clock.pending(), 0);
});

test('virtual clock: sleeps chain from the time they are called', async (t) => {
  const clock = new VirtualClock({ start: 1000 });
  const worker = async (step: number, n: number) => {
    for (let i = 0; i < n; i++) await clock.sleep(step);
    return clock.now();
  };
  t.deepEqual(await Promise.all([worker(7, 3), worker(5, 5)]), [1021, 1025]);
});

/** Several workers mixing real file I/O and sleeps; returns what happened when. */
async function scenario(dir: string): Promise<string[]> {
  const clock = new VirtualClock();
  const trace: string[] = [];
  const worker = async (id: number) => {
    // Work started outside the clock races as usual; from the first sleep on, the clock orders it.
    await clock.sleep(0);
    for (let i = 0; i < 4; i++) {
      const file = join(dir, `w${id}-${i}`);
      await writeFile(file, Buffer.alloc((id + 1) * 512 * 1024, id));
      const back = await readFile(file);
      trace.push(`w${id} i${i} ${back.length} t=${clock.now()}`);
      await clock.sleep(10 * (id + 1));
    }
    trace.push(`w${id} done t=${clock.now()}`);
  };
  await Promise.all([0, 1, 2].map(worker));
  return trace;
}

test('virtual clock waits for real file I/O before jumping, and is deterministic', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'deimos-clock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const a = await scenario(dir);
  const b = await scenario(dir);
  t.deepEqual(a, b);
  // Each worker's I/O takes no simulated time: it ends after exactly 4 sleeps.
  t.true(a.includes('w0 done t=40'));
  t.true(a.includes('w1 done t=80'));
  t.true(a.includes('w2 done t=120'));
});

test('virtual clock: a sleeper is not overtaken by I/O that runs alongside', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'deimos-clock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new VirtualClock();
  const io = async () => {
    for (let i = 0; i < 8; i++) await writeFile(join(dir, `f${i}`), Buffer.alloc(2 << 20));
    await clock.sleep(10);
    return clock.now();
  };
  const ticker = async () => {
    for (let i = 0; i < 20; i++) await clock.sleep(1);
    return clock.now();
  };
  t.deepEqual(await Promise.all([io(), ticker()]), [10, 20]);
});

test('virtual clock stop drops pending timers', async (t) => {
  const clock = new VirtualClock();
  let woke = false;
  void clock.sleep(5).then(() => { woke = true; });
  clock.stop();
  t.is(clock.pending(), 0);
  await new Promise((r) => setTimeout(r, 20));
  t.false(woke);
  t.is(clock.now(), 0);
});

test('real clock plays simulated time scaled', async (t) => {
  const clock = new RealClock(0.001);
  const t0 = performance.now();
  await clock.sleep(20_000);
  const wall = performance.now() - t0;
  // 20 ms of wall time; the upper bound only tells scaled from unscaled on a loaded machine.
  t.true(wall >= 19, `wall ${wall} ms`);
  t.true(wall < 10_000, `wall ${wall} ms`);
  t.true(clock.now() >= 19_000, `now ${clock.now()}`);
  t.true(Math.abs(clock.seconds() - clock.now() / 1000) < 0.5);
  clock.stop();
  t.throws(() => new RealClock(0), { message: /time scale/ });
});

test('createClock: time_scale 0 or virtual gives the virtual clock', (t) => {
  const env = {};
  t.true(createClock(new Config({ file: null, env, overrides: { 'library.time_scale': '0' } })) instanceof VirtualClock);
  t.true(createClock(new Config({ file: null, env }), { virtual: true }) instanceof VirtualClock);
  const real = createClock(new Config({ file: null, env, overrides: { 'library.time_scale': '0.5' } }));
  t.true(real instanceof RealClock);
  real.stop();
});
