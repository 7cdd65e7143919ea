import type { Catalog, Family } from '../catalog/interface.js';
import type { Clock } from '../clock/interface.js';
import type { Config } from '../core/config.js';
import { DeimosError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Library } from '../library/interface.js';
import type { MediumIO } from '../media/interface.js';
import { DirPool } from './dirPool.js';
import { SavedCounters } from './savedCounters.js';
import type { IoScheduler, ReadGrant, ReadRequest, SchedulerCounters, SchedulerStatus, WriteAllocRequest, WriteGrant } from './interface.js';
import { TapeScheduler } from './tape/index.js';
import type { ShareSetting, TapeSchedulerStatus } from './tape/index.js';

export * from './interface.js';
export { DirPool } from './dirPool.js';
export { TapeScheduler, type TapeSchedulerStatus } from './tape/index.js';
export { POLICY_NAMES, createPolicy, isPolicyName, type PolicyName, type ReadPolicy } from './policies/index.js';

export interface SchedulerDeps {
  catalog: Catalog;
  config: Config;
  /** Without a library, tape requests fail with ENODEV (dir-only setups, tests). */
  library?: Library;
  clock?: Clock;
  log?: Logger;
}

/** The IoScheduler plus the tape-only request that has no layout behind it. */
export interface Scheduler extends IoScheduler {
  /** Formats a blank cartridge (Phobos `tape format`); resolves when it takes writes. */
  format(label: string): Promise<void>;
  /** An operator's load (a label) or unload (null) of a drive. */
  switchByHand(drive: string, to: string | null): Promise<void>;
  /** Shows (null) or changes a model's drive shares (Phobos `sched fair_share`). */
  setFairShare(set: ShareSetting | null): Promise<{ model: string; type: string; min: number; max: number | null }[]>;
  status(): SchedulerStatus & Partial<Pick<TapeSchedulerStatus, 'waiting' | 'extra'>>;
  /** Resolves once the counters saved by earlier runs are restored: status() shows totals from then on. */
  opened(): Promise<void>;
}

/**
 * Routes each request by family: directories to DirPool (no drives, no
 * queues), cartridges to the TapeScheduler. A read with replicas on both
 * goes to a directory first — no mount — and to the cartridges if no
 * directory can serve it.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const dir = new DirPool({ catalog: deps.catalog, fsync: deps.config.bool('store', 'fsync'), log: deps.log?.child({ part: 'dir' }) });
  const tape = deps.library
    ? new TapeScheduler({ catalog: deps.catalog, config: deps.config, library: deps.library, clock: deps.clock, log: deps.log?.child({ part: 'tape' }) })
    : null;
  // Totals since the store was created, not since this process started.
  const saved = new SavedCounters(deps.catalog, { dir: dir.counterPart(), ...(tape ? { tape: tape.counterPart() } : {}) },
    deps.config.num('io_sched', 'counters_save_s') * 1000, deps.log?.child({ part: 'counters' }));
  const needTape = (): TapeScheduler => {
    if (tape === null) throw new DeimosError('ENODEV', 'no tape library is configured', 'start the service with a library (library.driver = sim)');
    return tape;
  };
  return {
    allocWrite(req: WriteAllocRequest): Promise<WriteGrant> {
      return req.family === 'dir' ? dir.allocWrite(req) : needTapeAsync(needTape).then((t) => t.allocWrite(req));
    },
    async read(req: ReadRequest): Promise<ReadGrant> {
      const dirs = req.candidates.filter((c) => c.family === 'dir');
      const tapes = req.candidates.filter((c) => c.family === 'tape');
      if (dirs.length > 0) {
        try {
          return await dir.read({ ...req, candidates: dirs });
        } catch (e) {
          if (tapes.length === 0) throw e;
        }
      }
      return needTape().read({ ...req, candidates: tapes });
    },
    async openForDelete(family: Family, medium: string): Promise<MediumIO | null> {
      return family === 'dir' ? dir.openForDelete(family, medium) : null;
    },
    format: (label) => needTapeAsync(needTape).then((t) => t.format(label)),
    setFairShare: (set) => needTapeAsync(needTape).then((t) => t.setFairShare(set)),
    switchByHand: (drive, to) => needTapeAsync(needTape).then((t) => t.switchByHand(drive, to)),
    status: () => mergeStatus(dir.status(), tape?.status() ?? null),
    async drain() {
      await Promise.all([dir.drain(), tape?.drain()]);
    },
    opened: () => saved.loaded,
    async close() {
      try {
        await Promise.all([dir.close(), tape?.close()]);
      } finally {
        await saved.close();
      }
    },
  };
}

async function needTapeAsync(get: () => TapeScheduler): Promise<TapeScheduler> {
  return get();
}

function mergeStatus(dir: SchedulerStatus, tape: TapeSchedulerStatus | null): Scheduler extends { status(): infer R } ? R : never {
  if (tape === null) return dir;
  const sum = (k: keyof SchedulerCounters): number => dir.counters[k] + tape.counters[k];
  return {
    drives: tape.drives,
    queues: [...dir.queues, ...tape.queues],
    // Directory reads wait for nothing: the percentiles are the tape's.
    counters: {
      mounts: sum('mounts'), unmounts: sum('unmounts'), syncs: sum('syncs'), locate_s: sum('locate_s'),
      bytes_read: sum('bytes_read'), bytes_written: sum('bytes_written'), reads: sum('reads'), writes: sum('writes'),
      wait_p50_s: tape.counters.wait_p50_s, wait_p99_s: tape.counters.wait_p99_s,
    },
    waiting: tape.waiting,
    extra: tape.extra,
  };
}
