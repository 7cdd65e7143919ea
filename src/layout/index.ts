import { DeimosError } from '../core/errors.js';
import { raid1Scheme } from './raid1.js';
import { raid4Scheme } from './raid4/write.js';
import { writeSplits } from './split.js';
import type { LayoutContext, WriteObjectArgs, WrittenObject } from './types.js';

export type {
  LayoutContext, ObjectSource, ObjectSink, ObjectIdent, WriteObjectArgs, WrittenObject, ReadObjectArgs, ReadReport, BadExtent, BadReason,
} from './types.js';
export { readObject } from './read.js';
export { createHasher, checksumMismatch, CHECKSUM_ALGOS, type StreamHasher } from './checksum.js';
export { raid1Layout } from './raid1.js';
export { xorBlocks } from './raid4/xor.js';

/**
 * Writes one copy of an object: allocation, pending records, bytes and
 * checksums, sync. Resolves once every extent is durable; on failure the
 * grants are completed as failed and the error is rethrown for the store
 * to abort the put (its pending extents become orphans).
 */
export async function writeObject(ctx: LayoutContext, args: WriteObjectArgs): Promise<WrittenObject> {
  // Every extent carries a checksum, whatever the configuration says.
  const c: LayoutContext = ctx.checksums.length > 0 ? ctx : { ...ctx, checksums: ['xxh128'] };
  switch (args.layout.name) {
    case 'raid1': return writeSplits(c, args, raid1Scheme(args.layout));
    case 'raid4': return writeSplits(c, args, raid4Scheme(args.layout));
    default:
      throw new DeimosError('EINVAL', `unknown layout '${String(args.layout.name)}'`, 'use raid1 or raid4');
  }
}
