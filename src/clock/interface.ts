/**
 * All durations of the library and scheduler go through a Clock, so the same
 * code runs on a virtual discrete-event clock (tests, replay benchmarks) and
 * on a scaled real clock (mounts, demos).
 */
export interface Clock {
  /** Simulated milliseconds since the clock's epoch. */
  now(): number;
  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Simulated time as seconds, for reports. */
  seconds(): number;
  /** Drops pending sleeps (their promises never settle) so a closing service leaves no timer behind. */
  stop?(): void;
}
