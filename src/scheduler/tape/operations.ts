import type { Catalog, MediumPatch } from '../../catalog/interface.js';
import type { Clock } from '../../clock/interface.js';
import { DeimosError, toDeimosError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Library } from '../../library/interface.js';
import type { WriteSlot } from '../interface.js';
import type { Action } from './dispatch.js';
import type { ReadJob } from './readQueues.js';
import { settle } from './syncGroups.js';
import type { DriveSlot, FormatJob, TapeState, WriteJob } from './state.js';

/**
 * The operations the decision step starts. Each marks its drive(s) busy
 * before its first await (so the next decision pass sees it), and kicks
 * the scheduler when the drive is free again.
 */
export interface OpsContext {
  state: TapeState;
  library: Library;
  catalog: Catalog;
  clock: Clock;
  log?: Logger;
  kick(): void;
}

export function start(ctx: OpsContext, a: Action): void {
  switch (a.kind) {
    case 'read': grantRead(ctx, a.drive, a.jobId); break;
    case 'write': grantWrite(ctx, a.job, a.drives); break;
    case 'sync': void syncDrive(ctx, a.drive); break;
    case 'format': void formatDrive(ctx, a.drive, a.job); break;
    case 'switch': void switchDrive(ctx, a.drive, a.to, a.use); break;
  }
}

/**
 * Queues a read on its mounted candidates if any (no mount needed), else on
 * every candidate: the first cartridge mounted serves it and it leaves the
 * others.
 */
export function placeRead(s: TapeState, job: ReadJob, nowMs: number): void {
  const mounted = job.candidates.filter((c) => s.isMounted(c.medium));
  s.reads.enqueue(job, mounted.length > 0 ? mounted : job.candidates, nowMs);
}

function free(ctx: OpsContext, d: DriveSlot): void {
  const now = ctx.clock.now();
  d.busy = false;
  d.use = null;
  d.lastUsedMs = now;
  d.activity.set(d.failed ? 'failed' : 'idle', now);
}

function grantRead(ctx: OpsContext, d: DriveSlot, jobId: number): void {
  const s = ctx.state;
  const job = s.reads.take(jobId)!;
  const cand = job.candidates.find((c) => c.medium === d.loaded)!;
  const now = ctx.clock.now();
  const locateS = ctx.library.locateSeconds(cand.medium, ctx.library.drive(d.name).position, cand.position);
  d.busy = true;
  d.use = 'read';
  d.locateS = locateS;
  d.activity.set('locating', now);
  s.counters.locate_s += locateS;
  s.counters.waits.add((now - job.arrivalMs) / 1e3);
  let released = false;
  job.resolve({
    io: d.io!,
    candidate: cand,
    release: (outcome) => {
      if (released) return;
      released = true;
      d.activity.settle('locating', locateS, 'reading', ctx.clock.now(), 'idle');
      if (outcome.ok) {
        s.counters.reads++;
        s.counters.bytes_read += outcome.bytes;
      } else {
        s.counters.read_errors++;
        ctx.log?.warn({ err: outcome.error, medium: cand.medium, address: cand.address }, 'tape read failed');
      }
      free(ctx, d);
      ctx.kick();
    },
  });
}

function grantWrite(ctx: OpsContext, job: WriteJob, drives: DriveSlot[]): void {
  const s = ctx.state;
  const now = ctx.clock.now();
  for (const [i, m] of job.media.entries()) {
    s.writers.get(m)!.shift();
    const d = drives[i]!;
    d.busy = true;
    d.use = 'write';
    d.activity.set('writing', now);
  }
  s.counters.waits.add((now - job.arrivalMs) / 1e3);
  const slots: WriteSlot[] = job.media.map((m, i) => {
    const c = ctx.library.cartridge(m);
    return { io: drives[i]!.io!, room: Math.max(0, c.capacity - c.eod) };
  });
  const reserved = slots.map((x) => Math.min(x.room, job.req.size));
  job.media.forEach((m, i) => s.inflight.set(m, (s.inflight.get(m) ?? 0) + reserved[i]!));
  let done: Promise<void> | null = null;
  job.resolve({
    slots,
    complete: (outcome) => {
      if (done) return done;
      const t = ctx.clock.now();
      const waits: Promise<void>[] = [];
      const patches: Promise<void>[] = [];
      job.media.forEach((m, i) => {
        const left = (s.inflight.get(m) ?? 0) - reserved[i]!;
        if (left > 0) s.inflight.set(m, left);
        else s.inflight.delete(m);
        free(ctx, drives[i]!);
        const c = ctx.library.cartridge(m);
        if (outcome.ok) {
          const bytes = outcome.bytes[i] ?? 0;
          s.counters.writes++;
          s.counters.bytes_written += bytes;
          s.lastGrouping.set(m, job.req.grouping ?? null);
          waits.push(s.syncs.add(m, bytes, t, job.req.batch));
          if (c.capacity - c.eod <= 0) patches.push(patchMedium(ctx, m, { fsStatus: 'full' }));
          else if (s.media.get(m)?.fsStatus === 'empty') patches.push(patchMedium(ctx, m, { fsStatus: 'used' }));
        } else if (toDeimosError(outcome.error).code === 'ENOSPC') {
          patches.push(patchMedium(ctx, m, { fsStatus: 'full' }));
        }
      });
      ctx.kick();
      done = Promise.all([...patches, ...waits]).then(() => undefined);
      return done;
    },
  });
}

/** Updates a cartridge's catalog row and the scheduler's copy at once, so the next choice sees it. */
async function patchMedium(ctx: OpsContext, label: string, patch: MediumPatch): Promise<void> {
  const row = ctx.state.media.get(label);
  if (row) Object.assign(row, patch);
  try {
    ctx.state.media.set(label, await ctx.catalog.updateMedium('tape', label, patch));
  } catch (e) {
    ctx.log?.warn({ err: e, medium: label, patch }, 'cannot update cartridge in the catalog');
  }
}

async function syncHeld(ctx: OpsContext, d: DriveSlot, label: string): Promise<void> {
  const g = ctx.state.syncs.take(label);
  if (g === undefined) return;
  d.activity.set('syncing', ctx.clock.now());
  try {
    await d.io!.sync();
    ctx.state.counters.syncs++;
    settle(g);
  } catch (e) {
    ctx.log?.error({ err: e, medium: label }, 'sync failed: the writes it covered are not acknowledged');
    settle(g, e);
  }
}

async function syncDrive(ctx: OpsContext, d: DriveSlot): Promise<void> {
  d.busy = true;
  d.use = 'write';
  try {
    await syncHeld(ctx, d, d.loaded!);
  } finally {
    free(ctx, d);
    ctx.kick();
  }
}

async function formatDrive(ctx: OpsContext, d: DriveSlot, job: FormatJob): Promise<void> {
  const s = ctx.state;
  s.formats.splice(s.formats.indexOf(job), 1);
  d.busy = true;
  d.use = 'format';
  d.activity.set('formatting', ctx.clock.now());
  try {
    await ctx.library.format(d.name);
    s.counters.formats++;
    await patchMedium(ctx, job.label, { fsStatus: 'empty' });
    job.resolve();
  } catch (e) {
    job.reject(e);
  } finally {
    free(ctx, d);
    ctx.kick();
  }
}

export async function switchDrive(ctx: OpsContext, d: DriveSlot, to: string | null, use: DriveSlot['use']): Promise<void> {
  const s = ctx.state;
  d.busy = true;
  d.use = use;
  const old = d.loaded;
  // Reserved from now on: no other drive may take it while this one unloads.
  if (to !== null) s.inTransit.add(to);
  d.incoming = to;
  try {
    if (old !== null) {
      s.inTransit.add(old);
      try {
        await syncHeld(ctx, d, old);
        d.activity.set('unloading', ctx.clock.now());
        await ctx.library.unload(d.name);
        s.counters.unmounts++;
      } catch (e) {
        // A cartridge that cannot leave its drive takes the drive with it.
        d.failed = true;
        ctx.log?.error({ err: e, drive: d.name, medium: old }, 'unload failed: drive and cartridge are out of service');
        dropMedium(ctx, old, e);
        if (to !== null) s.inTransit.delete(to);
        return;
      } finally {
        s.inTransit.delete(old);
      }
      d.loaded = null;
      d.io = null;
      s.reads.dropIfEmpty(old);
    }
    if (to !== null) await load(ctx, d, to);
  } finally {
    d.incoming = null;
    free(ctx, d);
    ctx.kick();
  }
}

async function load(ctx: OpsContext, d: DriveSlot, label: string): Promise<void> {
  const s = ctx.state;
  d.loaded = label;
  s.inTransit.add(label);
  d.activity.set('loading', ctx.clock.now());
  try {
    await ctx.library.load(d.name, label);
    s.counters.mounts++;
    s.loadFailedOn.delete(label);
    d.mountedAtMs = ctx.clock.now();
    d.io = ctx.library.open(d.name);
  } catch (e) {
    s.counters.load_errors++;
    const now = ctx.library.drive(d.name);
    d.loaded = now.loaded;
    d.io = now.loaded !== null ? ctx.library.open(d.name) : null;
    ctx.log?.warn({ err: e, drive: d.name, medium: label }, 'load failed');
    if (now.failed) d.failed = true;
    const tried = s.loadFailedOn.get(label) ?? new Set<string>();
    tried.add(d.name);
    s.loadFailedOn.set(label, tried);
    // The drive or the cartridge? Another drive tells: the cartridge is given
    // up (its requests go to their other candidates) once it failed in two
    // drives, or in every drive there is.
    const others = s.drives.some((x) => x.usable && !tried.has(x.name));
    if (ctx.library.cartridge(label).failed || tried.size >= 2 || !others) {
      s.loadFailedOn.delete(label);
      dropMedium(ctx, label, e);
    }
  } finally {
    s.inTransit.delete(label);
  }
}

/**
 * A cartridge failed: reads queued on it go to their other candidates or
 * fail; writes assigned to it choose media again without it; formats fail.
 */
export function dropMedium(ctx: OpsContext, label: string, error: unknown): void {
  const s = ctx.state;
  const err = new DeimosError('EIO', `cartridge ${label} is unusable: ${toDeimosError(error).message}`, 'another copy is tried when there is one', { cause: error });
  const q = s.reads.queue(label);
  for (const { job } of q ? [...q.entries.values()] : []) {
    s.reads.take(job.id);
    job.candidates = job.candidates.filter((c) => c.medium !== label);
    if (job.candidates.length > 0) placeRead(s, job, ctx.clock.now());
    else job.reject(err);
  }
  s.reads.dropIfEmpty(label);
  for (const job of s.writersOf(label)) {
    for (const m of job.media) {
      const list = s.writers.get(m);
      if (list) list.splice(list.indexOf(job), 1);
    }
    job.media = [];
    job.exclude.add(label);
    s.unassigned.push(job);
  }
  s.unassigned.sort((a, b) => a.id - b.id);
  s.writers.delete(label);
  for (const f of s.formats.filter((x) => x.label === label)) {
    s.formats.splice(s.formats.indexOf(f), 1);
    f.reject(err);
  }
}
