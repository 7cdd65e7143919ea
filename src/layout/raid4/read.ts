import type { ExtentRow } from '../../catalog/interface.js';
import { DeimosError } from '../../core/errors.js';
import type { ReadGrant } from '../../scheduler/interface.js';
import { rechunk } from '../pipe.js';
import type { BadExtent, LayoutContext, ObjectSink } from '../types.js';
import { badOf, candidateOf, problemOf, refusalOf, readVerified, sinkCause, sinkWrite, verifierFor, type ExtentProblem } from '../verify.js';
import { halves } from './write.js';
import { xorBlocks } from './xor.js';

const EMPTY = Buffer.alloc(0);

export interface SplitOutcome {
  ok: boolean;
  reconstructed: boolean;
}

/**
 * Reads one raid4 split: both data halves when they verify (parity is not
 * read), else the lost half is rebuilt from the other half and the parity.
 */
export async function readRaid4Split(ctx: LayoutContext, rows: ExtentRow[], sink: ObjectSink, bad: BadExtent[], batch?: string): Promise<SplitOutcome> {
  const { offset, length } = rows[0]!;
  const [h0] = halves(length);
  const byIndex = [0, 1, 2].map((i) => rows.find((r) => r.layoutIndex === i));
  const base = (i: number): number => offset + (i === 1 ? h0 : 0);

  const lost: number[] = [];
  await Promise.all([0, 1].map(async (i) => {
    const row = byIndex[i];
    const problem = row ? await readOne(ctx, row, sink, base(i), batch) : null;
    if (!row) bad.push(noRow(rows[0]!, i));
    else if (problem) bad.push(badOf(row, problem));
    if (!row || problem) lost.push(i);
  }));
  if (lost.length === 0) return { ok: true, reconstructed: false };
  if (lost.length === 2) return { ok: false, reconstructed: false };

  const k = lost[0]!;
  const good = byIndex[1 - k]!;
  const parity = byIndex[2];
  if (!parity) {
    bad.push(noRow(rows[0]!, 2));
    return { ok: false, reconstructed: false };
  }
  const failed = await rebuild(ctx, { good, parity, lost: byIndex[k] ?? null, length, k }, sink, base(k), batch);
  if (failed) {
    bad.push(badOf(failed.row, failed.problem));
    return { ok: false, reconstructed: false };
  }
  return { ok: true, reconstructed: true };
}

async function readOne(ctx: LayoutContext, row: ExtentRow, sink: ObjectSink, at: number, batch?: string): Promise<ExtentProblem | null> {
  let grant: ReadGrant;
  try {
    grant = await ctx.scheduler.read({ candidates: [candidateOf(row)], batch });
  } catch (e) {
    return refusalOf(e);
  }
  let problem: ExtentProblem | null;
  try {
    problem = await readVerified(grant.io, row, sink, at, ctx.blockSize);
  } catch (error) {
    grant.release({ ok: false, error });
    throw error;
  }
  grant.release(problem ? { ok: false, error: problem.error } : { ok: true, bytes: row.size });
  return problem;
}

interface RebuildPlan {
  good: ExtentRow;
  parity: ExtentRow;
  /** The catalog row of the lost half, to verify the rebuilt bytes against its checksums. */
  lost: ExtentRow | null;
  length: number;
  /** Index (0 or 1) of the lost half. */
  k: number;
}

/**
 * Streams parity and the surviving half side by side and writes their XOR
 * where the lost half belongs. Holds both media at once (two drives for
 * tape), as the blocks must be combined in step. Returns the extent that
 * made rebuilding impossible, or null on success.
 */
async function rebuild(ctx: LayoutContext, plan: RebuildPlan, sink: ObjectSink, at: number, batch?: string): Promise<{ row: ExtentRow; problem: ExtentProblem } | null> {
  const want = halves(plan.length)[plan.k]!;
  const grants: ReadGrant[] = [];
  let outcome: { row: ExtentRow; problem: ExtentProblem } | null = null;
  try {
    for (const row of [plan.parity, plan.good]) {
      try {
        grants.push(await ctx.scheduler.read({ candidates: [candidateOf(row)], batch }));
      } catch (e) {
        return (outcome = { row, problem: refusalOf(e) });
      }
    }
    const [vp, vg] = await Promise.all([verifierFor(plan.parity), verifierFor(plan.good)]);
    const vk = plan.lost ? await verifierFor(plan.lost) : null;
    const p = tagged(rechunk(grants[0]!.io.readExtent(plan.parity.address), ctx.blockSize), plan.parity);
    const g = tagged(rechunk(grants[1]!.io.readExtent(plan.good.address), ctx.blockSize), plan.good);
    let gotP = 0;
    let gotG = 0;
    let pos = 0;
    try {
      for (;;) {
        const [pb, gb] = await Promise.all([p.next(), g.next()]);
        if (pb.done) {
          if (!gb.done) return (outcome = { row: plan.parity, problem: short(plan.parity) });
          break;
        }
        const pv = pb.value;
        const gv = gb.done ? EMPTY : gb.value;
        vp.hasher.update(pv);
        vg.hasher.update(gv);
        gotP += pv.length;
        gotG += gv.length;
        if (gv.length > pv.length) return (outcome = { row: plan.parity, problem: short(plan.parity) });
        const out = xorBlocks(pv, gv, Math.max(0, Math.min(pv.length, want - pos)));
        if (out.length === 0) continue;
        vk?.hasher.update(out);
        await sinkWrite(sink, out, at + pos);
        pos += out.length;
      }
    } catch (e) {
      const cause = sinkCause(e);
      if (cause !== undefined) throw cause;
      if (e instanceof TaggedFailure) return (outcome = { row: e.row, problem: problemOf(e.error) });
      throw e;
    } finally {
      await Promise.allSettled([p.return(undefined), g.return(undefined)]);
    }
    const pp = vp.check(gotP);
    if (pp) return (outcome = { row: plan.parity, problem: pp });
    const pg = vg.check(gotG);
    if (pg) return (outcome = { row: plan.good, problem: pg });
    const pk = vk?.check(pos) ?? null;
    if (pk) {
      // Parity and survivor verified, yet the result does not: the three extents do not belong together.
      return (outcome = { row: plan.lost!, problem: { reason: 'corrupt', error: new DeimosError('EBADMSG', `rebuilt extent ${plan.lost!.id} does not match its checksum`) } });
    }
    return null;
  } finally {
    grants.forEach((gr, i) => {
      const failedHere = outcome && outcome.row === (i === 0 ? plan.parity : plan.good);
      gr.release(failedHere ? { ok: false, error: outcome!.problem.error } : { ok: true, bytes: i === 0 ? plan.parity.size : plan.good.size });
    });
  }
}

class TaggedFailure extends Error {
  constructor(readonly row: ExtentRow, readonly error: unknown) {
    super('extent read failed');
  }
}

/** Marks a stream's errors with the extent they came from, since two streams are read at once. */
async function* tagged(src: AsyncGenerator<Buffer>, row: ExtentRow): AsyncGenerator<Buffer> {
  try {
    yield* src;
  } catch (e) {
    throw new TaggedFailure(row, e);
  }
}

function short(row: ExtentRow): ExtentProblem {
  return { reason: 'corrupt', error: new DeimosError('EBADMSG', `extent ${row.id} (medium ${row.medium}, ${row.address}) has the wrong size`) };
}

function noRow(sample: ExtentRow, index: number): BadExtent {
  return { extentId: -1, medium: '', address: '', reason: 'missing', detail: `the catalog has no extent ${index} for split ${sample.splitIndex}` };
}
