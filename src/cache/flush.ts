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
import { commitSize } from './handle.js';
import type { PutOutcome } from './writeback.js';

const CHANGED = Symbol('changed during its flush');

export async function flushEntry(c: Ctx, id: number): Promise<PutOutcome> {
  const e = c.byId.get(id);
  if (!e || e.state !== 'dirty') return 'done';
  // What is flushed is what a close would have made durable.
  await commitSize(c, e);
  const row = await versionRow(c, e);
  if (!row) {
    await forget(c, e, 'its version was removed');
    return 'done';
  }
  if (e.state !== 'dirty') return 'done';
  const gen = e.gen;
  if (row.size !== e.size || e.inflight > 0 || e.unsynced) return 'changed';
  e.to('flushing');
  let release: (() => void) | null = null;
  try {
    await c.catalog.upsertCacheEntries([entryRow(c, e)]);
    const source = await c.dir.source(e.file, row.size, c.store.blockSizeBytes);
    c.events.emit('flush-start', e.key);
    try {
      await c.store.putCopyFromSource(row, c.opts.target, source, {
        beforeCommit: () => {
          if (e.gen !== gen || e.inflight > 0 || c.byId.get(e.id) !== e) throw CHANGED;
          e.committing = new Promise<void>((r) => { release = r; });
        },
      });
    } finally {
      await source.close();
    }
    e.to('clean');
    e.dirtySince = null;
    c.counters.flushes++;
    await c.catalog.upsertCacheEntries([entryRow(c, e)])
      .catch((err) => c.log.warn({ err, key: e.key }, 'flushed, but the cache entry still says flushing: recover will see the copy'));
    c.events.emit('flushed', e.key);
    c.cleaner.poke();
    return 'done';
  } catch (err) {
    if ((e.state as CacheState) === 'flushing') e.to('dirty');
    if (err === CHANGED) {
      c.events.emit('flush-cancelled', e.key);
      await saveState(c, e);
      return 'changed';
    }
    if (err instanceof DeimosError && err.code === 'ENOENT' && !(await versionRow(c, e).catch(() => null))) {
      await forget(c, e, 'its version was removed during the flush');
      return 'done';
    }
    await saveState(c, e);
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
