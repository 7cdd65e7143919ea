/**
 * The catalog with many objects: bulk load through the API, then
 * `object list --pattern` and single-object lookups, through the API and
 * through the CLI. Usage: node dist/test/bench/catalog.js [OBJECTS=1000000]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteCatalog, openCatalog, type BulkObject } from '../../src/catalog/index.js';
import { BIN } from '../helpers/cli.js';

const n = Number(process.argv[2] ?? 1_000_000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-catbench-'));
  const home = join(root, 'home');
  try {
    const cat = (await openCatalog(join(home, 'catalog.db'))) as SqliteCatalog;
    // 1000 projects × (n/1000) files: oids like proj/p0042/run/f000123.dat
    const perDir = Math.max(1, Math.floor(n / 1000));
    let t0 = now();
    const batch: BulkObject[] = [];
    for (let i = 0; i < n; i++) {
      const p = Math.floor(i / perDir);
      batch.push({ oid: `proj/p${String(p).padStart(4, '0')}/run/f${String(i % perDir).padStart(6, '0')}.dat`, size: i, userMd: { idx: String(i) } });
      if (batch.length === 10_000) { await cat.bulkInsertObjects(batch); batch.length = 0; }
    }
    if (batch.length) await cat.bulkInsertObjects(batch);
    const load = (now() - t0) / 1000;
    const total = await cat.countObjects('alive');

    const pat: number[] = [];
    let hits = 0;
    for (let r = 0; r < 5; r++) {
      t0 = now();
      hits = (await cat.listObjects({ pattern: '^proj/p0421/' })).length;
      pat.push(now() - t0);
    }
    const scan: number[] = [];
    let scanHits = 0;
    for (let r = 0; r < 3; r++) {
      t0 = now();
      scanHits = (await cat.listObjects({ pattern: 'f00001[0-9]\\.dat$' })).length;
      scan.push(now() - t0);
    }
    const look: number[] = [];
    for (let r = 0; r < 1000; r++) {
      const i = (r * 7919) % n;
      const oid = `proj/p${String(Math.floor(i / perDir)).padStart(4, '0')}/run/f${String(i % perDir).padStart(6, '0')}.dat`;
      t0 = now();
      const o = await cat.getObject({ oid });
      look.push(now() - t0);
      if (!o) throw new Error(`lookup of ${oid} failed`);
    }
    await cat.close();

    const env = { ...process.env, DEIMOS_HOME: home, DEIMOS_CONFIG: '/dev/null', DEIMOS_LOG_LEVEL: 'error' };
    const cli = (...args: string[]) => { const s = now(); const out = execFileSync(BIN, [...args], { env, maxBuffer: 1 << 30 }); return [now() - s, out.toString().trim().split('\n').length] as const; };
    const cliPat = [0, 1, 2].map(() => cli('object', 'list', '--pattern', '^proj/p0421/'));
    const cliOne = [0, 1, 2].map(() => cli('object', 'list', 'proj/p0421/run/f000007.dat'));
    const cliNone = [0, 1, 2].map(() => cli('ping'));

    console.log(`# catalog with ${total.toLocaleString('en')} objects (SQLite, WAL)`);
    console.log('| operation | result | median |');
    console.log('|---|---|---|');
    console.log(`| bulk load through the API (batches of 10,000) | ${total} objects | ${load.toFixed(1)} s (${Math.round(total / load).toLocaleString('en')}/s) |`);
    console.log(`| API listObjects --pattern '^proj/p0421/' (prefix) | ${hits} objects | ${median(pat).toFixed(1)} ms |`);
    console.log(`| API listObjects --pattern 'f00001[0-9]\\.dat$' (full scan) | ${scanHits} objects | ${median(scan).toFixed(0)} ms |`);
    console.log(`| API getObject by oid (1000 lookups) | 1 object | ${(median(look) * 1000).toFixed(0)} µs |`);
    console.log(`| CLI \`object list --pattern '^proj/p0421/'\` | ${cliPat[0]![1]} lines | ${median(cliPat.map((x) => x[0])).toFixed(0)} ms |`);
    console.log(`| CLI \`object list OID\` | ${cliOne[0]![1]} line | ${median(cliOne.map((x) => x[0])).toFixed(0)} ms |`);
    console.log(`| CLI \`ping\` (start-up cost of any command) | - | ${median(cliNone.map((x) => x[0])).toFixed(0)} ms |`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
