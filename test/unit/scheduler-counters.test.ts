/** The scheduler's counters are totals since the store was created: saved in the catalog, restored at start. */
import anyTest from 'ava';
import { createScheduler, type Scheduler } from '../../src/scheduler/index.js';
import type { Catalog } from '../../src/catalog/interface.js';
import { COUNTERS_KEY, SavedCounters } from '../../src/scheduler/savedCounters.js';
import { consume, schedEnv, type SchedEnv } from './schedulerEnv.js';

// Serial: the virtual clocks of concurrent tests would wait on each other's file I/O.
const test = anyTest.serial;

const KB = 1 << 10;

async function open(env: SchedEnv): Promise<Scheduler> {
  // A save period far beyond the test: only close() saves.
  env.config.set('io_sched', 'counters_save_s', '3600');
  const s = createScheduler({ catalog: env.catalog, config: env.config, library: env.lib, clock: env.clock });
  await s.opened();
  return s;
}

test('counters survive a restart: a second run starts from the first run\'s totals and adds to them', async (t) => {
  const env = await schedEnv(t, { 'library.capacity_LTO9': '28M' });
  const [a, b] = await env.fill('L00000L9', [64 * KB, 32 * KB]);
  const [c] = await env.fill('L00001L9', [16 * KB]);

  const s1 = await open(env);
  t.is(await consume(await s1.read({ candidates: [a!] })), 64 * KB);
  await env.clock.sleep(10_000);
  const p = s1.read({ candidates: [c!] }).then(consume);
  await env.clock.sleep(5_000);
  await p;
  const first = s1.status().counters;
  t.is(first.mounts, 2);
  t.is(first.reads, 2);
  t.true(first.wait_p99_s > 0, 'the second read waited for its mount');
  await s1.close();
  t.truthy(await env.catalog.getState(COUNTERS_KEY), 'saved at close');

  const s2 = await open(env);
  t.deepEqual(s2.status().counters, first, 'a new run shows the totals, percentiles included');
  t.is(await consume(await s2.read({ candidates: [b!] })), 32 * KB);
  const second = s2.status().counters;
  t.is(second.reads, 3);
  t.is(second.bytes_read, first.bytes_read + 32 * KB);
  t.true(second.locate_s >= first.locate_s);
  await s2.close();

  // A run that ends without close (a crash) loses what it counted since its last save, nothing more.
  const s3 = await open(env);
  t.deepEqual(s3.status().counters, second);
  t.is(await consume(await s3.read({ candidates: [a!] })), 64 * KB);
  const s4 = await open(env);
  t.deepEqual(s4.status().counters, second, 'the unsaved run is not counted, and nothing is counted twice');
  await s4.close();
});

test('unreadable saved counters are replaced, not fatal', async (t) => {
  const env = await schedEnv(t, { 'library.capacity_LTO9': '28M' });
  const [a] = await env.fill('L00000L9', [8 * KB]);
  await env.catalog.setState(COUNTERS_KEY, '{not json');
  const s1 = await open(env);
  t.is(s1.status().counters.reads, 0);
  await consume(await s1.read({ candidates: [a!] }));
  await s1.close();
  const s2 = await open(env);
  t.is(s2.status().counters.reads, 1);
  t.is(s2.status().counters.bytes_read, 8 * KB);
  await s2.close();
});

test('saves write only changed totals, and never after a failed load (it would overwrite the saved totals)', async (t) => {
  const writes: string[] = [];
  let n = 0;
  const part = { dump: () => ({ reads: n }), add: (saved: Record<string, unknown>) => { n += saved.reads as number; } };
  const catalog = (stored: string | null, fails = false) => ({
    getState: async () => { if (fails) throw new Error('catalog down'); return stored; },
    setState: async (_k: string, v: string) => { writes.push(v); },
  }) as unknown as Catalog;

  const saved = new SavedCounters(catalog(JSON.stringify({ dir: { reads: 5 } })), { dir: part }, 0);
  await saved.loaded;
  t.is(n, 5, 'restored');
  await saved.save();
  t.deepEqual(writes, [], 'nothing changed since the load');
  n++;
  await saved.save();
  await saved.save();
  t.deepEqual(writes, ['{"dir":{"reads":6}}'], 'one write per change');
  await saved.close();
  t.is(writes.length, 1);

  writes.length = 0;
  n = 0;
  const broken = new SavedCounters(catalog(null, true), { dir: part }, 0);
  n = 3;
  await broken.close();
  t.deepEqual(writes, []);
});
