/** The disk cache over the sim tape library on the virtual clock: grouped flushes, grouped recalls. */
import test from 'ava';
import type { ObjectRow } from '../../src/catalog/index.js';
import { bufferSource } from './layoutEnv.js';
import { bytes, cacheEnv, next, readAll, sleepReal, storeBytes, writeFile } from './cacheEnv.js';

const MiB = 1 << 20;

test('a group of flushed files is written back to back on one cartridge and synced once', async (t) => {
  const env = await cacheEnv(t, {
    media: 'tape', virtualCache: true,
    config: { 'library.drives': 'st0', 'cache.flush_nb': '8', 'lrs.sync_nb_req': 'tape=8,dir=1', 'lrs.sync_time_ms': 'tape=10000,dir=0' },
  });
  const { cache, scheduler, catalog, clock } = env;
  const before = scheduler.status().counters;
  const flushed: string[] = [];
  cache.events.on('flushed', (k: string) => flushed.push(k));
  const t0 = clock.now();
  for (let i = 0; i < 8; i++) await writeFile(cache, `g/${i}`, bytes(MiB + i, i));
  while (flushed.length < 8) await next(cache, 'flushed');
  const c = scheduler.status().counters;
  t.is(c.syncs - before.syncs, 1, 'one sync for the group');
  t.true(c.mounts - before.mounts <= 1);
  t.is(c.writes - before.writes, 8);
  const media = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const row = (await catalog.getObject({ oid: `g/${i}` }))!;
    for (const x of await catalog.listExtents({ uuid: row.uuid })) media.add(x.medium);
    t.deepEqual(await storeBytes(env.store, row), bytes(MiB + i, i));
  }
  t.is(media.size, 1);
  t.log(`8 files of 1 MiB flushed as one group: ${c.syncs - before.syncs} sync, ${((clock.now() - t0) / 1000).toFixed(1)} s simulated`);
});

test('files flushed one at a time cost one sync each', async (t) => {
  const env = await cacheEnv(t, {
    media: 'tape', virtualCache: true,
    config: { 'library.drives': 'st0', 'cache.flush_nb': '1', 'lrs.sync_nb_req': 'tape=8,dir=1', 'lrs.sync_time_ms': 'tape=10000,dir=0' },
  });
  const { cache, scheduler, clock } = env;
  const before = scheduler.status().counters.syncs;
  const t0 = clock.now();
  for (let i = 0; i < 4; i++) {
    const f = next(cache, 'flushed');
    await writeFile(cache, `s/${i}`, bytes(MiB, i));
    await f;
  }
  t.is(scheduler.status().counters.syncs - before, 4);
  t.log(`4 files flushed one by one: 4 syncs, ${((clock.now() - t0) / 1000).toFixed(1)} s simulated`);
});

test('stage of files on several cartridges mounts each cartridge once; concurrent opens share one recall', async (t) => {
  const env = await cacheEnv(t, { media: 'tape', config: { 'lrs.sync_time_ms': 'tape=1000,dir=0' } });
  const { cache, scheduler, catalog, store } = env;
  const labels = ['L00000L9', 'L00001L9', 'L00002L9', 'L00003L9'];
  for (const [i, l] of labels.entries()) await catalog.updateMedium('tape', l, { tags: [`c${i}`] });
  const rows: ObjectRow[] = [];
  const data = new Map<string, Buffer>();
  await Promise.all(labels.map(async (_l, ci) => {
    for (let k = 0; k < 4; k++) {
      const oid = `t/${ci}/${k}`;
      data.set(oid, bytes(256 * 1024 + k, ci * 10 + k));
      rows.push(await store.put({ oid, source: bufferSource(data.get(oid)!), family: 'tape', tags: [`c${ci}`] }));
    }
  }));
  for (const r of rows) t.is(await cache.stateOf(r), 'offline');
  const loaded = new Set(scheduler.status().drives.map((d) => d.loaded).filter((x): x is string => x !== null));
  const before = scheduler.status().counters;
  await cache.stage(rows);
  while (cache.stats().recalls < rows.length) await sleepReal(20);
  const c = scheduler.status().counters;
  // Each cartridge at most once. (Ideal is once per cartridge not already loaded: recalls reach the
  // scheduler one by one, and the first for an unloaded cartridge may take a drive whose cartridge
  // has requests a few microtasks behind.)
  t.true(c.mounts - before.mounts <= labels.length, `${c.mounts - before.mounts} mounts for ${labels.length} cartridges`);
  t.is(c.reads - before.reads, rows.length);
  t.log(`stage of ${rows.length} files on ${labels.length} cartridges (${loaded.size} already loaded): ${c.mounts - before.mounts} mounts`);
  for (const r of rows) {
    const h = await cache.open(r, { write: false, truncate: false });
    t.deepEqual(await readAll(h), data.get(r.oid));
    await cache.close(h);
  }
  // Concurrent opens of one evicted file: one recall, one tape read.
  const r0 = rows[0]!;
  await cache.release(r0);
  const reads = scheduler.status().counters.reads;
  const hs = await Promise.all([1, 2, 3].map(() => cache.open(r0, { write: false, truncate: false })));
  t.is(scheduler.status().counters.reads - reads, 1);
  for (const h of hs) {
    t.deepEqual(await readAll(h), data.get(r0.oid));
    await cache.close(h);
  }
});

test('a shutdown waits for the puts that run, not for the group: the rest stay dirty and flush at the next start', async (t) => {
  const env = await cacheEnv(t, {
    media: 'tape', virtualCache: true, maxPuts: 2,
    config: { 'library.drives': 'st0', 'cache.flush_nb': '8', 'lrs.sync_nb_req': 'tape=8,dir=1', 'lrs.sync_time_ms': 'tape=10000,dir=0' },
  });
  const files = Array.from({ length: 8 }, (_, i) => ({ oid: `u/${i}`, data: bytes(1000 + i, i) }));
  const started = new Promise<void>((resolve) => {
    let n = 0;
    env.cache.events.on('flush-start', () => { if (++n === 2) resolve(); });
  });
  for (const f of files) await writeFile(env.cache, f.oid, f.data);
  await started;
  await env.cache.shutdown();
  t.is(env.cache.stats().flushes, 2, 'the two running puts ended');
  const cache = await env.restart();
  t.deepEqual(await cache.recover(), { dirty: 6, dropped: 0, missing: [] });
  await cache.flush(undefined, { wait: true });
  for (const f of files) t.deepEqual(await storeBytes(env.store, (await env.catalog.getObject({ oid: f.oid }))!), f.data, f.oid);
});
