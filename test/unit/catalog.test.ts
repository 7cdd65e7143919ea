/**
 * The catalog contract on SQLite, plus what only the SQLite engine promises:
 * migrations, several connections on one file, mapped SQLite errors, index use.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import Database from 'better-sqlite3';
import { CATALOG_SCHEMA_VERSION, isAlive, openCatalog, SqliteCatalog } from '../../src/catalog/index.js';
import { literalPrefix, prefixUpperBound } from '../../src/catalog/base.js';
import { migrate } from '../../src/catalog/migrations.js';
import { runCatalogContract } from './catalog.contract.js';
import { addDirMedium, putObject } from './catalog-contract/helpers.js';

const tmpDirs: string[] = [];
function tempFileIn(): string {
  const d = mkdtempSync(join(tmpdir(), 'deimos-catalog-'));
  tmpDirs.push(d);
  return join(d, 'catalog.db');
}
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'deimos-catalog-'));
  tmpDirs.push(d);
  return join(d, 'sub', 'catalog.db');
}
test.after.always(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

runCatalogContract('sqlite', () => openCatalog(tempFile()));

test('sqlite: migrations are idempotent on reopen and data survives', async (t) => {
  const file = tempFile();
  const a = await openCatalog(file);
  await addDirMedium(a);
  await putObject(a, 'x/y');
  await a.close();
  const b = await openCatalog(file);
  t.truthy(await b.getObject({ oid: 'x/y' }));
  t.is((await b.lookup('x'))?.type, 'dir');
  await b.close();
  const db = new Database(file);
  t.is(db.pragma('user_version', { simple: true }), CATALOG_SCHEMA_VERSION);
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  t.is(migrate(db), CATALOG_SCHEMA_VERSION);
  // A later migration applies once, on top of the existing schema.
  const next = { version: CATALOG_SCHEMA_VERSION + 1, name: 'test', steps: ['CREATE TABLE extra (k TEXT)'] };
  t.is(migrate(db, [{ version: CATALOG_SCHEMA_VERSION, name: 'done', steps: ['SELECT bad syntax here'] }, next]), CATALOG_SCHEMA_VERSION + 1);
  t.is(migrate(db, [next]), CATALOG_SCHEMA_VERSION + 1);
  db.close();
  // This deimos does not know version N+1: refuse rather than misread.
  await t.throwsAsync(openCatalog(file), { code: 'ENOTSUP' });
});

test('sqlite: a failing migration step leaves the schema at the previous version', (t) => {
  const db = new Database(':memory:');
  const ok = { version: 1, name: 'a', steps: ['CREATE TABLE a (x)'] };
  const bad = { version: 2, name: 'b', steps: ['CREATE TABLE b (x)', 'CREATE TABLE a (x)'] };
  t.throws(() => migrate(db, [ok, bad]), { code: 'EIO', message: /migration 2 \(b\)/ });
  t.is(db.pragma('user_version', { simple: true }), 1);
  t.is((db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'b'`).get() as { n: number }).n, 0);
  db.close();
});

test('sqlite: two connections on one file see each other\'s writes', async (t) => {
  const file = tempFile();
  const a = await openCatalog(file);
  const b = await openCatalog(file);
  await addDirMedium(a);
  t.truthy(await b.getMedium('dir', 'm1'));
  await putObject(b, 'from-b');
  t.truthy(await a.getObject({ oid: 'from-b' }));
  await a.setState('k', 'v');
  t.is(await b.getState('k'), 'v');
  await a.close();
  await b.close();
});

test('sqlite: durable writes resolve synced; lazy ones wait for the next durable write or sync(), and are visible at once', async (t) => {
  const cat = new SqliteCatalog(tempFileIn());
  t.teardown(() => cat.close());
  await cat.sync();
  t.false(cat.syncPending);
  await cat.mkdir('lazy', { mode: 0o40755, uid: 0, gid: 0, atime: 1, mtime: 1, ctime: 1 }, { durable: false });
  t.true(cat.syncPending, 'a lazy commit is not synced');
  t.is((await cat.lookup('lazy'))?.type, 'dir');
  await cat.sync();
  t.false(cat.syncPending);
  await cat.setEntryAttrs('lazy', { mtime: 2 }, { durable: false });
  t.true(cat.syncPending);
  // A durable write syncs the lazy ones before it (the WAL is ordered); concurrent ones share fsyncs.
  await Promise.all([cat.setState('a', '1'), cat.setState('b', '2'), cat.setEntryAttrs('lazy', { mtime: 3 })]);
  t.false(cat.syncPending);
  await cat.close();
  await t.throwsAsync(cat.sync(), { code: 'EBADF' });
});

const DIR = (t: number) => ({ mode: 0o40755, uid: 0, gid: 0, atime: t, mtime: t, ctime: t });
const HELD = { durable: false, defer: true } as const;

test('sqlite: deferred writes are held in one transaction: seen at once by their connection, by others once the delay is over', async (t) => {
  const file = tempFileIn();
  const a = new SqliteCatalog(file, { commitDelayMs: 150 });
  const b = new SqliteCatalog(file);
  t.teardown(async () => { await a.close(); await b.close(); });
  await a.sync();
  const t0 = Date.now();
  await a.mkdir('held', DIR(1), HELD);
  await a.setEntryAttrs('held', { mtime: 2 }, HELD);
  t.true(a.syncPending, 'held writes are not durable');
  t.is((await a.lookup('held'))?.row.mtime, 2, 'the writer sees its held writes');
  t.is(await b.lookup('held'), null, 'another connection does not, before the commit');
  while ((await b.lookup('held')) === null) await new Promise((r) => setTimeout(r, 10));
  t.true(Date.now() - t0 >= 140, 'committed by the timer, not before');
  t.is((await b.lookup('held'))?.row.mtime, 2);
});

test('sqlite: a write that is not deferred commits the held ones with it; sync() commits and syncs them', async (t) => {
  const file = tempFileIn();
  const a = new SqliteCatalog(file, { commitDelayMs: 60_000 });
  const b = new SqliteCatalog(file);
  t.teardown(async () => { await a.close(); await b.close(); });
  await a.mkdir('d1', DIR(1), HELD);
  await a.mkdir('d2', DIR(1), { durable: false });
  t.is((await b.readdir('')).length, 2);
  await a.mkdir('d3', DIR(1), HELD);
  t.true(a.syncPending);
  await a.sync();
  t.false(a.syncPending);
  t.is((await b.readdir('')).length, 3);
  // A durable write wins over defer.
  await a.mkdir('d4', DIR(1), { durable: true, defer: true });
  t.false(a.syncPending);
});

test('sqlite: a failing held write is undone alone; close() commits what is held', async (t) => {
  const file = tempFileIn();
  const a = new SqliteCatalog(file, { commitDelayMs: 60_000 });
  await a.mkdir('kept', DIR(1), HELD);
  await t.throwsAsync(a.mkdir('kept', DIR(2), HELD), { code: 'EEXIST' });
  await t.throwsAsync(a.setEntryAttrs('missing', { mtime: 3 }, HELD), { code: 'ENOENT' });
  await a.setEntryAttrs('kept', { mtime: 4 }, HELD);
  await a.close();
  const b = new SqliteCatalog(file);
  t.teardown(() => b.close());
  t.is((await b.lookup('kept'))?.row.mtime, 4);
});

test('sqlite: without a commit delay, defer commits at once', async (t) => {
  const file = tempFileIn();
  const a = new SqliteCatalog(file);
  const b = new SqliteCatalog(file);
  t.teardown(async () => { await a.close(); await b.close(); });
  await a.mkdir('now', DIR(1), HELD);
  t.truthy(await b.lookup('now'));
});

test('sqlite: lazy commits survive a killed process', async (t) => {
  const file = tempFile();
  await (await openCatalog(file)).close();
  const child = fork(fileURLToPath(new URL('./catalog-lazy-child.js', import.meta.url)), [file], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const made = await new Promise<number>((resolve, reject) => {
    child.on('message', (n) => resolve(n as number));
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before it reported`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const cat = await openCatalog(file);
  t.teardown(() => cat.close());
  t.is(made, 50);
  t.is((await cat.readdir('')).length, 50);
});

test('sqlite: concurrent beginPut of one oid from two connections: exactly one wins', async (t) => {
  const file = tempFile();
  const a = await openCatalog(file);
  const b = await openCatalog(file);
  const results = await Promise.allSettled([
    a.beginPut({ oid: 'race', overwrite: false, owner: process.pid }),
    b.beginPut({ oid: 'race', overwrite: false, owner: process.pid }),
  ]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.is(lost.reason.code, 'EBUSY');
  t.is((await a.listReservations()).length, 1);
  await a.close();
  await b.close();
});

test('sqlite: concurrent beginPut of one oid from several processes: exactly one wins', async (t) => {
  const file = tempFile();
  await (await openCatalog(file)).close();
  const child = fileURLToPath(new URL('./catalog-race-child.js', import.meta.url));
  const kids = Array.from({ length: 4 }, () => fork(child, [file, 'race/obj'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const next = (k: (typeof kids)[number]) => new Promise<Record<string, unknown>>((resolve) => k.once('message', resolve as never));
  await Promise.all(kids.map(next));
  const answers = kids.map(next);
  for (const k of kids) k.send({ go: true });
  const results = await Promise.all(answers);
  const exited = kids.map((k) => new Promise((resolve) => k.once('exit', resolve)));
  for (const k of kids) k.send({ exit: true });
  await Promise.all(exited);
  t.is(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
  t.deepEqual(results.filter((r) => !r.ok).map((r) => r.code), ['EBUSY', 'EBUSY', 'EBUSY']);
});

test('sqlite: a write lock held too long is EBUSY, not a raw SQLite error', async (t) => {
  const file = tempFile();
  await (await openCatalog(file)).close();
  const cat = new SqliteCatalog(file, { busyTimeoutMs: 50 });
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  const err = await t.throwsAsync(cat.setState('k', 'v'), { code: 'EBUSY' });
  t.is(err!.name, 'DeimosError');
  t.is(await cat.getState('k'), null, 'readers are not blocked by a writer in WAL mode');
  other.exec('ROLLBACK');
  await cat.setState('k', 'v');
  other.close();
  await cat.close();
});

test('sqlite: a file that is not a catalog is EIO with a hint', async (t) => {
  const file = tempFile();
  await openCatalog(file).then((c) => c.close());
  const junk = join(file, '..', 'junk.db');
  writeFileSync(junk, 'this is not a database, just some text that is long enough to look like a header'.repeat(20));
  const err = await t.throwsAsync(openCatalog(junk), { code: 'EIO' });
  t.regex((err as { hint?: string }).hint ?? '', /backup|rebuild/);
});

test('sqlite: lookups by oid and readdir use indexes', async (t) => {
  const cat = new SqliteCatalog(':memory:');
  const plan = (sql: string, ...args: unknown[]): string => cat.explain(sql, ...args).join(' | ');
  t.regex(plan('SELECT * FROM objects WHERE oid = ? AND deprecated_at IS NULL', 'a'), /USING INDEX objects_alive_oid/);
  t.regex(plan('SELECT * FROM objects WHERE parent = ? AND deprecated_at IS NULL', 'a'), /USING INDEX objects_alive_parent/);
  t.regex(plan('SELECT * FROM dirs WHERE parent = ?', 'a'), /USING (COVERING )?INDEX dirs_parent/);
  const list = plan(`SELECT * FROM objects WHERE deprecated_at IS NULL AND oid REGEXP ? ORDER BY oid LIMIT 10`, 'x');
  t.regex(list, /objects_alive_oid/);
  t.notRegex(list, /TEMP B-TREE/);
  t.notRegex(plan('SELECT * FROM objects WHERE 1 ORDER BY oid, version, id'), /TEMP B-TREE/);
  t.regex(plan('SELECT * FROM extents WHERE family = ? AND medium = ? AND state = ?', 'tape', 'T', 'sync'), /extents_medium/);
  await cat.close();
});

test('sqlite: bulkInsertObjects inserts alive objects and their directories, all or nothing', async (t) => {
  const cat = new SqliteCatalog(':memory:');
  const n = await cat.bulkInsertObjects(Array.from({ length: 1000 }, (_, i) => ({ oid: `d${i % 10}/sub/o${i}`, size: i })));
  t.is(n, 1000);
  t.is(await cat.countObjects(), 1000);
  t.is((await cat.readdir('d3/sub')).length, 100);
  t.is((await cat.readdir('')).length, 10);
  const o = await cat.getObject({ oid: 'd3/sub/o3' });
  t.like(o, { version: 1, size: 3, deprecatedAt: null });
  await t.throwsAsync(cat.bulkInsertObjects([{ oid: 'new', size: 1 }, { oid: 'd3/sub/o3', size: 1 }]), { code: 'EEXIST' });
  await t.throwsAsync(cat.bulkInsertObjects([{ oid: 'new2', size: 1 }, { oid: 'd3/sub/o3/x', size: 1 }]), { code: 'ENOTDIR' });
  t.is(await cat.getObject({ oid: 'new' }), null);
  t.is(await cat.countObjects(), 1000);
  t.deepEqual((await cat.listObjects({ pattern: '^d1/sub/o1[0-9]$' })).map((r) => r.oid), ['d1/sub/o11']);
  await cat.close();
});

test('base: literal prefixes of anchored patterns turn into index ranges', (t) => {
  const cases: [string, string][] = [
    ['^proj/run1/', 'proj/run1/'], ['^a\\.b', 'a.b'], ['^ab*', 'a'], ['^ab?c', 'a'], ['^a{2}', ''], ['^a\\.?', 'a'],
    ['^a\\d', 'a'], ['^[ab]c', ''], ['^(ab)', ''], ['^a|b', ''], ['a', ''], ['^a.*z', 'a'], ['^é/€', 'é/€'],
  ];
  for (const [p, want] of cases) t.is(literalPrefix(p), want, p);
  t.is(prefixUpperBound('ab'), 'ac');
  t.is(prefixUpperBound('a/'), 'a0');
  t.is(prefixUpperBound('a\u{10FFFF}'), 'b');
  t.is(prefixUpperBound('\u{10FFFF}'), null);
  t.is(prefixUpperBound('a\uD7FF'), 'a\uE000');
  t.true(isAlive({ deprecatedAt: null }));
  t.false(isAlive({ deprecatedAt: 5 }));
});

test('openCatalog accepts sqlite:// URIs and creates the directory', async (t) => {
  const file = tempFile();
  const cat = await openCatalog(`sqlite://${file}`);
  await cat.setState('k', 'v');
  await cat.close();
  const again = await openCatalog(file);
  t.is(await again.getState('k'), 'v');
  await again.close();
});

test('sqlite: under steady writes the log still restarts: its file stays short while the worker checkpoints alongside', async (t) => {
  const file = tempFileIn();
  const cat = (await openCatalog(file)) as SqliteCatalog;
  t.teardown(() => cat.close());
  const attrs = { mode: 0o40755, uid: 0, gid: 0, atime: 1, mtime: 1, ctime: 1 };
  const n = 8000;
  for (let i = 0; i < n; i++) {
    await cat.mkdir(`d${i % 100}${i >= 100 ? `/e${i}` : ''}`, attrs, { durable: false });
    // The worker's answers arrive between commits, as they do between FUSE ops; it checkpoints while they go on.
    if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  const db = new Database(file);
  t.teardown(() => db.close());
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  const walMiB = statSync(`${file}-wal`).size / 2 ** 20;
  t.log(`${n} commits: WAL file ${walMiB.toFixed(1)} MiB, ${row!.log} frames`);
  t.true(walMiB < 64, `the WAL file grew to ${walMiB.toFixed(1)} MiB`);
});

test('sqlite: checkpoints run on a worker thread once a connection commits often; the log restarts and the data stays', async (t) => {
  const file = tempFileIn();
  const cat = (await openCatalog(file)) as SqliteCatalog;
  const attrs = { mode: 0o40755, uid: 0, gid: 0, atime: 1, mtime: 1, ctime: 1 };
  for (let i = 0; i < 10; i++) await cat.mkdir(`few${i}`, attrs, { durable: false });
  t.false(cat.checkpointsOffThread, 'a few commits start no worker');
  for (let i = 0; i < 600; i++) await cat.mkdir(`d${i}`, attrs, { durable: false });
  t.true(cat.checkpointsOffThread);
  const db = new Database(file);
  t.teardown(() => db.close());
  t.is(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'other connections keep SQLite\'s default');
  // The worker checkpointed as the commits went: the log restarted, it holds far fewer frames than 600 commits wrote.
  await new Promise((r) => setTimeout(r, 200));
  await cat.mkdir('last', attrs, { durable: false });
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  t.true(row!.log < 600, `${row!.log} frames in the log`);
  await cat.close();
  const again = await openCatalog(file);
  t.teardown(() => again.close());
  t.is((await again.readdir('')).length, 611);
});
