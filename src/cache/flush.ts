/**
 * One flush: the cache file of a dirty version becomes that version's first
 * copy (cache.family/layout/tags), through the store like any copy. The
 * write-back queue decides when and puts a whole group at once.
 *
 * The copy is recorded only if the file did not change while it was being
 * written: the check and the catalog commit run in one tick (Store's
 * beforeCommit), and writers that come after wait for the commit and then
 * find the entry clean, so they make the next version.
 */
import { DeimosError } from '../core/index.js';
import { dropEntry, entryRow, versionRow, type Ctx } from './context.js';
import type { Entry } from './entry.js';
import type { CacheState } from './interface.js';
import { absorbDirect, commitSize } from './handle.js';
import type { PutOutcome } from './writeback.js';

const CHANGED = Symbol('changed during its flush');

/**
 * Marks the dirty entries of a group flushing, in one catalog transaction
 * (one commit per group, not per file: small files flush several times
 * faster).
 */
export async function startGroup(c: Ctx, ids: number[]): Promise<void> {
  const group = ids.map((id) => c.byId.get(id)).filter((e): e is Entry => e !== undefined && e.state === 'dirty');
  for (const e of group) e.to('flushing');
  await saveStates(c, group);
}

/** Records where the entries of a finished group ended: clean, dirty again, or dirty still (a put the stop kept from starting). */
export async function endGroup(c: Ctx, ids: number[]): Promise<void> {
  const entries = ids.map((id) => c.byId.get(id)).filter((e): e is Entry => e !== undefined);
  for (const e of entries) if (e.state === 'flushing') e.to('dirty');
  await saveStates(c, entries);
}

async function saveStates(c: Ctx, entries: Entry[]): Promise<void> {
  if (entries.length === 0) return;
  try {
    await c.catalog.upsertCacheEntries(entries.map((e) => entryRow(c, e)));
  } catch {
    // One version removed meanwhile fails the batch: record the others one by one.
    for (const e of entries) await saveState(c, e);
  }
}

/**
 * Puts one entry's version; `batch` names its group, whose puts go to the
 * same media. Unless `forced`, its I/O waits for files open by users
 * (ForegroundGate).
 */
export async function flushEntry(c: Ctx, id: number, batch: string, forced = false): Promise<PutOutcome> {
  const e = c.byId.get(id);
  if (!e || (e.state !== 'dirty' && e.state !== 'flushing')) return 'done';
  if (e.state === 'dirty') e.to('flushing');
  let row = await versionRow(c, e);
  if (!row) {
    await forget(c, e, 'its version was removed');
    return 'done';
  }
  // What is flushed is durable in the cache first: closes commit lazily and
  // leave the bytes to the kernel, but once the copy is recorded the entry is
  // clean and served as is after a power loss, so its bytes and the catalog
  // must be on disk before. A catalog that lags the file with no change
  // pending (a commit failed) is fixed too.
  if (!forced) await c.foreground.idle();
  absorbDirect(e);
  if (row.size !== e.size && e.inflight === 0) e.unsynced = true;
  const changed = e.unsynced;
  await commitSize(c, e, { durable: true });
  if (changed) {
    row = await versionRow(c, e);
    if (!row) {
      await forget(c, e, 'its version was removed');
      return 'done';
    }
  }
  const gen = e.gen;
  let release: (() => void) | null = null;
  try {
    if (row.size !== e.size || e.inflight > 0 || e.unsynced) throw CHANGED;
    const source = await c.dir.source(e.file, row.size, c.store.blockSizeBytes, forced ? undefined : () => c.foreground.idle());
    c.events.emit('flush-start', e.key);
    try {
      await c.store.putCopyFromSource(row, { ...c.opts.target, batch }, source, {
        beforeCommit: () => {
          // Direct writes (an open file forced to flush) end here: after the commit the entry is clean.
          absorbDirect(e, 'stop');
          if (e.gen !== gen || e.inflight > 0 || c.byId.get(e.id) !== e) throw CHANGED;
          e.committing = new Promise<void>((r) => { release = r; });
        },
      });
    } finally {
      await source.close();
    }
    // Recorded clean with the rest of the group (endGroup); a crash before
    // that finds the copy at recover.
    e.to('clean');
    e.dirtySince = null;
    c.counters.flushes++;
    c.events.emit('flushed', e.key);
    c.cleaner.poke();
    return 'done';
  } catch (err) {
    if ((e.state as CacheState) === 'flushing') e.to('dirty');
    if (err === CHANGED) {
      c.events.emit('flush-cancelled', e.key);
      return 'changed';
    }
    if (err instanceof DeimosError && err.code === 'ENOENT' && !(await versionRow(c, e).catch(() => null))) {
      await forget(c, e, 'its version was removed during the flush');
      return 'done';
    }
    throw err;
  } finally {
    e.committing = null;
    (release as (() => void) | null)?.();
  }
}

async function saveState(c: Ctx, e: Entry): Promise<void> {
  if (c.byId.get(e.id) !== e) return;
  await c.catalog.upsertCacheEntries([entryRow(c, e)]).catch((err) => c.log.warn({ err, key: e.key }, 'cannot record the cache entry state'));
}

/** A dirty file whose version is gone (hard delete) has nobody to flush for. */
async function forget(c: Ctx, e: Entry, why: string): Promise<void> {
  c.log.info({ key: e.key, why }, 'dropping a dirty cache file');
  dropEntry(c, e);
  if (e.openCount === 0) await c.dir.remove(e.file).catch(() => undefined);
}
