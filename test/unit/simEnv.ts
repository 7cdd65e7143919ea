/** A real catalog, a virtual clock and a sim library on a temp directory, for library and tape tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { openCatalog } from '../../src/catalog/index.js';
import type { Catalog } from '../../src/catalog/interface.js';
import { VirtualClock } from '../../src/clock/index.js';
import { Config } from '../../src/core/config.js';
import { SimLibrary, timingFromConfig, type TapeTiming } from '../../src/library/index.js';
import type { ExtentHeader } from '../../src/media/interface.js';

export interface SimEnv {
  root: string;
  config: Config;
  catalog: Catalog;
  clock: VirtualClock;
  lib: SimLibrary;
  timing: TapeTiming;
  /** A new library on the same catalog and directory, as after a crash (the old one is dropped unclosed). */
  restart(): Promise<SimLibrary>;
  /** Simulated seconds `fn` took. */
  took(fn: () => Promise<unknown>): Promise<number>;
}

/** Small cartridges by default so that tests stay fast; `overrides` are [library] options. */
export async function simEnv(t: ExecutionContext, overrides: Record<string, string> = {}): Promise<SimEnv> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-sim-'));
  const opts: Record<string, string> = { capacity_LTO9: '256M', capacity_LTO8: '128M', cartridges: 'L[00000-00007]L9', ...overrides };
  const config = new Config({ file: null, env: {}, overrides: Object.fromEntries(Object.entries(opts).map(([k, v]) => [`library.${k}`, v])) });
  const catalog = await openCatalog(join(root, 'catalog.db'));
  const clock = new VirtualClock();
  const dir = join(root, 'library');
  const env: SimEnv = {
    root, config, catalog, clock,
    lib: await SimLibrary.open({ config, catalog, clock, dir }),
    timing: timingFromConfig(config),
    async restart() {
      env.lib = await SimLibrary.open({ config, catalog, clock, dir });
      return env.lib;
    },
    async took(fn) {
      const t0 = clock.now();
      await fn();
      return (clock.now() - t0) / 1000;
    },
  };
  t.teardown(async () => {
    clock.stop();
    await catalog.close();
    await rm(root, { recursive: true, force: true });
  });
  return env;
}

/** Simulated durations are sums of floating-point seconds: equal to a nanosecond. */
export function near(t: ExecutionContext, actual: number, expected: number, what = ''): void {
  t.true(Math.abs(actual - expected) < 1e-9, `${what} took ${actual} s, expected ${expected} s`);
}

export function header(oid: string, size: number, extra: Partial<ExtentHeader> = {}): Omit<ExtentHeader, 'checksums'> {
  return {
    oid, uuid: `uuid-${oid}`, version: 1, copyName: 'source', layout: { name: 'raid1', params: {} },
    layoutIndex: 0, splitIndex: 0, offset: 0, length: size, size, ...extra,
  };
}

/** A buffer of recognisable pseudo-random bytes. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export async function* chunks(b: Buffer, size = 1 << 20): AsyncIterable<Buffer> {
  for (let p = 0; p < b.length; p += size) yield b.subarray(p, Math.min(p + size, b.length));
}
