/**
 * The disk cache against plain files on the same disk, side by side:
 * small files created/written/closed (close = fsync + catalog commit), a
 * large sequential write in 128 KiB requests (what FUSE sends with
 * big_writes), the flush of the small files to a directory medium, and the
 * recall of the large file.
 * Usage: node dist/test/bench/cache.js [SMALL_FILES=2000] [BIG_MIB=512]
 */
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCache } from '../../src/cache/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { Config, createLogger } from '../../src/core/index.js';
import { formatPosixMedium } from '../../src/media/index.js';
import { createScheduler } from '../../src/scheduler/index.js';
import { Store } from '../../src/store/index.js';

const nSmall = Number(process.argv[2] ?? 2000);
const bigMiB = Number(process.argv[3] ?? 512);
const REQ = 128 * 1024;
const ATTRS = { mode: 0o100644, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'deimos-bench-cache-'));
  try {
    const config = new Config({
      file: null, env: {},
      overrides: { 'cache.dir': join(root, 'cache'), 'cache.family': 'dir', 'cache.flush_nb': '1000000', 'cache.flush_bytes': '1T', 'cache.size': '100G' },
    });
    const log = createLogger('silent');
    const catalog = await openCatalog(join(root, 'catalog.db'));
    const medium = join(root, 'medium');
    await mkdir(medium);
    await formatPosixMedium(medium, medium);
    await catalog.addMedia([{ family: 'dir', name: medium, admStatus: 'unlocked', fsStatus: 'empty' }]);
    const scheduler = createScheduler({ catalog, config, log });
    const store = new Store({ catalog, scheduler, config, log });
    const cache = createCache({ catalog, store, config, log });
    await cache.recover();
    const small = Buffer.alloc(4096, 7);
    const plainDir = join(root, 'plain');
    await mkdir(plainDir);

    const tPlainSmall = await timed(async () => {
      for (let i = 0; i < nSmall; i++) {
        const fh = await open(join(plainDir, `s${i}`), 'w');
        await fh.write(small, 0, small.length, 0);
        await fh.datasync();
        await fh.close();
      }
    });
    const tCacheSmall = await timed(async () => {
      for (let i = 0; i < nSmall; i++) {
        const h = await cache.create(`small/${i}`, ATTRS);
        await h.write(small, small.length, 0);
        await cache.close(h);
      }
    });
    const big = Buffer.alloc(REQ, 3);
    const bigBytes = bigMiB * 1024 * 1024;
    const tPlainBig = await timed(async () => {
      const fh = await open(join(plainDir, 'big'), 'w');
      for (let p = 0; p < bigBytes; p += REQ) await fh.write(big, 0, REQ, p);
      await fh.datasync();
      await fh.close();
    });
    const tCacheBig = await timed(async () => {
      const h = await cache.create('big', ATTRS);
      for (let p = 0; p < bigBytes; p += REQ) await h.write(big, REQ, p);
      await cache.close(h);
    });
    let failures = 0;
    cache.events.on('flush-failed', (_k, err) => { if (failures++ === 0) console.error('first flush failure:', (err as Error).message); });
    const tFlush = await timed(() => cache.flush(undefined, { wait: true }));
    if (failures) console.error(`${failures} flush failures (retried)`);
    const bigRow = (await catalog.getObject({ oid: 'big' }))!;
    await cache.release(bigRow);
    const tRecall = await timed(async () => cache.close(await cache.open(bigRow, { write: false, truncate: false })));
    await cache.shutdown();
    await scheduler.close();
    await catalog.close();

    const mbps = (s: number) => (bigBytes / s / 1e6).toFixed(0);
    console.log(`# disk cache vs plain files, same file system (${nSmall} files of 4 KiB, ${bigMiB} MiB in ${REQ / 1024} KiB writes)`);
    console.log('| operation | plain | cache | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| small files: create, write, fsync, close | ${(nSmall / tPlainSmall).toFixed(0)} files/s | ${(nSmall / tCacheSmall).toFixed(0)} files/s | ${(tPlainSmall / tCacheSmall).toFixed(2)}× |`);
    console.log(`| large file: write, fsync | ${mbps(tPlainBig)} MB/s | ${mbps(tCacheBig)} MB/s | ${(tPlainBig / tCacheBig).toFixed(2)}× |`);
    console.log(`| flush of all ${nSmall + 1} files to a dir medium | | ${tFlush.toFixed(1)} s (${((nSmall + 1) / tFlush).toFixed(0)} files/s) | |`);
    console.log(`| recall of the large file from the dir medium | | ${mbps(tRecall)} MB/s | |`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
