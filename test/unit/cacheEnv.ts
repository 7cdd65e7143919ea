/**
 * A disk cache over the real stack in a temp directory: catalog, scheduler,
 * store, and either directory media (fast) or the sim tape library, with a
 * virtual clock unless the test wants real timers.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { createCache, type DiskCache } from '../../src/cache/index.js';
import type { CacheHandle } from '../../src/cache/interface.js';
import { openCatalog, type Catalog, type ObjectRow, type PosixAttrs } from '../../src/catalog/index.js';
import { VirtualClock } from '../../src/clock/index.js';
import { Config, createLogger, type Logger } from '../../src/core/index.js';
import { addLibraryDrives, SimLibrary } from '../../src/library/index.js';
import { formatPosixMedium } from '../../src/media/index.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/index.js';
import { Store } from '../../src/store/index.js';
import type { ObjectSink } from '../../src/layout/index.js';

export interface CacheEnvOptions {
  /** 'dir': two directory media; 'tape': the sim library, its cartridges formatted. */
  media?: 'dir' | 'tape';
  /** "section.key" options. */
  config?: Record<string, string>;
  /**
   * The cache's clock: real timers by default (flush_age_ms is an hour, so
   * age never triggers), or the virtual clock of the scheduler, which jumps
   * to the next deadline whenever the process is idle (age and retry tests).
   */
  virtualCache?: boolean;
  backoffBaseMs?: number;
  /** Flush puts running at once (default 64). */
  maxPuts?: number;
}

export interface CacheEnv {
  root: string;
  config: Config;
  catalog: Catalog;
  clock: VirtualClock;
  scheduler: Scheduler;
  store: Store;
  lib: SimLibrary | null;
  cache: DiskCache;
  log: Logger;
  /**
   * A crash: the cache is dropped without shutdown (its clock stopped, so it
   * never acts again), the catalog, scheduler and library are opened again
   * on the same files, and a new cache is made (not yet recovered).
   */
  restart(): Promise<DiskCache>;
}

export const ATTRS: PosixAttrs = { mode: 0o100644, uid: 1000, gid: 100, atime: 0, mtime: 0, ctime: 0 };

/** A cache env removed when the test ends. */
export async function cacheEnv(t: ExecutionContext, o: CacheEnvOptions = {}): Promise<CacheEnv> {
  const env = await openCacheEnv(o);
  t.teardown(() => env.close());
  return env;
}

/** A cache env the caller closes (for envs shared by several tests). */
export async function openCacheEnv(o: CacheEnvOptions = {}): Promise<CacheEnv & { close(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-cache-'));
  const media = o.media ?? 'dir';
  const config = new Config({
    file: null, env: {},
    overrides: {
      'cache.dir': join(root, 'cache'), 'cache.family': media, 'cache.flush_age_ms': '3600000', 'cache.flush_delay_ms': '0', 'cache.flush_yield_ms': '0', 'cache.flush_nb': '1000',
      'cache.flush_bytes': '1G', 'store.fsync': 'false', 'store.io_block_size': '256K',
      'library.capacity_LTO9': '256M', 'library.cartridges': 'L[00000-00005]L9', 'library.drives': 'st[0-1]',
      'lrs.idle_unload_s': '0',
      ...o.config,
    },
  });
  const log = createLogger((process.env.DEIMOS_TEST_LOG ?? 'silent') as 'silent');
  const world = async () => {
    const catalog = await openCatalog(join(root, 'catalog.db'));
    const clock = new VirtualClock();
    const lib = media === 'tape' ? await SimLibrary.open({ config, catalog, clock, dir: join(root, 'library') }) : null;
    if (lib !== null) await addLibraryDrives(catalog, lib);
    const scheduler = createScheduler({ catalog, config, library: lib ?? undefined, clock, log });
    const store = new Store({ catalog, scheduler, config, log });
    const cache = createCache({ catalog, store, config, log, clock: o.virtualCache ? clock : undefined, tuning: { backoffBaseMs: o.backoffBaseMs, maxPuts: o.maxPuts } });
    return { catalog, clock, lib, scheduler, store, cache };
  };
  const w = await world();
  const env: CacheEnv = {
    root, config, log, ...w,
    async restart() {
      env.clock.stop();
      await env.catalog.close();
      Object.assign(env, await world());
      await env.store.recover();
      return env.cache;
    },
  };
  if (media === 'dir') {
    for (const d of ['d0', 'd1']) {
      const dir = join(root, d);
      await mkdir(dir);
      await formatPosixMedium(dir, dir);
      await env.catalog.addMedia([{ family: 'dir', name: dir, admStatus: 'unlocked', fsStatus: 'empty' }]);
    }
  } else {
    const labels = (await w.lib!.scan()).cartridges.map((c) => c.label);
    await env.catalog.addMedia(labels.map((name) => ({ family: 'tape' as const, name, model: 'LTO9', admStatus: 'unlocked' as const, fsStatus: 'blank' as const })));
    await Promise.all(labels.map((l) => env.scheduler.format(l)));
  }
  await env.cache.recover();
  return Object.assign(env, {
    async close() {
      await env.cache.shutdown().catch(() => undefined);
      await env.scheduler.close().catch(() => undefined);
      env.clock.stop();
      await env.catalog.close();
      await rm(root, { recursive: true, force: true });
    },
  });
}

/** Creates `oid` through the cache with `data` written in chunks, and closes it. */
export async function writeFile(cache: DiskCache, oid: string, data: Buffer, chunk = 64 * 1024): Promise<ObjectRow> {
  const h = await cache.create(oid, ATTRS);
  await writeAll(h, data, 0, chunk);
  return cache.close(h);
}

export async function writeAll(h: CacheHandle, data: Buffer, at = 0, chunk = 64 * 1024): Promise<void> {
  for (let p = 0; p < data.length; p += chunk) {
    const part = data.subarray(p, Math.min(p + chunk, data.length));
    await h.write(part, part.length, at + p);
  }
}

/** Everything a handle reads. */
export async function readAll(h: CacheHandle): Promise<Buffer> {
  const out = Buffer.alloc(h.size());
  let p = 0;
  while (p < out.length) {
    const n = await h.read(out.subarray(p), out.length - p, p);
    if (n === 0) break;
    p += n;
  }
  return out.subarray(0, p);
}

/** The bytes of a version as the store reads them from its copies (not the cache). */
export async function storeBytes(store: Store, obj: ObjectRow): Promise<Buffer> {
  const data = Buffer.alloc(obj.size);
  const sink: ObjectSink = { async write(buf, offset) { buf.copy(data, offset); } };
  await store.read({ object: obj, sink });
  return data;
}

export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** The next `name` event of the cache. */
export function next(cache: DiskCache, name: string): Promise<unknown[]> {
  return once(cache.events, name);
}

export function sleepReal(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
