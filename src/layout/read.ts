import type { ExtentRow } from '../catalog/interface.js';
import { DeimosError, fromJSON } from '../core/errors.js';
import { raid1Layout, readRaid1Split } from './raid1.js';
import { readRaid4Split } from './raid4/read.js';
import type { BadExtent, LayoutContext, ReadObjectArgs, ReadReport } from './types.js';

/**
 * Reads one copy split by split, in object order. Each split is verified
 * before the next starts; the first split that cannot be rebuilt ends the
 * read with EIO naming every extent found bad so far.
 */
export async function readObject(ctx: LayoutContext, args: ReadObjectArgs): Promise<ReadReport> {
  const splits = splitsOf(args.extents, args.size);
  const bad: BadExtent[] = [];
  let reconstructed = false;
  if (args.layout.name === 'raid1') raid1Layout(args.layout);
  else if (args.layout.name !== 'raid4') throw new DeimosError('EINVAL', `unknown layout '${String(args.layout.name)}'`, 'use raid1 or raid4');
  for (const rows of splits) {
    let ok: boolean;
    if (args.layout.name === 'raid1') {
      ok = await readRaid1Split(ctx, rows, args.sink, bad, args.batch);
    } else {
      const out = await readRaid4Split(ctx, rows, args.sink, bad, args.batch);
      ok = out.ok;
      reconstructed ||= out.reconstructed;
    }
    if (!ok) throw unrecoverable(rows, bad);
  }
  return { bad, reconstructed };
}

/** Groups extents by split and checks the splits cover the object exactly once, in order. */
function splitsOf(extents: ExtentRow[], size: number): ExtentRow[][] {
  const bySplit = new Map<number, ExtentRow[]>();
  for (const e of extents) {
    const list = bySplit.get(e.splitIndex) ?? [];
    list.push(e);
    bySplit.set(e.splitIndex, list);
  }
  const splits = [...bySplit.values()]
    .map((rows) => rows.sort((a, b) => a.layoutIndex - b.layoutIndex))
    .sort((a, b) => a[0]!.offset - b[0]!.offset);
  let covered = 0;
  for (const rows of splits) {
    const { offset, length, splitIndex } = rows[0]!;
    if (offset !== covered || rows.some((r) => r.offset !== offset || r.length !== length)) {
      throw new DeimosError('EIO', `extents of split ${splitIndex} cover bytes ${offset}..${offset + length}, expected to start at ${covered}`, 'the catalog is inconsistent: check it with deimos extent list');
    }
    covered += length;
  }
  if (covered !== size) {
    const what = extents[0] ? `copy '${extents[0].copyName}' of ${extents[0].uuid}` : 'the copy';
    throw new DeimosError('EIO', `extents of ${what} cover ${covered} of ${size} bytes`, 'the catalog is missing extents; read another copy');
  }
  return splits;
}

function unrecoverable(rows: ExtentRow[], bad: BadExtent[]): DeimosError {
  const sample = rows[0]!;
  // Every extent of this split that failed was refused for want of a
  // usable drive (or of an unlocked medium): nothing is known damaged, and
  // the scheduler's line says what to add or unlock. Its errno is the get's.
  const ids = new Set(rows.map((r) => r.id));
  const refusals = bad.filter((b) => ids.has(b.extentId)).map((b) => b.refusal);
  if (refusals.length > 0 && bad.every((b) => b.extentId >= 0) && refusals.every((r) => r?.code === 'ENODEV')) return fromJSON(refusals[0]!);
  const list = bad.map((b) => b.extentId >= 0 ? `extent ${b.extentId} on ${b.medium} at ${b.address} ${b.reason}` : `${b.detail} (missing)`);
  return new DeimosError('EIO',
    `object ${sample.uuid} version ${sample.version} copy '${sample.copyName}' cannot be rebuilt: split ${sample.splitIndex} has too many extents lost (${list.join('; ')})`,
    'read another copy (deimos copy list), or check the media holding these extents');
}
