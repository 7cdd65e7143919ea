/** The [cache] options, read and checked once. */
import { join } from 'node:path';
import { DeimosError, deimosHome, homePaths, parseSize, type Config } from '../core/index.js';
import { parseKeyValues, parseTags, type PutTarget } from '../store/index.js';

export interface CacheOptions {
  dir: string;
  sizeBytes: number;
  /** Eviction starts above this many bytes and stops at `lowBytes`. */
  highBytes: number;
  lowBytes: number;
  flushAgeMs: number;
  /** No flush of a file sooner than this after its last change, unless forced. */
  flushDelayMs: number;
  /** The flusher's I/O waits at most this long for files open through the mount (ForegroundGate). */
  flushYieldMs: number;
  flushNb: number;
  flushBytes: number;
  /** Where flushed files go (family, layout, tags of the copy added to their version). */
  target: PutTarget;
  /** First retry delay of a failed flush; doubled at each failure up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Flush puts running at once (WritebackPolicy.maxPuts). */
  maxPuts: number;
}

export interface CacheTuning {
  /** Overrides cache.dir (a service passes its home's cache directory). */
  dir?: string;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  maxPuts?: number;
}

export function cacheOptions(config: Config, tuning: CacheTuning = {}): CacheOptions {
  const sizeBytes = config.size('cache', 'size');
  const high = config.num('cache', 'high_watermark');
  const low = config.num('cache', 'low_watermark');
  if (!(low >= 0 && low <= high && high <= 100)) {
    throw new DeimosError('EINVAL', `cache watermarks low=${low} high=${high} are invalid`,
      'set 0 ≤ cache.low_watermark ≤ cache.high_watermark ≤ 100 (percent of cache.size)');
  }
  const flushNb = config.num('cache', 'flush_nb');
  const flushAgeMs = config.num('cache', 'flush_age_ms');
  if (!Number.isInteger(flushNb) || flushNb < 1) throw new DeimosError('EINVAL', `cache.flush_nb = ${flushNb} is invalid`, 'give a count ≥ 1');
  if (!(flushAgeMs >= 0)) throw new DeimosError('EINVAL', `cache.flush_age_ms = ${flushAgeMs} is invalid`, 'give milliseconds ≥ 0');
  const flushDelayMs = config.num('cache', 'flush_delay_ms');
  if (!(flushDelayMs >= 0)) throw new DeimosError('EINVAL', `cache.flush_delay_ms = ${flushDelayMs} is invalid`, 'give milliseconds ≥ 0');
  const flushYieldMs = config.num('cache', 'flush_yield_ms');
  if (!(flushYieldMs >= 0)) throw new DeimosError('EINVAL', `cache.flush_yield_ms = ${flushYieldMs} is invalid`, 'give milliseconds ≥ 0');
  const lytParams = parseKeyValues(config.str('cache', 'lyt_params'), 'layout parameter');
  return {
    dir: tuning.dir ?? (config.str('cache', 'dir') || homePaths(deimosHome()).cache),
    sizeBytes,
    highBytes: Math.floor(sizeBytes * high / 100),
    lowBytes: Math.floor(sizeBytes * low / 100),
    flushAgeMs,
    flushDelayMs,
    flushYieldMs,
    flushNb,
    flushBytes: config.size('cache', 'flush_bytes'),
    target: {
      family: config.str('cache', 'family'),
      layout: config.str('cache', 'layout'),
      lytParams,
      tags: parseTags(config.str('cache', 'tags')),
    },
    backoffBaseMs: tuning.backoffBaseMs ?? 1_000,
    backoffMaxMs: tuning.backoffMaxMs ?? 300_000,
    maxPuts: tuning.maxPuts ?? 64,
  };
}

/** Joined here so that the naming rule lives in one place. */
export function cachePath(opts: Pick<CacheOptions, 'dir'>, file: string): string {
  return join(opts.dir, file);
}
