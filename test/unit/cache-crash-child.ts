/**
 * A service writing files through the disk cache until it is killed: run by
 * cache-crash.test.ts, which SIGKILLs it and checks that every file whose
 * close (or fsync) was reported here survives. Prints "closed N",
 * "fsynced N" and "flush-start KEY" lines.
 * Usage: node cache-crash-child.js ROOT FLUSH_NB
 */
import { join } from 'node:path';
import { createCache } from '../../src/cache/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { Config, createLogger } from '../../src/core/index.js';
import { createScheduler } from '../../src/scheduler/index.js';
import { Store } from '../../src/store/index.js';
import { ATTRS, bytes, writeAll } from './cacheEnv.js';

export function crashFileSize(i: number): number {
  return 1000 + ((i * 7919) % 300_000);
}

async function main(): Promise<void> {
  const [root, flushNb] = process.argv.slice(2) as [string, string];
  const config = new Config({
    file: null, env: {},
    overrides: {
      'cache.dir': join(root, 'cache'), 'cache.family': 'dir', 'cache.flush_age_ms': '3600000', 'cache.flush_nb': flushNb,
      // Flushes start as soon as flushNb files are closed: the kill lands on the first groups, not after 5 s of writes.
      'cache.flush_delay_ms': '0',
      'cache.flush_bytes': '1G', 'store.fsync': 'false', 'store.io_block_size': '256K',
    },
  });
  const log = createLogger('silent');
  const catalog = await openCatalog(join(root, 'catalog.db'));
  const scheduler = createScheduler({ catalog, config, log });
  const store = new Store({ catalog, scheduler, config, log });
  const cache = createCache({ catalog, store, config, log });
  await cache.recover();
  cache.events.on('flush-start', (k: string) => process.stdout.write(`flush-start ${k}\n`));
  for (let i = 0; ; i++) {
    const h = await cache.create(`f/${i}`, ATTRS);
    await writeAll(h, bytes(crashFileSize(i), i));
    if (i % 5 === 4) {
      await h.fsync();
      process.stdout.write(`fsynced ${i}\n`);
      // More bytes after the fsync, never acknowledged; the handle stays open.
      await writeAll(h, bytes(5000, 1000 + i), crashFileSize(i));
      continue;
    }
    await cache.close(h);
    process.stdout.write(`closed ${i}\n`);
  }
}

if (process.argv[1]?.endsWith('cache-crash-child.js')) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
