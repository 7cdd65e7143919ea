import type { Checksums, LayoutDesc } from '../../catalog/interface.js';
import { DeimosError } from '../../core/errors.js';
import type { WriteSlot } from '../../scheduler/interface.js';
import { createHasher } from '../checksum.js';
import { Channel, rechunk, runPipeline } from '../pipe.js';
import type { ExtentResult, PlannedHeader, SplitScheme } from '../split.js';
import type { LayoutContext, WriteObjectArgs } from '../types.js';
import { xorBlocks } from './xor.js';

const EMPTY = Buffer.alloc(0);

/** Sizes of the two data halves of a split: the second is one byte shorter when the length is odd. */
export function halves(length: number): [number, number] {
  const h0 = Math.ceil(length / 2);
  return [h0, length - h0];
}

/** raid4: extents 0 and 1 hold the two halves of each split, extent 2 their XOR. */
export function raid4Scheme(layout: LayoutDesc): SplitScheme {
  return {
    layout: { name: 'raid4', params: { ...layout.params } },
    count: 3,
    perMedium: (length) => halves(length)[0],
    coverable: (room) => 2 * room,
    extentSize: (index, length) => halves(length)[index === 1 ? 1 : 0],
    write: writeStripes,
  };
}

/**
 * Reads both halves of the split side by side, block by block, and streams
 * each block to its medium while its parity block goes to the third, so
 * nothing larger than a few blocks is ever held in memory.
 */
async function writeStripes(ctx: LayoutContext, slots: WriteSlot[], headers: PlannedHeader[], args: WriteObjectArgs): Promise<ExtentResult[]> {
  const { offset } = headers[0]!;
  const h0 = headers[0]!.size;
  const h1 = headers[1]!.size;
  const hashers = await Promise.all(slots.map(() => createHasher(ctx.checksums)));
  let sums: Checksums[] | null = null;
  const sumOf = (i: number): Checksums => {
    if (!sums) throw new DeimosError('EIO', 'raid4 extent finished before its checksum was known', 'this is a bug: report it');
    return sums[i]!;
  };
  // Parity blocks are ours: reuse each once its writer is done with it.
  const spare: Buffer[] = [];
  const channels = slots.map((_, i) => new Channel<Buffer>(2, i === 2 ? (b) => spare.push(b) : undefined));
  const consumers = slots.map((slot, i) =>
    slot.io.writeExtent(headers[i]!, channels[i]!, () => sumOf(i))
      .then((written) => ({ written, checksums: sumOf(i) }))
      .finally(() => channels[i]!.close()));
  const producer = async (): Promise<void> => {
    const first = rechunk(args.source.read(offset, h0), ctx.blockSize);
    const second = rechunk(args.source.read(offset + h0, h1), ctx.blockSize);
    try {
      for (;;) {
        const [a, b] = await Promise.all([first.next(), second.next()]);
        if (a.done) {
          if (!b.done) throw shortSource();
          break;
        }
        const bb = b.done ? EMPTY : b.value;
        if (bb.length > a.value.length) throw shortSource();
        const parity = xorBlocks(a.value, bb, a.value.length, spare.pop());
        hashers[0]!.update(a.value);
        hashers[1]!.update(bb);
        hashers[2]!.update(parity);
        await Promise.all([channels[0]!.push(a.value), bb.length > 0 ? channels[1]!.push(bb) : null, channels[2]!.push(parity)]);
      }
      sums = hashers.map((h) => h.digest());
    } finally {
      await Promise.allSettled([first.return(undefined), second.return(undefined)]);
    }
  };
  return runPipeline(channels, producer, consumers);
}

function shortSource(): DeimosError {
  return new DeimosError('EIO', 'the source returned fewer bytes than its size', 'do not modify a file during its put; retry');
}
