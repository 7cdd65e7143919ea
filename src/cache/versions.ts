/**
 * How files written through the mount become object versions: a created file
 * is a version at once (size 0, no copy), and writing to a version that is
 * already archived makes the next one. The cache file is named after its
 * version before the catalog learns of it, so a crash in between leaves an
 * unclaimed file (removed by recover), never a version pointing nowhere.
 */
import type { ObjectRow, PosixAttrs } from '../catalog/index.js';
import { DeimosError } from '../core/index.js';
import { CacheDir } from './cacheDir.js';
import { addEntry, newEntry, rekey, versionRow, type Ctx } from './context.js';
import type { Entry } from './entry.js';

/**
 * Called on a new entry before the flusher can see it: the caller's writer
 * must hold it, or an empty file would be flushed (and archived) before its
 * first write.
 */
export type Claim = (e: Entry) => void;

/** A new object at `oid`, where nothing is alive: an empty file and a dirty version 1, and its catalog row. */
export async function createObject(c: Ctx, oid: string, attrs: PosixAttrs, claim: Claim): Promise<{ e: Entry; row: ObjectRow }> {
  // Kept open as the entry's descriptor: a small file costs one open, not two.
  const { uuid, file, fh } = await c.dir.createNew();
  let row: ObjectRow;
  try {
    row = await c.catalog.createVersion({ oid, overwrite: false, attrs, expect: { uuid, version: 1 }, cache: { file }, durable: false });
  } catch (e) {
    await fh.close().catch(() => undefined);
    await c.dir.remove(file).catch(() => undefined);
    throw e;
  }
  const e = newEntry(c, { uuid, version: 1, file, state: 'dirty', size: 0, mtime: attrs.mtime });
  e.fh = fh;
  // Durable at the first close or fsync, as a file system makes a new name
  // durable at fsync: one catalog commit per small file instead of two.
  e.unsynced = true;
  e.dirUnsynced = true;
  addEntry(c, e);
  claim(e);
  c.queue.add(e.id, 0, e.dirtySinceTick);
  return { e, row };
}

/**
 * The next version of `of`'s object, alive at the same oid. With `from` (the
 * clean entry of `of`), its file becomes the new version's: renamed, so the
 * bytes are not copied and `of` keeps them on its copies; without it the new
 * version starts empty (open with O_TRUNC). The caller holds `of`'s key lock
 * when it passes `from`.
 */
export async function nextVersion(c: Ctx, of: { uuid: string; version: number }, from: Entry | null, claim?: Claim): Promise<Entry> {
  const row = await versionRow(c, of);
  if (!row) throw new DeimosError('ENOENT', `object ${of.uuid} version ${of.version} was removed`, 'open the file again');
  if (row.deprecatedAt !== null) {
    throw new DeimosError('EROFS', `'${row.oid}' version ${row.version} is an old or deleted version, archived: it cannot change`,
      'write the alive version, or undelete this one first');
  }
  const top = await c.catalog.getObject({ uuid: row.uuid, mode: 'deprecated' });
  const version = (top?.version ?? row.version) + 1;
  const file = CacheDir.fileName(row.uuid, version);
  if (from) await c.dir.rename(from.file, file);
  else await c.dir.createEmpty(file);
  const now = c.wallNow();
  try {
    await c.catalog.createVersion({
      oid: row.oid, overwrite: true, userMd: row.userMd, size: from?.size ?? 0, expect: { uuid: row.uuid, version }, cache: { file }, durable: false,
      attrs: { mode: row.mode, uid: row.uid, gid: row.gid, atime: row.atime, mtime: now, ctime: now },
    });
  } catch (e) {
    if (from) await c.dir.rename(file, from.file).catch((err) => c.log.error({ err, file }, 'cannot give a cache file its name back'));
    else await c.dir.remove(file).catch(() => undefined);
    throw e;
  }
  let e: Entry;
  if (from) {
    const old = { uuid: from.uuid, version: from.version };
    rekey(c, from, { uuid: row.uuid, version, file });
    from.to('dirty');
    from.dirtySince = now;
    from.dirtySinceTick = c.timers.now();
    from.mtime = now;
    from.unsynced = true;
    from.dirUnsynced = true;
    // The old version's entry now names a file that is gone: a crash before
    // this delete leaves it for recover, which drops clean entries without a file.
    await c.catalog.deleteCacheEntries([old], { durable: false }).catch((err) => c.log.warn({ err, ...old }, 'stale cache entry left for recover'));
    e = from;
  } else {
    e = newEntry(c, { uuid: row.uuid, version, file, state: 'dirty', size: 0, mtime: now });
    e.unsynced = true;
    e.dirUnsynced = true;
    addEntry(c, e);
    claim?.(e);
  }
  c.queue.add(e.id, e.size, e.dirtySinceTick);
  c.log.debug({ oid: row.oid, uuid: row.uuid, version, renamed: Boolean(from) }, 'new version written through the cache');
  return e;
}

/** Whether `row` can be opened with O_TRUNC in place (its version was never archived). */
export function truncatesInPlace(e: Entry | undefined): e is Entry {
  return e !== undefined && (e.state === 'dirty' || e.state === 'flushing');
}
