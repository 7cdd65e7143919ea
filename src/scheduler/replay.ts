import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalog } from '../catalog/index.js';
import { VirtualClock } from '../clock/index.js';
import { DeimosError, toDeimosError } from '../core/errors.js';
import { addLibraryDrives, modelOfLabel, SimLibrary, timingFromConfig } from '../library/index.js';
import type { MediumIO } from '../media/interface.js';
import { isPolicyName, POLICY_NAMES } from './policies/index.js';
import { lowerBound } from './replay/lowerBound.js';
import { header, populate } from './replay/populate.js';
import { scaleTrace, type Scaled, type ScaledRequest } from './replay/scale.js';
import { parseTrace, type TraceRow } from './replay/trace.js';
import { TapeScheduler } from './tape/index.js';

export { parseTrace, formatTrace, type TraceRow } from './replay/trace.js';
export { lowerBound, type Bound } from './replay/lowerBound.js';

/**
 * Replays a trace on the virtual clock through the real tape scheduler and
 * the real sim library (real cartridges in a temporary directory), once per
 * policy, and adds the `lower-bound` row (replay/lowerBound.ts).
 *
 * A request's wait is from its arrival to its data being read (a read) or
 * acknowledged after its sync (a write): what the requester waits. The
 * makespan is the last completion, from time 0 of the trace.
 */
export interface ReplayOptions {
  drives: number;
  policies: string[];
  /** Extra "section.key" options (e.g. io_sched.ageing_s). */
  overrides?: Record<string, string>;
  /** Scale divisor of bytes (default: chosen from the trace, see replay/scale.ts). */
  scale?: number;
  /** Called as each read is granted (simulated seconds), for debugging a policy. */
  onGrant?: (e: { policy: string; t: number; row: TraceRow }) => void;
}

export interface ReplayResult {
  policy: string;
  mounts: number;
  makespan_s: number;
  mean_wait_s: number;
  p99_wait_s: number;
  locate_s: number;
  requests: number;
}

export async function replayTrace(trace: string | readonly TraceRow[], opts: ReplayOptions): Promise<ReplayResult[]> {
  const rows = typeof trace === 'string' ? parseTrace(trace) : trace;
  if (!Number.isInteger(opts.drives) || opts.drives < 1) {
    throw new DeimosError('EINVAL', `drives = ${opts.drives} is invalid`, 'give 1 or more drives');
  }
  for (const p of opts.policies) {
    if (!isPolicyName(p)) throw new DeimosError('EINVAL', `unknown policy '${p}'`, `use one of ${POLICY_NAMES.join(', ')}`);
  }
  const scaled = scaleTrace(rows, { drives: opts.drives, k: opts.scale, overrides: opts.overrides });
  const out: ReplayResult[] = [];
  for (const p of opts.policies) out.push(await runPolicy(scaled, p, opts.onGrant));
  const b = lowerBound(scaled.requests, scaled.capacity, timingFromConfig(scaled.config), opts.drives);
  out.push({ policy: 'lower-bound', mounts: b.mounts, makespan_s: b.makespanS, mean_wait_s: b.meanWaitS, p99_wait_s: b.p99WaitS, locate_s: b.locateS, requests: rows.length });
  return out;
}

async function runPolicy(scaled: Scaled, policy: string, onGrant: ReplayOptions['onGrant']): Promise<ReplayResult> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-replay-'));
  const clock = new VirtualClock();
  const catalog = await openCatalog(':memory:');
  try {
    const libDir = join(root, 'library');
    const labels = [...scaled.capacity.keys()];
    const address = await populate(libDir, scaled.requests, labels);
    await catalog.addMedia(labels.map((name) => ({
      family: 'tape' as const, name, model: modelOfLabel(name) ?? scaled.config.str('library', 'cartridge_model'),
      admStatus: 'unlocked' as const, fsStatus: 'used' as const, fsType: 'ltfs',
    })));
    const lib = await SimLibrary.open({ config: scaled.config, catalog, clock, dir: libDir });
    await addLibraryDrives(catalog, lib);
    const sched = new TapeScheduler({ catalog, config: scaled.config, library: lib, clock, policy });
    const waits: number[] = [];
    let last = 0;
    const running: Promise<void>[] = [];
    for (const [i, r] of scaled.requests.entries()) {
      const ahead = r.row.arrivalS * 1000 - clock.now();
      if (ahead > 0) await clock.sleep(ahead);
      const op = r.row.op === 'read' ? readOnce(sched, r, address.get(r.key)!, () => onGrant?.({ policy, t: clock.seconds(), row: r.row })) : writeOnce(sched, r, i);
      running.push(op.then(() => {
        const t = clock.seconds();
        waits.push(t - r.row.arrivalS);
        last = Math.max(last, t);
      }));
    }
    await Promise.all(running);
    const st = sched.status();
    await sched.close();
    await lib.close();
    waits.sort((a, b) => a - b);
    return {
      policy,
      mounts: st.counters.mounts,
      makespan_s: last,
      mean_wait_s: waits.reduce((a, b) => a + b, 0) / waits.length,
      p99_wait_s: waits[Math.min(waits.length - 1, Math.ceil(0.99 * waits.length) - 1)] ?? 0,
      locate_s: st.counters.locate_s,
      requests: scaled.requests.length,
    };
  } finally {
    clock.stop();
    await catalog.close();
    await rm(root, { recursive: true, force: true });
  }
}

async function readOnce(sched: TapeScheduler, r: ScaledRequest, address: string, granted: () => void): Promise<void> {
  const g = await sched.read({ candidates: [{ family: 'tape', medium: r.row.cartridge, address, position: r.start, size: r.end - r.start }] });
  granted();
  let n = 0;
  try {
    for await (const chunk of g.io.readExtent(address)) n += (chunk as Buffer).length;
  } catch (e) {
    g.release({ ok: false, error: e });
    throw e;
  }
  g.release({ ok: true, bytes: n });
}

/** A put of the row's size wherever the scheduler grants it, split when a cartridge fills up. */
async function writeOnce(sched: TapeScheduler, r: ScaledRequest, i: number): Promise<void> {
  let left = r.end - r.start;
  const exclude: string[] = [];
  for (let split = 0; left > 0; split++) {
    const g = await sched.allocWrite({ family: 'tape', tags: [], count: 1, size: left, exclude, grouping: 'replay' });
    const slot = g.slots[0]!;
    const n = Math.min(left, slot.room);
    if (n <= 0) {
      exclude.push(slot.io.name);
      await g.complete({ ok: false, error: new DeimosError('ENOSPC', `no room on ${slot.io.name}`) });
      continue;
    }
    try {
      const w = await put(slot.io, `w${i}s${split}`, n);
      await g.complete({ ok: true, bytes: [w] });
    } catch (e) {
      await g.complete({ ok: false, error: e }).catch(() => undefined);
      throw toDeimosError(e);
    }
    left -= n;
  }
}

async function put(io: MediumIO, oid: string, n: number): Promise<number> {
  async function* data(): AsyncIterable<Buffer> { yield Buffer.alloc(n); }
  const w = await io.writeExtent(header(oid, n), data(), () => ({}));
  return w.size;
}
