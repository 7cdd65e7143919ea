import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { DeimosError } from '../../core/errors.js';
import type { ExtentHeader } from '../../media/interface.js';
import { dataPath, discardUnindexed, emptyIndex, tapeAddress, writeIndex, type IndexedExtent } from '../../media/ltfsIndex.js';

/** Where the sim keeps a cartridge's files. */
export function cartridgeDir(libraryDir: string, label: string): string {
  return join(libraryDir, 'cartridges', label);
}

export interface SeedExtent {
  /** Start position on the tape; extents may leave gaps but not overlap. */
  position: number;
  header: ExtentHeader;
  /** The payload (header.size bytes); zeros, stored sparse, when absent. */
  data?: Buffer;
}

/**
 * Lays extents on a cartridge as a synced, formatted volume, charging no
 * time: for replays and benchmarks that start from full cartridges. Call it
 * before the library opens; it replaces whatever the cartridge held.
 * Returns the extents' addresses, in the given order.
 */
export async function seedCartridge(libraryDir: string, label: string, extents: readonly SeedExtent[]): Promise<string[]> {
  const dir = cartridgeDir(libraryDir, label);
  await mkdir(dir, { recursive: true });
  await discardUnindexed(dir, null);
  const idx = emptyIndex(label, 1);
  let end = 0;
  const fh = await open(dataPath(dir), 'w');
  try {
    for (const x of [...extents].sort((a, b) => a.position - b.position)) {
      const size = x.header.size;
      if (x.position < end || (x.data && x.data.length !== size)) {
        throw new DeimosError('EINVAL', `extent ${tapeAddress(x.header)} at ${x.position} overlaps the previous one or its data is not ${size} bytes`);
      }
      const entry: IndexedExtent = { address: tapeAddress(x.header), uid: idx.nextUid++, position: x.position, size, header: x.header };
      // Without data the extent's bytes are a hole (zeros), as long as it says.
      if (x.data) await fh.write(x.data, 0, size, x.position);
      idx.extents.push(entry);
      end = x.position + size;
    }
    await fh.truncate(end);
  } finally {
    await fh.close();
  }
  idx.eod = end;
  await writeIndex(dir, idx);
  return extents.map((x) => tapeAddress(x.header));
}
