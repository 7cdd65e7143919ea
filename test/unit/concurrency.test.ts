/** The small concurrency helpers of core. */
import test from 'ava';
import { mapLimit, shared } from '../../src/core/index.js';

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => { open = r; });
  return { wait, open };
}

test('shared: callers that ask while a run is going share the next run, which starts after it', async (t) => {
  const runs: { started: number; gate: ReturnType<typeof gate> }[] = [];
  let asked = 0;
  const run = shared(() => {
    const g = gate();
    runs.push({ started: asked, gate: g });
    return g.wait;
  });
  asked = 1;
  const first = run();
  asked = 2;
  const second = run();
  asked = 3;
  const third = run();
  t.is(runs.length, 1, 'the second and third wait for the first to end');
  let secondDone = false;
  void second.then(() => { secondDone = true; });
  runs[0]!.gate.open();
  await first;
  await new Promise((r) => setImmediate(r));
  t.false(secondDone, 'a run that started before the ask does not count for it');
  t.is(runs.length, 2, 'one run for both');
  t.is(runs[1]!.started, 3);
  runs[1]!.gate.open();
  await Promise.all([second, third]);
  const fourth = run();
  t.is(runs.length, 3, 'with none running, a caller starts one at once');
  runs[2]!.gate.open();
  await fourth;
});

test('shared: a failed run fails its callers only; the next callers get a run of their own', async (t) => {
  let n = 0;
  const run = shared(async () => {
    n++;
    if (n === 1) throw new Error('first fails');
  });
  const a = run();
  const b = run();
  await t.throwsAsync(a, { message: 'first fails' });
  await b;
  t.is(n, 2);
  await run();
  t.is(n, 3);
});

test('mapLimit: at most `limit` in flight, results in input order, failures kept', async (t) => {
  let inFlight = 0;
  let most = 0;
  const out = await mapLimit([1, 2, 3, 4, 5], 2, async (x) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 5 * (6 - x)));
    inFlight--;
    if (x === 3) throw new Error('three');
    return x * 10;
  });
  t.is(most, 2);
  t.deepEqual(out.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [10, 20, 'three', 40, 50]);
});
