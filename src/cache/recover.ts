/**
 * Start-up: the cache's state rebuilt from the catalog's entries and the
 * files in the cache directory, nothing else (JuiceFS's scanStaging, with
 * the catalog as the index):
 * - temporary files (interrupted recalls) and staging entries are dropped;
 * - a clean entry stays if its file is whole, else it is dropped;
 * - a dirty or flushing entry whose version already has a copy was flushed
 *   just before the crash: it is clean;
 * - any other dirty or flushing entry is dirty again, its size the file's
 *   (written in place, the file is the truth), and is queued for a flush at
 *   once; if its file is missing it is reported (an empty one is remade:
 *   nothing was lost);
 * - files no entry claims are removed.
 * Then spare files are made for the creates to come (SpareFiles).
 */
import type { CacheEntryRow } from '../catalog/index.js';
import { addEntry, newEntry, type Ctx } from './context.js';
import { keyOf } from './entry.js';

/** Empty files kept ready for creates (SpareFiles): a burst of small files is ~1 per ms. */
const SPARE_FILES = 64;

export interface RecoverReport {
  /** Dirty versions found and queued for flushing. */
  dirty: number;
  /** Entries dropped: interrupted recalls, clean files damaged or missing. */
  dropped: number;
  /** Oids of dirty versions whose cache file is gone (their bytes are lost). */
  missing: string[];
}

export async function recover(c: Ctx): Promise<RecoverReport> {
  await c.dir.init();
  const { files, leftovers } = await c.dir.scan();
  for (const f of leftovers) await c.dir.remove(f);
  const report: RecoverReport = { dirty: 0, dropped: 0, missing: [] };
  const claimed = new Set([...c.entries.values()].map((e) => e.file));
  const drop = async (r: CacheEntryRow): Promise<void> => {
    await c.catalog.deleteCacheEntries([r]);
    if (files.has(r.file)) await c.dir.remove(r.file);
    files.delete(r.file);
    report.dropped++;
  };
  for (const r of await c.catalog.listCacheEntries()) {
    if (c.entries.has(keyOf(r))) {
      claimed.add(r.file);
      continue;
    }
    const onDisk = files.get(r.file);
    if (r.state === 'staging') {
      await drop(r);
      continue;
    }
    let state = r.state;
    if (state !== 'clean') {
      const copies = await c.catalog.listCopies(r.uuid, r.version);
      if (copies.some((x) => x.status === 'complete')) state = 'clean';
    }
    if (state === 'clean') {
      if (onDisk !== r.size) {
        await drop(r);
        continue;
      }
      const e = newEntry(c, { uuid: r.uuid, version: r.version, file: r.file, state: 'clean', size: r.size });
      e.lastAccess = r.lastAccess;
      addEntry(c, e);
      claimed.add(r.file);
      if (r.state !== 'clean') await c.catalog.upsertCacheEntries([{ ...e.row(), lastAccess: r.lastAccess }]);
      continue;
    }
    let size = onDisk;
    if (size === undefined) {
      if (r.size > 0) {
        c.log.error({ oid: r.oid, uuid: r.uuid, version: r.version, file: r.file }, 'the cache file of a dirty version is missing: its bytes are lost');
        report.missing.push(r.oid);
        await c.catalog.deleteCacheEntries([r]);
        continue;
      }
      await c.dir.createEmpty(r.file);
      size = 0;
    }
    const now = c.wallNow();
    if (size !== r.size) await c.catalog.setObjectSize(r.uuid, r.version, size, now);
    const e = newEntry(c, { uuid: r.uuid, version: r.version, file: r.file, state: 'dirty', size });
    e.dirtySince = r.dirtySince ?? now;
    e.lastAccess = r.lastAccess;
    addEntry(c, e);
    claimed.add(r.file);
    if (r.state !== 'dirty' || size !== r.size) await c.catalog.upsertCacheEntries([e.row()]);
    // Dirty since before the crash: due now rather than after another flush_age_ms.
    c.queue.add(e.id, size, c.timers.now() - c.opts.flushAgeMs);
    report.dirty++;
  }
  // Spares a crash left are among them (SpareFiles).
  for (const name of files.keys()) {
    if (!claimed.has(name)) await c.dir.remove(name);
  }
  c.dir.keepSpares(SPARE_FILES);
  if (report.dirty || report.dropped || report.missing.length) c.log.info(report, 'disk cache recovered');
  return report;
}
