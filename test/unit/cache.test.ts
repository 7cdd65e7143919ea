/** The disk cache on directory media: versions, write-back thresholds, cancel on modify, retries. */
import { open } from 'node:fs/promises';
import test from 'ava';
import type { SqliteCatalog } from '../../src/catalog/index.js';
import { ATTRS, bytes, cacheEnv, next, readAll, sleepReal, storeBytes, writeAll, writeFile } from './cacheEnv.js';

test('a created file is a dirty version at once; closes update it in place, no version per close', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog } = env;
  const h = await cache.create('p/a', ATTRS);
  const row0 = await catalog.getObject({ oid: 'p/a' });
  t.like(row0, { version: 1, size: 0 });
  t.is((await catalog.lookup('p'))?.type, 'dir', 'parents are created');
  t.is(await cache.stateOf(row0!), 'dirty');
  await writeAll(h, bytes(5000));
  const row1 = await cache.close(h);
  t.like(row1, { uuid: row0!.uuid, version: 1, size: 5000 });
  t.like(await catalog.getCacheEntry(row0!.uuid, 1), { state: 'dirty', size: 5000 });
  // rsync/cp style: open again, write, close: still version 1.
  const h2 = await cache.open(row1, { write: true, truncate: false });
  await writeAll(h2, bytes(100, 2), 5000);
  const row2 = await cache.close(h2);
  t.like(row2, { version: 1, size: 5100 });
  const h3 = await cache.open(row2, { write: true, truncate: true });
  t.is(h3.size(), 0);
  await writeAll(h3, bytes(10, 3));
  t.like(await cache.close(h3), { version: 1, size: 10 });
  t.is((await catalog.listObjects({ oids: ['p/a'], mode: 'deprecated' })).length, 1);
  t.like(cache.stats(), { entries: 1, dirty: 1, dirtyBytes: 10, usedBytes: 10 });
  const r = await cache.open(row2, { write: false, truncate: false });
  t.deepEqual(await readAll(r), bytes(10, 3));
  await cache.close(r);
  await t.throwsAsync(cache.close(r), { code: 'EBADF' });
  await t.throwsAsync(cache.create('p/a', ATTRS, { exclusive: true }), { code: 'EEXIST' });
});

// Serial: it counts the fdatasyncs of the whole process.
test.serial('close commits lazily; fsync (through any handle) and the flusher make file and catalog durable', async (t) => {
  const env = await cacheEnv(t);
  const { cache } = env;
  const catalog = env.catalog as SqliteCatalog;
  await catalog.sync();
  const h = await cache.create('s/a', ATTRS);
  await writeAll(h, bytes(3000));
  const row = await cache.close(h, { attrs: { mtime: 1234 } });
  t.like(row, { size: 3000, mtime: 1234 }, 'attributes set while open commit with the size');
  t.true(catalog.syncPending, 'close does not wait for a sync');
  // fsync of a read-only handle opened after the close makes the closed version durable, as on a local file system.
  const r = await cache.open(row, { write: false, truncate: false });
  await r.fsync();
  t.false(catalog.syncPending);
  await cache.close(r);
  const w = await cache.open(row, { write: true, truncate: false });
  await writeAll(w, bytes(10, 2), 3000);
  await w.fsync();
  t.false(catalog.syncPending);
  t.like(await catalog.getObject({ oid: 's/a' }), { size: 3010 }, 'fsync commits the size');
  await writeAll(w, bytes(10, 3), 3010);
  await cache.close(w);
  t.true(catalog.syncPending);
  // Count fdatasyncs of any file from here on (the prototype all FileHandles share).
  const probe = await open(env.root, 'r');
  const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
  await probe.close();
  const datasync = proto.datasync;
  let datasyncs = 0;
  proto.datasync = function (this: unknown) { datasyncs++; return datasync.call(this); };
  t.teardown(() => { proto.datasync = datasync; });
  const put = env.store.putCopyFromSource.bind(env.store);
  const atPut: { pending: boolean; datasyncs: number }[] = [];
  env.store.putCopyFromSource = (...a) => { atPut.push({ pending: catalog.syncPending, datasyncs }); return put(...a); };
  await cache.flush([row], { wait: true });
  t.is(atPut.length, 1);
  t.false(atPut[0]!.pending, 'the catalog is synced before the store gets the file');
  t.true(atPut[0]!.datasyncs > 0, 'the file is fdatasynced before the store gets it');
  t.deepEqual(await storeBytes(env.store, (await catalog.getObject({ oid: 's/a' }))!), Buffer.concat([bytes(3000), bytes(10, 2), bytes(10, 3)]));
});

test('flush by count: nothing before flush_nb files, all of them at the flush_nb-th close', async (t) => {
  const env = await cacheEnv(t, { config: { 'cache.flush_nb': '3' } });
  const { cache } = env;
  let groups = 0;
  cache.events.on('flush-group', () => groups++);
  await writeFile(cache, 'a', bytes(100, 1));
  // Open for write does not count: it is not flushable yet.
  const open = await cache.create('held', ATTRS);
  await writeAll(open, bytes(10));
  await writeFile(cache, 'b', bytes(100, 2));
  await sleepReal(300);
  t.is(groups, 0);
  t.is(cache.stats().dirty, 3);
  const flushed: string[] = [];
  cache.events.on('flushed', (k: string) => flushed.push(k));
  const group = next(cache, 'flush-group');
  await writeFile(cache, 'c', bytes(100, 3));
  t.is(((await group)[0] as number[]).length, 3);
  while (flushed.length < 3) await next(cache, 'flushed');
  t.like(cache.stats(), { dirty: 1, flushes: 3 });
  for (const [oid, seed] of [['a', 1], ['b', 2], ['c', 3]] as const) {
    const row = (await env.catalog.getObject({ oid }))!;
    t.is(await cache.stateOf(row), 'online');
    t.deepEqual(await storeBytes(env.store, row), bytes(100, seed), `${oid} archived`);
    t.like(await env.catalog.getCacheEntry(row.uuid, 1), { state: 'clean', dirtySince: null });
  }
  await cache.close(open);
});

test('flush by bytes: exactly at flush_bytes', async (t) => {
  const env = await cacheEnv(t, { config: { 'cache.flush_bytes': '1000' } });
  const { cache } = env;
  let groups = 0;
  cache.events.on('flush-group', () => groups++);
  await writeFile(cache, 'a', bytes(600));
  await writeFile(cache, 'b', bytes(399));
  await sleepReal(300);
  t.is(groups, 0, '999 bytes dirty: no flush');
  const group = next(cache, 'flush-group');
  await writeFile(cache, 'c', bytes(1));
  t.is(((await group)[0] as number[]).length, 3);
});

test('flush by age: the oldest dirty file flush_age_ms after it was created', async (t) => {
  const env = await cacheEnv(t, { virtualCache: true, config: { 'cache.flush_age_ms': '30000' } });
  const { cache, clock } = env;
  const t0 = clock.now();
  await writeFile(cache, 'a', bytes(100));
  const [ids, at] = await next(cache, 'flush-group');
  t.is(at, t0 + 30_000);
  t.is((ids as number[]).length, 1);
  await next(cache, 'flushed');
  t.is(cache.stats().flushes, 1);
});

test('opening without a change makes nothing; writing an archived version makes the next one', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog, store } = env;
  const v1 = await writeFile(cache, 'f', bytes(3000, 1));
  await cache.flush([v1], { wait: true });
  t.is(await cache.stateOf(v1), 'online');
  // Open for write and close with no change: nothing happens.
  const idle = await cache.open(v1, { write: true, truncate: false });
  t.deepEqual(await cache.close(idle), v1);
  t.is((await catalog.listObjects({ oids: ['f'], mode: 'deprecated' })).length, 1);
  // A write makes version 2 from the same cache file (renamed).
  const h = await cache.open(v1, { write: true, truncate: false });
  await h.write(Buffer.from('XYZ'), 3, 10);
  t.is(h.version, 2);
  const v2 = await cache.close(h);
  t.like(v2, { uuid: v1.uuid, version: 2, size: 3000, ino: v1.ino });
  const expected = Buffer.from(bytes(3000, 1));
  expected.write('XYZ', 10);
  t.is(await cache.stateOf(v2), 'dirty');
  t.is(await cache.stateOf(v1), 'offline', 'the old file is now the new version');
  t.not((await catalog.getObject({ uuid: v1.uuid, version: 1, mode: 'deprecated' }))!.deprecatedAt, null);
  t.deepEqual(await storeBytes(store, v1), bytes(3000, 1), 'version 1 keeps its bytes on its copy');
  await cache.flush([v2], { wait: true });
  t.deepEqual(await storeBytes(store, (await catalog.getObject({ oid: 'f' }))!), expected);
  // O_TRUNC of an archived version: a new empty version; the old file stays cached.
  const v3h = await cache.open(v2, { write: true, truncate: true });
  t.is(v3h.version, 3);
  t.is(v3h.size(), 0);
  t.is(await cache.stateOf(v2), 'online');
  await writeAll(v3h, bytes(7, 9));
  t.like(await cache.close(v3h), { version: 3, size: 7 });
  // Versions are kept: delete the alive one and undelete brings back the newest deleted.
  await catalog.deprecate('f');
  t.like(await catalog.undelete('f'), { version: 3 });
});

test('a file changed during its flush stays dirty with the new content, then is flushed again', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog, store } = env;
  const h = await cache.create('w', ATTRS);
  await writeAll(h, bytes(2_000_000, 1));
  await h.fsync();
  let cancelled = 0;
  cache.events.on('flush-cancelled', () => cancelled++);
  // A forced flush takes a file open for write; the write lands while it runs.
  const started = next(cache, 'flush-start');
  await cache.flush(undefined, { wait: false });
  await started;
  await h.write(Buffer.from('new'), 3, 0);
  while (cancelled === 0) await next(cache, 'flush-cancelled');
  const row = (await catalog.getObject({ oid: 'w' }))!;
  t.deepEqual(await catalog.listCopies(row.uuid, 1), [], 'the cancelled flush left no copy');
  t.is(await cache.stateOf(row), 'dirty');
  await cache.close(h);
  await cache.flush([row], { wait: true });
  const expected = bytes(2_000_000, 1);
  expected.write('new', 0);
  const after = (await catalog.getObject({ oid: 'w' }))!;
  t.is(after.version, 1);
  t.deepEqual(await storeBytes(store, after), expected);
});

test('a failed flush backs off and is retried until it succeeds', async (t) => {
  const env = await cacheEnv(t, { virtualCache: true, config: { 'cache.flush_nb': '1' }, backoffBaseMs: 5_000 });
  const { cache, catalog, clock } = env;
  for (const m of await catalog.listMedia({ family: 'dir' })) await catalog.updateMedium('dir', m.name, { admStatus: 'locked' });
  const failed = next(cache, 'flush-failed');
  await writeFile(cache, 'r', bytes(100));
  const [, err] = await failed;
  t.is((err as { code: string }).code, 'ENOSPC');
  const tFail = clock.now();
  t.is(cache.stats().dirty, 1);
  let entry = (await catalog.listCacheEntries())[0]!;
  while (entry.flushAttempts === 0) {
    await sleepReal(5);
    entry = (await catalog.listCacheEntries())[0]!;
  }
  t.like(entry, { state: 'dirty' });
  for (const m of await catalog.listMedia({ family: 'dir' })) await catalog.updateMedium('dir', m.name, { admStatus: 'unlocked' });
  await next(cache, 'flushed');
  t.true(clock.now() - tFail >= 5_000, 'retried after the backoff');
  t.like(cache.stats(), { dirty: 0, flushes: 1 });
});

test('deleted and renamed dirty versions are flushed too', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog, store } = env;
  const a = await writeFile(cache, 'gone', bytes(50, 1));
  const b = await writeFile(cache, 'old/name', bytes(60, 2));
  await catalog.deprecate('gone');
  await catalog.renameObject('old/name', 'new/name');
  await cache.flush(undefined, { wait: true });
  t.is((await catalog.listCopies(a.uuid, 1)).length, 1);
  t.deepEqual(await storeBytes(store, await catalog.undelete('gone')), bytes(50, 1));
  const nb = (await catalog.getObject({ oid: 'new/name' }))!;
  t.is(nb.uuid, b.uuid);
  t.deepEqual(await storeBytes(store, nb), bytes(60, 2));
});

test('a hard-deleted dirty version is dropped from the cache, not flushed', async (t) => {
  const env = await cacheEnv(t);
  const { cache, catalog } = env;
  await writeFile(cache, 'x', bytes(10));
  await catalog.hardDelete('x');
  await cache.flush(undefined, { wait: true });
  t.like(cache.stats(), { entries: 0, flushes: 0, usedBytes: 0 });
});

test('a new file is never flushed before its writer closes it, even with flush_nb = 1', async (t) => {
  const env = await cacheEnv(t, { config: { 'cache.flush_nb': '1' } });
  const { cache, catalog, store } = env;
  const h = await cache.create('n', ATTRS);
  await sleepReal(100);
  await writeAll(h, bytes(1000));
  const flushed = next(cache, 'flushed');
  await cache.close(h);
  await flushed;
  const versions = await catalog.listObjects({ oids: ['n'], mode: 'deprecated' });
  t.is(versions.length, 1);
  t.like(versions[0], { version: 1, size: 1000 });
  t.deepEqual(await storeBytes(store, versions[0]!), bytes(1000));
});

test('the flusher waits for files open by users, at most flush_yield_ms; a forced flush does not', async (t) => {
  const env = await cacheEnv(t, { virtualCache: true, config: { 'cache.flush_nb': '1', 'cache.flush_yield_ms': '2000' } });
  const { cache, clock } = env;
  const flushedAt: number[] = [];
  cache.events.on('flushed', () => flushedAt.push(clock.now()));
  // A user reads a file for a long time: the flush of another waits 2 s from the open, then goes.
  const readMe = await writeFile(cache, 'read-me', bytes(100, 1));
  while (flushedAt.length < 1) await next(cache, 'flushed');
  const reader = await cache.open(readMe, { write: false, truncate: false });
  const t0 = clock.now();
  await writeFile(cache, 'a', bytes(100, 2));
  while (flushedAt.length < 2) await next(cache, 'flushed');
  t.true(flushedAt[1]! >= t0 + 2000, `flushed ${flushedAt[1]! - t0} ms after the reader opened`);
  // Open for less than that: the flush goes as soon as the user closes.
  await cache.close(reader);
  const w = await cache.create('held', ATTRS);
  const t1 = clock.now();
  await writeFile(cache, 'b', bytes(100, 3));
  await cache.close(w);
  while (flushedAt.length < 3) await next(cache, 'flushed');
  t.true(flushedAt[2]! < t1 + 2000);
  // A forced flush does not wait.
  const r2 = await cache.open((await env.catalog.getObject({ oid: 'a' }))!, { write: false, truncate: false });
  const t2 = clock.now();
  const c = await cache.create('c', ATTRS);
  await writeAll(c, bytes(10, 4));
  await cache.flush([(await env.catalog.getObject({ oid: 'c' }))!], { wait: true });
  t.true(clock.now() < t2 + 2000);
  await cache.close(c);
  await cache.close(r2);
});
