import type { Config } from '../core/config.js';
import type { Clock } from './interface.js';
import { RealClock } from './real.js';
import { VirtualClock } from './virtual.js';

export type { Clock } from './interface.js';
export { RealClock } from './real.js';
export { VirtualClock, type VirtualClockOptions } from './virtual.js';

/** A clock its owner can stop at shutdown, so no sleeper keeps the process alive. */
export type StoppableClock = Clock & { stop(): void };

/**
 * The clock of a service or test: virtual when asked for, or when
 * library.time_scale is 0 (simulated durations take no wall time at all);
 * otherwise real time scaled by library.time_scale.
 */
export function createClock(config: Config, opts: { virtual?: boolean } = {}): StoppableClock {
  const scale = config.num('library', 'time_scale');
  if (opts.virtual || scale === 0) return new VirtualClock();
  return new RealClock(scale);
}
