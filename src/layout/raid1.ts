import type { Checksums, ExtentRow, LayoutDesc } from '../catalog/interface.js';
import { DeimosError } from '../core/errors.js';
import type { WriteSlot } from '../scheduler/interface.js';
import { createHasher } from './checksum.js';
import { Channel, runPipeline } from './pipe.js';
import type { ExtentResult, PlannedHeader, SplitScheme } from './split.js';
import type { LayoutContext, ObjectSink, WriteObjectArgs, BadExtent } from './types.js';
import { badOf, candidateOf, readVerified, refusalOf } from './verify.js';

/** raid1 with its parameters checked and filled in. */
export function raid1Layout(layout: LayoutDesc): { layout: LayoutDesc; replicas: number } {
  const text = layout.params.repl_count ?? '1';
  const replicas = Number(text);
  if (!/^\d+$/.test(text) || replicas < 1 || replicas > 16) {
    throw new DeimosError('EINVAL', `invalid raid1 repl_count '${text}'`, 'use --lyt-params repl_count=N with N from 1 to 16');
  }
  return { layout: { name: 'raid1', params: { ...layout.params, repl_count: String(replicas) } }, replicas };
}

export function raid1Scheme(layout: LayoutDesc): SplitScheme {
  const { layout: full, replicas } = raid1Layout(layout);
  return {
    layout: full,
    count: replicas,
    perMedium: (length) => length,
    coverable: (room) => room,
    extentSize: (_index, length) => length,
    write: writeReplicas,
  };
}

/** Reads the source once, hashes it once, and writes every replica at the same time. */
async function writeReplicas(ctx: LayoutContext, slots: WriteSlot[], headers: PlannedHeader[], args: WriteObjectArgs): Promise<ExtentResult[]> {
  const { offset, length } = headers[0]!;
  const file = args.source.file;
  if (file !== undefined && offset === 0 && length === args.source.size && slots.every((s) => s.io.copyExtent)) {
    return copyReplicas(ctx, slots, headers, file);
  }
  const hasher = await createHasher(ctx.checksums);
  let sums: Checksums | null = null;
  // A chunk goes back to the source once every replica's writer is done with it.
  const holders = new Map<Buffer, number>();
  const released = (chunk: Buffer): void => {
    const n = (holders.get(chunk) ?? 1) - 1;
    if (n > 0) holders.set(chunk, n);
    else if (holders.delete(chunk)) args.source.recycle?.(chunk);
  };
  const channels = slots.map(() => new Channel<Buffer>(2, released));
  const finish = (): Checksums => {
    if (!sums) throw new DeimosError('EIO', 'replica finished before its checksum was known', 'this is a bug: report it');
    return sums;
  };
  const consumers = slots.map((slot, i) =>
    slot.io.writeExtent(headers[i]!, channels[i]!, finish)
      .then((written) => ({ written, checksums: finish() }))
      .finally(() => channels[i]!.close()));
  const producer = async (): Promise<void> => {
    for await (const chunk of args.source.read(offset, length)) {
      if (chunk.length === 0) continue;
      hasher.update(chunk);
      holders.set(chunk, channels.length);
      await Promise.all(channels.map((c) => c.push(chunk)));
    }
    // Known before the channels end, so each writer's finish() can put it in its trailer.
    sums = hasher.digest();
  };
  return runPipeline(channels, producer, consumers);
}

/**
 * The whole source is one split and every medium can copy a file inside
 * the kernel: each replica is a kernel copy, hashed as stored. Replicas
 * that disagree mean the source changed during the put.
 */
async function copyReplicas(ctx: LayoutContext, slots: WriteSlot[], headers: PlannedHeader[], file: string): Promise<ExtentResult[]> {
  const settled = await Promise.allSettled(slots.map(async (slot, i): Promise<ExtentResult> => {
    const hasher = await createHasher(ctx.checksums);
    let sums: Checksums | null = null;
    const written = await slot.io.copyExtent!(headers[i]!, file, (b) => hasher.update(b), () => (sums = hasher.digest()));
    return { written, checksums: sums! };
  }));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const results = settled.map((s) => (s as PromiseFulfilledResult<ExtentResult>).value);
  const first = JSON.stringify(results[0]!.checksums);
  if (results.some((r) => JSON.stringify(r.checksums) !== first)) {
    throw new DeimosError('EIO', `the replicas of '${headers[0]!.oid}' differ: its source changed while it was stored`, 'do not modify a file during its put; retry');
  }
  return results;
}

/**
 * Reads one split from any replica: the scheduler picks among all of them;
 * a replica that fails or does not verify is reported and the others are
 * tried, each overwriting the same range of the sink.
 */
export async function readRaid1Split(ctx: LayoutContext, rows: ExtentRow[], sink: ObjectSink, bad: BadExtent[], batch?: string): Promise<boolean> {
  let left = [...rows];
  while (left.length > 0) {
    let grant;
    try {
      grant = await ctx.scheduler.read({ candidates: left.map(candidateOf), batch });
    } catch (e) {
      for (const r of left) bad.push(badOf(r, refusalOf(e)));
      return false;
    }
    const row = left.find((r) => r.medium === grant.candidate.medium && r.address === grant.candidate.address) ?? left[0]!;
    let problem;
    try {
      problem = await readVerified(grant.io, row, sink, row.offset, ctx.blockSize, true);
    } catch (error) {
      grant.release({ ok: false, error });
      throw error;
    }
    grant.release(problem ? { ok: false, error: problem.error } : { ok: true, bytes: row.size });
    if (!problem) return true;
    bad.push({ extentId: row.id, medium: row.medium, address: row.address, reason: problem.reason, detail: problem.error.message });
    left = left.filter((r) => r !== row);
  }
  return false;
}
