/**
 * Crashes: a cache dropped without shutdown, and a child process killed with
 * SIGKILL while it writes and while it flushes. After recover(), every file
 * whose close or fsync returned is flushed with its bytes.
 */
import { spawn } from 'node:child_process';
import { writeFile as fsWriteFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import type { ObjectRow } from '../../src/catalog/index.js';
import { crashFileSize } from './cache-crash-child.js';
import { ATTRS, bytes, cacheEnv, storeBytes, writeAll, writeFile, type CacheEnv } from './cacheEnv.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'cache-crash-child.js');

test('a cache dropped without shutdown: recover finds every closed or fsynced file, and they flush whole', async (t) => {
  const env = await cacheEnv(t);
  const { catalog } = env;
  let cache = env.cache;
  const closed = [];
  for (let i = 0; i < 4; i++) closed.push({ oid: `c/${i}`, data: bytes(20_000 + i, i) });
  for (const f of closed) await writeFile(cache, f.oid, f.data);
  // One archived, then rewritten: its next version is dirty.
  const v1 = (await catalog.getObject({ oid: 'c/0' }))!;
  await cache.flush([v1], { wait: true });
  const w = await cache.open(v1, { write: true, truncate: false });
  await w.write(Buffer.from('v2'), 2, 0);
  await cache.close(w);
  closed[0]!.data = Buffer.concat([Buffer.from('v2'), closed[0]!.data.subarray(2)]);
  // One fsynced and still open; one open with writes never made durable.
  const synced = await cache.create('c/synced', ATTRS);
  await writeAll(synced, bytes(7000, 7));
  await synced.fsync();
  const loose = await cache.create('c/loose', ATTRS);
  await writeAll(loose, bytes(3000, 8));
  // One clean file stays cached; a flush interrupted half-way; a recall interrupted half-way; a stray file.
  const clean = await writeFile(cache, 'c/clean', bytes(500, 9));
  await cache.flush([clean], { wait: true });
  const flushing = (await catalog.getObject({ oid: 'c/1' }))!;
  await catalog.upsertCacheEntries([{ ...(await catalog.getCacheEntry(flushing.uuid, 1))!, state: 'flushing' }]);
  const staged = await writeFile(cache, 'c/staged', bytes(100, 10));
  await cache.flush([staged], { wait: true });
  await cache.release(staged);
  await catalog.upsertCacheEntries([{ uuid: staged.uuid, version: 1, state: 'staging', size: 100, file: `${staged.uuid}.1`, dirtySince: null, lastAccess: 0, flushAttempts: 0, flushAfter: null }]);
  const cacheDir = join(env.root, 'cache');
  await fsWriteFile(join(cacheDir, `.${staged.uuid}.1.deimos-0000`), 'partial');
  await fsWriteFile(join(cacheDir, '00000000-0000-0000-0000-000000000000.1'), 'stray');

  const beforeCrash = await readdir(cacheDir);
  t.true(beforeCrash.filter((n) => n.endsWith('.1')).length > 20, 'spare files were made ahead');

  cache = await env.restart();
  const report = await cache.recover();
  t.deepEqual(report, { dirty: 6, dropped: 1, missing: [] });
  t.is(await cache.stateOf(clean), 'online');
  t.is(await cache.stateOf(staged), 'offline');
  // Leftovers, the stray and the spares of before the crash are gone (those recover makes afterwards aside: see cache-spares.test).
  const claimed = new Set((await env.catalog.listCacheEntries()).map((r) => r.file));
  t.deepEqual((await readdir(cacheDir)).filter((n) => beforeCrash.includes(n) && !claimed.has(n)), []);
  await cache.flush(undefined, { wait: true });
  t.is(cache.stats().dirty, 0);
  for (const f of closed) t.deepEqual(await storeBytes(env.store, (await env.catalog.getObject({ oid: f.oid }))!), f.data, f.oid);
  t.is((await env.catalog.getObject({ oid: 'c/0' }))!.version, 2);
  t.deepEqual(await storeBytes(env.store, (await env.catalog.getObject({ uuid: v1.uuid, version: 1, mode: 'deprecated' }))!), bytes(20_000, 0));
  t.deepEqual(await storeBytes(env.store, (await env.catalog.getObject({ oid: 'c/synced' }))!), bytes(7000, 7));
  // Bytes written but never acknowledged may be there or not; the file is consistent either way.
  const l = (await env.catalog.getObject({ oid: 'c/loose' }))!;
  t.deepEqual(await storeBytes(env.store, l), bytes(3000, 8).subarray(0, l.size));
  // The dropped cache's handles stay referenced, as a dead process' would be gone: no GC close mid-test.
  t.true(synced.fd >= 0 && loose.fd >= 0);
});

interface ChildRun { closed: number[]; fsynced: number[]; flushStarts: number }

/** Runs the writer child until `killWhen` says so, then SIGKILLs it and waits for its end. */
async function runChild(t: ExecutionContext, env: CacheEnv, flushNb: number, killWhen: (r: ChildRun) => boolean): Promise<ChildRun> {
  const run: ChildRun = { closed: [], fsynced: [], flushStarts: 0 };
  const child = spawn(process.execPath, [CHILD, env.root, String(flushNb)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let buf = '';
  let killed = false;
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const [what, arg] = buf.slice(0, nl).split(' ');
      buf = buf.slice(nl + 1);
      if (what === 'closed') run.closed.push(Number(arg));
      if (what === 'fsynced') run.fsynced.push(Number(arg));
      if (what === 'flush-start') run.flushStarts++;
      if (!killed && killWhen(run)) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
  t.is(signal, 'SIGKILL', `child ended with ${code}: ${stderr}`);
  return run;
}

async function checkSurvivors(t: ExecutionContext, env: CacheEnv, run: ChildRun): Promise<void> {
  const cache = await env.restart();
  const report = await cache.recover();
  t.deepEqual(report.missing, []);
  await cache.flush(undefined, { wait: true });
  t.is(cache.stats().dirty, 0);
  for (const i of run.closed) {
    const row = await env.catalog.getObject({ oid: `f/${i}` });
    t.deepEqual(await storeBytes(env.store, row as ObjectRow), bytes(crashFileSize(i), i), `closed file ${i}`);
  }
  for (const i of run.fsynced) {
    const row = (await env.catalog.getObject({ oid: `f/${i}` }))!;
    t.true(row.size >= crashFileSize(i));
    t.deepEqual((await storeBytes(env.store, row)).subarray(0, crashFileSize(i)), bytes(crashFileSize(i), i), `fsynced file ${i}`);
  }
}

test('SIGKILL while writing: every closed or fsynced file survives', async (t) => {
  const env = await cacheEnv(t);
  const run = await runChild(t, env, 1000, (r) => r.closed.length + r.fsynced.length >= 12);
  t.true(run.closed.length >= 9);
  await checkSurvivors(t, env, run);
});

test('SIGKILL during a flush: every closed or fsynced file survives', async (t) => {
  const env = await cacheEnv(t);
  const run = await runChild(t, env, 3, (r) => r.flushStarts >= 5);
  t.true(run.closed.length >= 3);
  await checkSurvivors(t, env, run);
  const copies = await Promise.all(run.closed.map(async (i) => env.catalog.listCopies((await env.catalog.getObject({ oid: `f/${i}` }))!.uuid, 1)));
  t.true(copies.every((c) => c.length === 1), 'one copy per version, whether flushed before or after the crash');
});
