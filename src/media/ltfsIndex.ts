import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DeimosError } from '../core/errors.js';
import type { ExtentHeader } from './interface.js';

/**
 * The on-disk form of a simulated cartridge, after LTFS: `data` holds the
 * bytes at their position from the beginning of tape (sparse where nothing
 * was written), and `index.json` says which extents exist and where each
 * starts. Only what an index names is reachable: bytes written after the
 * last index (a crash between write and sync) are cut off when the
 * cartridge is opened again, as LTFS would not see them. One file, as the
 * tape is one medium: a file per extent cost a file creation per small file
 * flushed (on this disk's ext4 without a journal, a search past every inode
 * deleted lately) and a datasync each, where a drive syncs once per group.
 */

export const INDEX_FILE = 'index.json';
export const DATA_FILE = 'data';
const FORMAT = 'deimos-ltfs/2';

export interface IndexedExtent {
  address: string;
  /** LTFS's file uid: never reused on a cartridge until it is formatted. */
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

export function dataPath(dir: string): string {
  return join(dir, DATA_FILE);
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

/**
 * Makes the directory hold what `idx` says and nothing more: the data cut to
 * the index's end of data (unsynced writes), every other file removed
 * (a torn index write, the per-extent files of format 1). For null (a blank
 * cartridge, or one being formatted) everything goes. Returns whether
 * anything was dropped.
 */
export async function discardUnindexed(dir: string, idx: LtfsIndex | null): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  let dropped = false;
  for (const name of names) {
    if (idx !== null && (name === INDEX_FILE || name === DATA_FILE)) continue;
    await rm(join(dir, name), { force: true, recursive: true });
    dropped = true;
  }
  if (idx !== null) {
    const size = await stat(dataPath(dir)).then((st) => st.size, () => null);
    if (size === null || size > idx.eod) {
      const fh = await open(dataPath(dir), size === null ? 'w' : 'r+');
      try {
        await fh.truncate(idx.eod);
      } finally {
        await fh.close();
      }
      dropped ||= size !== null;
    }
  }
  return dropped;
}

function damaged(label: string, why: string): DeimosError {
  return new DeimosError('EIO', `cannot read the index of cartridge ${label}: ${why}`, 'the cartridge needs a format (its data is lost) or a manual repair of index.json');
}
