/** The disk cache box: the FileCache contract and the DiskCache that implements it. */
import { DiskCache, type CacheDeps } from './diskCache.js';

export type { CacheHandle, CacheState, CacheStats, FileCache, FileState } from './interface.js';
export { DiskCache, type CacheDeps } from './diskCache.js';
export { cacheOptions, type CacheOptions, type CacheTuning } from './options.js';
export type { RecoverReport } from './recover.js';
export { WritebackQueue, type PutOutcome, type WritebackPolicy } from './writeback.js';
export { pickVictims } from './cleaner.js';

/**
 * The disk cache of a service. Call `recover()` once before serving (it
 * loads what a previous run left) and `shutdown()` at the end.
 */
export function createCache(deps: CacheDeps): DiskCache {
  return new DiskCache(deps);
}
