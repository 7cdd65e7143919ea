/**
 * Which archived versions have their bytes in the cache: recalls bring them
 * in (whole, through a temporary file renamed when complete and fsynced),
 * eviction drops them. Both hold the version's key lock, so a recall never
 * races the removal of the file it is about to create.
 */
import type { ObjectRow } from '../catalog/index.js';
import { DeimosError } from '../core/index.js';
import { CacheDir } from './cacheDir.js';
import { addEntry, dropEntry, entryRow, newEntry, type Ctx } from './context.js';
import { keyOf, type Entry } from './entry.js';

export class Recalls {
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(private readonly c: Ctx) {}

  get running(): number {
    return this.inflight.size;
  }

  /** A recall of this version was asked for and is not over. */
  has(key: string): boolean {
    return this.inflight.has(key);
  }

  /** Brings a version into the cache; concurrent calls for one version share one recall. */
  recall(obj: ObjectRow): Promise<void> {
    const key = keyOf(obj);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.run(obj).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Resolves when every recall started so far is over. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
  }

  private async run(obj: ObjectRow): Promise<void> {
    const c = this.c;
    const key = keyOf(obj);
    if (c.entries.has(key)) return;
    if (obj.size > 0 && !(await c.cleaner.makeRoom(obj.size))) {
      throw new DeimosError('ENOSPC', `no room in the disk cache to recall '${obj.oid}' (${obj.size} bytes)`,
        'release files (user.deimos.release), wait for flushes, or raise cache.size');
    }
    await c.locks.run(key, async () => {
      if (c.entries.has(key)) return;
      const file = CacheDir.fileName(obj.uuid, obj.version);
      const e = newEntry(c, { uuid: obj.uuid, version: obj.version, file, state: 'staging', size: obj.size, mtime: obj.mtime });
      addEntry(c, e);
      let sink: Awaited<ReturnType<CacheDir['stagingFile']>> | null = null;
      try {
        await c.catalog.upsertCacheEntries([entryRow(c, e)]);
        sink = await c.dir.stagingFile(file);
        if (obj.size > 0) await c.store.read({ object: obj, sink });
        await sink.truncate(obj.size);
        await sink.commit({ fsync: true });
        sink = null;
        // The catalog learns of the clean copy first; readers see 'online' and the count together after.
        await c.catalog.upsertCacheEntries([{ ...entryRow(c, e), state: 'clean' }]);
        e.to('clean');
      } catch (err) {
        await sink?.abort();
        dropEntry(c, e);
        await c.catalog.deleteCacheEntries([obj]).catch(() => undefined);
        await c.dir.remove(file).catch(() => undefined);
        c.log.warn({ err, oid: obj.oid, version: obj.version }, 'recall failed');
        throw err;
      }
      c.counters.recalls++;
      c.events.emit('staged', key);
    });
    c.cleaner.poke();
  }
}

/** Drops a clean, unopened entry; false when it is busy (or no longer clean). */
export async function evict(c: Ctx, e: Entry): Promise<boolean> {
  if (c.locks.isLocked(e.key)) return false;
  return c.locks.run(e.key, async () => {
    if (c.byId.get(e.id) !== e || e.state !== 'clean' || e.openCount > 0 || e.committing) return false;
    dropEntry(c, e);
    await c.catalog.deleteCacheEntries([e]).catch((err) => c.log.warn({ err, key: e.key }, 'evicted entry left in the catalog for recover'));
    await c.dir.remove(e.file);
    c.counters.evictions++;
    c.events.emit('evicted', e.key);
    return true;
  });
}
