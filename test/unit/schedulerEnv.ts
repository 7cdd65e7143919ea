/**
 * A tape scheduler over a real sim library, a real catalog and a virtual
 * clock, for the scheduler tests. Cartridges are filled through the library
 * directly (no scheduler), then the scheduler is started on them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { openCatalog } from '../../src/catalog/index.js';
import type { Catalog } from '../../src/catalog/interface.js';
import { VirtualClock } from '../../src/clock/index.js';
import { Config } from '../../src/core/config.js';
import { addLibraryDrives, SimLibrary } from '../../src/library/index.js';
import type { ExtentHeader } from '../../src/media/interface.js';
import type { ReadCandidate, ReadGrant } from '../../src/scheduler/interface.js';
import { TapeScheduler } from '../../src/scheduler/tape/index.js';

export interface SchedEnv {
  config: Config;
  catalog: Catalog;
  clock: VirtualClock;
  lib: SimLibrary;
  /** Formats `label` and writes extents of these sizes back to back; returns them as read candidates. */
  fill(label: string, sizes: number[]): Promise<ReadCandidate[]>;
  scheduler(policy: string, overrides?: Record<string, string>): TapeScheduler;
  /** Closes the library and opens it again on the same cartridges with these options (e.g. injected faults). */
  reopen(overrides: Record<string, string>): Promise<void>;
}

/** `overrides` are "section.key" options; cartridges are small so that tests stay fast. */
export async function schedEnv(t: ExecutionContext, overrides: Record<string, string> = {}): Promise<SchedEnv> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-sched-'));
  const opts: Record<string, string> = {
    'library.capacity_LTO9': '256M', 'library.capacity_LTO8': '128M', 'library.cartridges': 'L[00000-00007]L9',
    'library.drives': 'st[0-1]', 'lrs.idle_unload_s': '0', ...overrides,
  };
  const config = new Config({ file: null, env: {}, overrides: opts });
  const catalog = await openCatalog(join(root, 'catalog.db'));
  const clock = new VirtualClock();
  let lib = await SimLibrary.open({ config, catalog, clock, dir: join(root, 'library') });
  // The scheduler uses only drives an operator added (deimos drive add --unlock).
  await addLibraryDrives(catalog, lib);
  const labels = (await lib.scan()).cartridges.map((c) => c.label);
  await catalog.addMedia(labels.map((name) => ({ family: 'tape' as const, name, model: 'LTO9', admStatus: 'unlocked' as const, fsStatus: 'blank' as const })));
  const scheds: TapeScheduler[] = [];
  t.teardown(async () => {
    for (const s of scheds) await s.close();
    clock.stop();
    await catalog.close();
    await rm(root, { recursive: true, force: true });
  });
  const env: SchedEnv = {
    config, catalog, clock, lib,
    async fill(label, sizes) {
      const lib = env.lib;
      const drive = (await lib.scan()).drives[0]!.name;
      await lib.load(drive, label);
      const v = lib.open(drive);
      if (lib.cartridge(label).eod === 0) {
        await lib.format(drive);
        await catalog.updateMedium('tape', label, { fsStatus: 'empty' });
      }
      const out: ReadCandidate[] = [];
      for (const [i, size] of sizes.entries()) {
        const h = header(`${label}-${lib.cartridge(label).eod}-${i}`, size);
        const w = await v.writeExtent(h, one(Buffer.alloc(size, i & 0xff)), () => ({}));
        out.push({ family: 'tape', medium: label, address: w.address, position: w.position, size: w.size });
      }
      await v.sync();
      await catalog.updateMedium('tape', label, { fsStatus: 'used' });
      await lib.unload(drive);
      return out;
    },
    scheduler(policy, more = {}) {
      for (const [k, v] of Object.entries(more)) {
        const [s, key] = k.split('.');
        config.set(s!, key!, v);
      }
      const s = new TapeScheduler({ catalog, config, library: env.lib, policy });
      scheds.push(s);
      return s;
    },
    async reopen(more) {
      await env.lib.close();
      for (const [k, v] of Object.entries(more)) {
        const [s, key] = k.split('.');
        config.set(s!, key!, v);
      }
      lib = await SimLibrary.open({ config, catalog, clock, dir: join(root, 'library') });
      await addLibraryDrives(catalog, lib);
      env.lib = lib;
    },
  };
  return env;
}

export function header(oid: string, size: number): Omit<ExtentHeader, 'checksums'> {
  return {
    oid, uuid: `uuid-${oid}`, version: 1, copyName: 'source', layout: { name: 'raid1', params: {} },
    layoutIndex: 0, splitIndex: 0, offset: 0, length: size, size,
  };
}

export async function* one(b: Buffer): AsyncIterable<Buffer> {
  if (b.length > 0) yield b;
}

/** Reads a granted extent to the end, as a layout does, then releases the drive. */
export async function consume(g: ReadGrant): Promise<number> {
  let n = 0;
  for await (const chunk of g.io.readExtent(g.candidate.address)) n += (chunk as Buffer).length;
  g.release({ ok: true, bytes: n });
  return n;
}

/** One read through the scheduler; resolves with what was read and when it was granted. */
export async function readOne(s: TapeScheduler, clock: VirtualClock, candidates: ReadCandidate[], log?: ReadCandidate[]): Promise<{ cand: ReadCandidate; grantedMs: number }> {
  const g = await s.read({ candidates });
  const grantedMs = clock.now();
  log?.push(g.candidate);
  await consume(g);
  return { cand: g.candidate, grantedMs };
}
