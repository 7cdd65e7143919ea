import { randomBytes } from 'node:crypto';
import type { Checksums, CommittedExtent, ExtentRow, LayoutDesc, NewExtent } from '../catalog/interface.js';
import { DeimosError } from '../core/errors.js';
import type { ExtentHeader, WrittenExtent } from '../media/interface.js';
import type { WriteGrant, WriteSlot } from '../scheduler/interface.js';
import type { LayoutContext, WriteObjectArgs, WrittenObject } from './types.js';

export type PlannedHeader = Omit<ExtentHeader, 'checksums'>;

export interface ExtentResult {
  written: WrittenExtent;
  checksums: Checksums;
}

/** What a layout tells the split driver; the driver does allocation, pending records and completion. */
export interface SplitScheme {
  layout: LayoutDesc;
  /** Media per split, all distinct. */
  count: number;
  /** Bytes each medium must hold for a split of `length` object bytes. */
  perMedium(length: number): number;
  /** Object bytes one split may cover when every medium offers `room`. */
  coverable(room: number): number;
  /** Payload bytes of extent `index` in a split of `length` object bytes. */
  extentSize(index: number, length: number): number;
  /** Writes one split; results in slot order. */
  write(ctx: LayoutContext, slots: WriteSlot[], headers: PlannedHeader[], args: WriteObjectArgs): Promise<ExtentResult[]>;
}

/**
 * Writes an object as a sequence of splits. Each round asks the scheduler
 * for `count` media; when the smallest room granted is less than what is
 * left, the split covers what fits on all of them and the next round asks
 * again for the rest. An empty object still gets one (empty) split.
 */
export async function writeSplits(ctx: LayoutContext, args: WriteObjectArgs, scheme: SplitScheme): Promise<WrittenObject> {
  const size = args.source.size;
  const attempt = randomBytes(4).toString('hex');
  const committed: CommittedExtent[] = [];
  let offset = 0;
  let splitIndex = 0;
  do {
    const remaining = size - offset;
    const grant = await ctx.scheduler.allocWrite({
      family: args.family,
      tags: args.tags,
      count: scheme.count,
      size: scheme.perMedium(remaining),
      grouping: args.grouping,
      batch: args.batch,
    });
    const length = await withGrant(grant, async () => {
      checkSlots(grant.slots, scheme.count, args.family);
      const room = Math.min(...grant.slots.map((s) => s.room));
      const length = Math.min(remaining, scheme.coverable(room));
      if (length <= 0 && remaining > 0) {
        throw new DeimosError('ENOSPC', `no room left on media ${grant.slots.map((s) => s.io.name).join(', ')}`, 'add or unlock media of this family');
      }
      const headers = grant.slots.map((_, i): PlannedHeader => ({
        ...args.header,
        attempt,
        layout: scheme.layout,
        layoutIndex: i,
        splitIndex,
        offset,
        length,
        size: scheme.extentSize(i, length),
      }));
      const rows = await args.onPending(headers.map((h, i) => pendingExtent(h, grant.slots[i]!, args)));
      const results = await scheme.write(ctx, grant.slots, headers, args);
      results.forEach((r, i) => {
        const row = findRow(rows, grant.slots[i]!.io.name, headers[i]!);
        if (r.written.address !== row.address) {
          throw new DeimosError('EIO', `medium ${row.medium} wrote extent at ${r.written.address}, recorded as ${row.address}`, 'this is a bug: report it');
        }
        committed.push({ id: row.id, position: r.written.position, size: r.written.size, checksums: r.checksums });
      });
      return { value: length, bytes: results.map((r) => r.written.size) };
    });
    offset += length;
    splitIndex++;
  } while (offset < size);
  return { extents: committed, layout: scheme.layout };
}

/** Completes the grant either way; the put is acknowledged only once completion (the sync) resolves. */
async function withGrant<T>(grant: WriteGrant, body: () => Promise<{ value: T; bytes: number[] }>): Promise<T> {
  let out: { value: T; bytes: number[] };
  try {
    out = await body();
  } catch (error) {
    await grant.complete({ ok: false, error }).catch(() => undefined);
    throw error;
  }
  await grant.complete({ ok: true, bytes: out.bytes });
  return out.value;
}

function checkSlots(slots: WriteSlot[], count: number, family: string): void {
  const names = new Set(slots.map((s) => s.io.name));
  if (slots.length !== count || names.size !== count) {
    throw new DeimosError('EIO', `scheduler granted ${slots.length} slot(s) on ${names.size} distinct ${family} media, layout needs ${count}`, 'this is a bug: report it');
  }
}

function pendingExtent(h: PlannedHeader, slot: WriteSlot, args: WriteObjectArgs): NewExtent {
  return {
    uuid: h.uuid,
    version: h.version,
    copyName: h.copyName,
    layoutIndex: h.layoutIndex,
    splitIndex: h.splitIndex,
    family: args.family,
    medium: slot.io.name,
    address: slot.io.addressFor(h),
    position: 0,
    size: h.size,
    offset: h.offset,
    length: h.length,
    checksums: {},
  };
}

function findRow(rows: ExtentRow[], medium: string, h: PlannedHeader): ExtentRow {
  const row = rows.find((r) => r.medium === medium && r.layoutIndex === h.layoutIndex && r.splitIndex === h.splitIndex);
  if (!row) throw new DeimosError('EIO', `the catalog returned no pending extent for ${medium} index ${h.layoutIndex} split ${h.splitIndex}`, 'this is a bug: report it');
  return row;
}
