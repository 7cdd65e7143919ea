/**
 * Ad-hoc timing of the SQLite catalog on many objects (not run by ava):
 *   npx tsc -p . && node dist/test/bench/catalog-api.js [N=1000000] [DIR=os.tmpdir()]
 * Prints wall and CPU time per operation; CPU time is the figure to compare
 * on a loaded machine.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteCatalog } from '../../src/catalog/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'deimos-cat-bench-'));
const file = join(dir, 'catalog.db');
const cat = new SqliteCatalog(file);
const oidOf = (i: number): string => `p${i % 100}/r${Math.floor(i / 100) % 100}/f${i}.dat`;
const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(1)} ms`);

async function time(label: string, fn: (k: number) => Promise<unknown>, reps = 1): Promise<void> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let r: unknown;
  for (let k = 0; k < reps; k++) r = await fn(k);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000 / reps;
  const rows = Array.isArray(r) ? ` (${r.length} rows)` : typeof r === 'number' ? ` (${r})` : '';
  console.log(`${label}: ${fmt(wall)} wall, ${fmt(cpu)} cpu${reps > 1 ? ' each' : ''}${rows}`);
}

await time(`bulkInsertObjects ${N} in batches of 10,000`, async () => {
  for (let s = 0; s < N; s += 10_000) {
    const rows = [];
    for (let i = s; i < Math.min(N, s + 10_000); i++) rows.push({ oid: oidOf(i), size: i, userMd: { run: String(i % 7) } });
    await cat.bulkInsertObjects(rows);
  }
  return N;
});
console.log(`catalog file: ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);
await time('getObject({oid}) random', (k) => cat.getObject({ oid: oidOf((k * 7919) % N) }), 10_000);
await time('getObject({oid}) missing', (k) => cat.getObject({ oid: `nope/${k}` }), 10_000);
await time('lookup(path) of a file', (k) => cat.lookup(oidOf((k * 104729) % N)), 10_000);
await time('countObjects()', () => cat.countObjects());
await time("listObjects({pattern: 'f12345'})", () => cat.listObjects({ pattern: 'f12345' }));
await time("listObjects({pattern: '7\\.dat$'})", () => cat.listObjects({ pattern: '7\\.dat$' }));
await time("listObjects({pattern: '^p7/r3/'})", () => cat.listObjects({ pattern: '^p7/r3/' }));
await time('listObjects({limit: 1000})', () => cat.listObjects({ limit: 1000 }));
await time("listObjects({metadata: {run: '3'}, limit: 1000})", () => cat.listObjects({ metadata: { run: '3' }, limit: 1000 }));
await time('listObjects() all rows', () => cat.listObjects());
await time("readdir('p7/r3')", () => cat.readdir('p7/r3'));
await cat.addMedia([{ family: 'dir', name: 'm' }]);
await time('put protocol (beginPut + addPendingExtents + commitPut, fsync each)', async (k) => {
  const res = await cat.beginPut({ oid: `new/o${k}`, overwrite: false, owner: process.pid });
  const [e] = await cat.addPendingExtents(res, [{
    uuid: res.uuid, version: 1, copyName: 's', layoutIndex: 0, splitIndex: 0, family: 'dir', medium: 'm', address: `a${k}`,
    position: 0, size: 1, offset: 0, length: 1, checksums: {},
  }]);
  return cat.commitPut({
    reservation: res, size: 1, userMd: {}, attrs: { mode: 0o100644, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 }, grouping: null,
    copy: { copyName: 's', family: 'dir', layout: { name: 'raid1', params: {} }, status: 'complete' },
    extents: [{ id: e!.id, position: 0, size: 1, checksums: {} }],
  });
}, 100);
await time(`rename('p7', 'moved7') (${Math.ceil(N / 100)} objects)`, () => cat.rename('p7', 'moved7'));
await cat.close();
rmSync(dir, { recursive: true, force: true });
