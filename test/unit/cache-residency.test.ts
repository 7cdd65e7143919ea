/** Recall of evicted files, eviction between watermarks, release, and a full cache, on directory media. */
import test from 'ava';
import { ATTRS, bytes, cacheEnv, readAll, sleepReal, writeAll, writeFile } from './cacheEnv.js';

test('recall of an evicted file: concurrent opens share one recall, bytes identical', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog } = env;
  const data = bytes(1_500_000, 4);
  const row = await writeFile(cache, 'big', data);
  await t.throwsAsync(cache.release(row), { code: 'EBUSY' }, 'a dirty file cannot be released');
  await cache.flush([row], { wait: true });
  await cache.release(row);
  t.is(await cache.stateOf(row), 'offline');
  t.is(await catalog.getCacheEntry(row.uuid, 1), null);
  t.like(cache.stats(), { entries: 0, usedBytes: 0, evictions: 1 });
  const handles = await Promise.all(Array.from({ length: 5 }, () => cache.open(row, { write: false, truncate: false })));
  t.is(cache.stats().recalls, 1);
  for (const h of handles) t.deepEqual(await readAll(h), data);
  t.is(await cache.stateOf(row), 'online');
  await t.throwsAsync(cache.release(row), { code: 'EBUSY' }, 'an open file cannot be released');
  for (const h of handles) await cache.close(h);
  t.like(await catalog.getCacheEntry(row.uuid, 1), { state: 'clean', size: data.length });
  // Opening for write without O_TRUNC stages first, then the first write makes version 2.
  await cache.release(row);
  const w = await cache.open(row, { write: true, truncate: false });
  t.is(cache.stats().recalls, 2);
  await w.write(Buffer.from('!'), 1, data.length);
  const v2 = await cache.close(w);
  t.like(v2, { version: 2, size: data.length + 1 });
  const r = await cache.open(v2, { write: false, truncate: false });
  t.deepEqual(await readAll(r), Buffer.concat([data, Buffer.from('!')]));
  await cache.close(r);
});

test('stage queues recalls without waiting; a failed recall leaves nothing behind', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog } = env;
  const rows = [];
  for (let i = 0; i < 6; i++) rows.push(await writeFile(cache, `s/${i}`, bytes(10_000 + i, i)));
  await cache.flush(undefined, { wait: true });
  for (const r of rows) await cache.release(r);
  await cache.stage(rows);
  t.deepEqual(await Promise.all(rows.map((r) => cache.stateOf(r))), rows.map(() => 'staging'));
  while (cache.stats().recalls < 6) await sleepReal(10);
  for (const [i, r] of rows.entries()) {
    const h = await cache.open(r, { write: false, truncate: false });
    t.deepEqual(await readAll(h), bytes(10_000 + i, i));
    await cache.close(h);
  }
  t.is(cache.stats().recalls, 6);
  // A version with no copy and no cache file cannot be recalled.
  const lost = await catalog.createVersion({ oid: 'lost', overwrite: false, attrs: ATTRS, size: 5 });
  await t.throwsAsync(cache.open(lost, { write: false, truncate: false }), { code: 'EIO' });
  t.is(await catalog.getCacheEntry(lost.uuid, 1), null);
  t.is(cache.stats().staging, 0);
});

test('eviction keeps usage between the watermarks, least recently used first, never dirty or open files', async (t) => {
  const env = await cacheEnv(t, { config: { 'cache.size': '1000', 'cache.high_watermark': '80', 'cache.low_watermark': '60' } });
  const { cache } = env;
  const rows = [];
  for (const n of ['a', 'b', 'c', 'd']) rows.push(await writeFile(cache, n, bytes(200, n.charCodeAt(0))));
  await cache.flush(undefined, { wait: true });
  t.like(cache.stats(), { usedBytes: 800, evictions: 0 });
  // Recency: b, then d, then a is read; c is kept open.
  for (const i of [1, 3, 0]) {
    await sleepReal(5);
    const h = await cache.open(rows[i]!, { write: false, truncate: false });
    await readAll(h);
    await cache.close(h);
  }
  const openC = await cache.open(rows[2]!, { write: false, truncate: false });
  const evicted: string[] = [];
  cache.events.on('evicted', (k: string) => evicted.push(k));
  // 1000 bytes > high (800): evict to low (600): b (LRU), then d; c is open, e dirty.
  await writeFile(cache, 'e', bytes(200, 5));
  while (evicted.length < 2) await sleepReal(10);
  await sleepReal(50);
  t.deepEqual(evicted, [rows[1]!, rows[3]!].map((r) => `${r.uuid}.1`));
  t.like(cache.stats(), { usedBytes: 600, evictions: 2 });
  t.is(await cache.stateOf(rows[2]!), 'online');
  t.is(await cache.stateOf(rows[0]!), 'online');
  await cache.close(openC);
});

test('a writer that would overflow the cache makes room, and gets ENOSPC only when nothing can be evicted', async (t) => {
  const env = await cacheEnv(t, { config: { 'cache.size': '1000', 'cache.high_watermark': '100', 'cache.low_watermark': '100' } });
  const { cache } = env;
  const clean = await writeFile(cache, 'clean', bytes(600));
  await cache.flush([clean], { wait: true });
  const h = await cache.create('w', ATTRS);
  await writeAll(h, bytes(300));
  // 600 + 300 + 300 > 1000: the clean file goes.
  await writeAll(h, bytes(300), 300);
  t.is(await cache.stateOf(clean), 'offline');
  t.is(h.size(), 600);
  await writeAll(h, bytes(400), 600);
  // Everything left is dirty and open.
  await t.throwsAsync(h.write(Buffer.alloc(1), 1, 1000), { code: 'ENOSPC' });
  t.is(h.size(), 1000);
  await cache.close(h);
  // A recall that does not fit fails the same way.
  await t.throwsAsync(cache.open(clean, { write: false, truncate: false }), { code: 'ENOSPC' });
});
