import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeimosError } from '../core/errors.js';
import type { ExtentHeader } from './interface.js';

/**
 * The on-disk form of a simulated cartridge, after LTFS: each extent is a
 * data file named by its file uid, and `index.json` says which files exist
 * and where each starts on the tape. Only what an index names is reachable:
 * files written after the last index (a crash between write and sync) are
 * discarded when the cartridge is opened again, as LTFS would not see them.
 */

export const INDEX_FILE = 'index.json';
const FORMAT = 'deimos-ltfs/1';

export interface IndexedExtent {
  address: string;
  /** Names the data file; never reused on a cartridge until it is formatted. */
  uid: number;
  /** Start position in bytes from the beginning of tape. */
  position: number;
  size: number;
  /** So that the catalog can be rebuilt from the cartridge alone. */
  header: ExtentHeader;
}

export interface LtfsIndex {
  format: typeof FORMAT;
  label: string;
  /** Incremented at each index write, as LTFS generations. */
  generation: number;
  /** End of data: bytes of deleted or failed extents stay counted until a format. */
  eod: number;
  nextUid: number;
  extents: IndexedExtent[];
}

export function emptyIndex(label: string, generation = 0): LtfsIndex {
  return { format: FORMAT, label, generation, eod: 0, nextUid: 1, extents: [] };
}

/** The address of an extent on tape: deterministic, so a pending extent can be recorded before its bytes are written. */
export function tapeAddress(h: Pick<ExtentHeader, 'uuid' | 'version' | 'copyName' | 'layoutIndex' | 'splitIndex'>): string {
  return `${h.uuid}.${h.version}.${h.copyName}.${h.layoutIndex}.${h.splitIndex}`;
}

export function dataFile(dir: string, uid: number): string {
  return join(dir, String(uid));
}

/** The cartridge's last written index, or null for a blank (never formatted) cartridge. */
export async function readIndex(dir: string, label: string): Promise<LtfsIndex | null> {
  let text: string;
  try {
    text = await readFile(join(dir, INDEX_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let idx: LtfsIndex;
  try {
    idx = JSON.parse(text) as LtfsIndex;
  } catch {
    throw damaged(label, 'it is not valid JSON');
  }
  if (idx.format !== FORMAT || !Array.isArray(idx.extents) || typeof idx.eod !== 'number') {
    throw damaged(label, `its format is not ${FORMAT}`);
  }
  if (idx.label !== label) throw damaged(label, `it belongs to cartridge ${idx.label}`);
  return idx;
}

/** Writes the index so that a crash leaves either the old one or the new one, never a torn file. */
export async function writeIndex(dir: string, idx: LtfsIndex): Promise<void> {
  const tmp = join(dir, `${INDEX_FILE}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(idx));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, INDEX_FILE));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Removes data files the index does not name (unsynced writes, deleted extents; all of them for null). */
export async function discardUnindexed(dir: string, idx: LtfsIndex | null): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const keep = new Set((idx?.extents ?? []).map((x) => String(x.uid)));
  keep.add(INDEX_FILE);
  let n = 0;
  for (const name of names) {
    if (keep.has(name)) continue;
    await rm(join(dir, name), { force: true, recursive: true });
    n++;
  }
  return n;
}

function damaged(label: string, why: string): DeimosError {
  return new DeimosError('EIO', `cannot read the index of cartridge ${label}: ${why}`, 'the cartridge needs a format (its data is lost) or a manual repair of index.json');
}
