/**
 * statfs (df): capacity and free space of the library, from the catalog's
 * media. Block counts are 32-bit in some statfs paths, so the fragment size
 * grows (powers of two from 4 KiB) until the total fits in 32 bits.
 */
import type { Catalog } from '../catalog/index.js';
import { BLKSIZE, type StatFs } from './types.js';

const FILES_FREE = 1_000_000_000;

export async function libraryStatFs(catalog: Catalog): Promise<StatFs> {
  let total = 0;
  let free = 0;
  for (const m of await catalog.listMedia()) {
    if (m.admStatus === 'failed') continue;
    total += m.sizeTotal;
    if (m.admStatus === 'unlocked' && m.putAccess) free += m.sizeFree;
  }
  let frsize = 4096;
  while (total / frsize >= 2 ** 32) frsize *= 2;
  const files = await catalog.countObjects('alive');
  return {
    bsize: BLKSIZE,
    frsize,
    blocks: Math.floor(total / frsize),
    bfree: Math.floor(free / frsize),
    bavail: Math.floor(free / frsize),
    files: files + FILES_FREE,
    ffree: FILES_FREE,
    favail: FILES_FREE,
    namemax: 255,
  };
}
