import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExtentHeader } from '../../media/interface.js';
import { dataPath, emptyIndex, writeIndex, type IndexedExtent } from '../../media/ltfsIndex.js';
import type { ScaledRequest } from './scale.js';

/**
 * Lays the trace's extents on the sim's cartridges before the library
 * opens them, without charging any time: each cartridge directory gets an
 * LTFS index naming one extent per distinct (position, size) read in the
 * trace, and a sparse data file for each (the bytes are zeros; only timing
 * matters here). Cartridges that are only written to get an empty index.
 *
 * TODO(library): this writes the sim's on-disk format (media/ltfsIndex.ts)
 * from outside; a SimLibrary hook to pre-populate a cartridge would keep
 * that format private.
 */
export async function populate(libDir: string, reqs: readonly ScaledRequest[], labels: Iterable<string>): Promise<Map<string, string>> {
  const address = new Map<string, string>();
  const perCart = new Map<string, Map<string, ScaledRequest>>();
  for (const l of labels) perCart.set(l, new Map());
  for (const r of reqs) if (r.row.op === 'read') perCart.get(r.row.cartridge)!.set(r.key, r);
  for (const [label, extents] of perCart) {
    const dir = join(libDir, 'cartridges', label);
    await mkdir(dir, { recursive: true });
    const idx = emptyIndex(label, 1);
    for (const r of [...extents.values()].sort((a, b) => a.start - b.start)) {
      const uid = idx.nextUid++;
      const size = r.end - r.start;
      const h = header(`${label}/${r.start}`, size);
      const x: IndexedExtent = { address: `${h.uuid}.1.source.0.0`, uid, position: r.start, size, header: { ...h, checksums: {} } };
      idx.extents.push(x);
      idx.eod = Math.max(idx.eod, r.end);
      address.set(r.key, x.address);
    }
    // The extents' bytes: a hole of zeros up to the end of data.
    const fh = await open(dataPath(dir), 'w');
    try {
      await fh.truncate(idx.eod);
    } finally {
      await fh.close();
    }
    await writeIndex(dir, idx);
  }
  return address;
}

export function header(oid: string, size: number): Omit<ExtentHeader, 'checksums'> {
  return {
    oid, uuid: oid.replace(/[^A-Za-z0-9]/g, '_'), version: 1, copyName: 'source', layout: { name: 'raid1', params: {} },
    layoutIndex: 0, splitIndex: 0, offset: 0, length: size, size,
  };
}
