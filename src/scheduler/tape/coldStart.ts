import type { TapeState } from './state.js';

/**
 * Cold start (`io_sched.cold_gather_s`, `io_sched.cold_quiet_s`): ms the
 * first read load of a cold library still waits, 0 to load now.
 *
 * Cold: no usable drive holds a cartridge or is busy (loading, unloading),
 * no cartridge is moving, the robot is idle. The first request of a burst
 * would otherwise take the robot at once, for a 10 s move, and a longer
 * job asked for a few ms later would be moved only after it: the policy
 * picks by its own value (cost: the longest job first) only among what it
 * knows. So the first load waits while the burst is still coming, as the
 * policy says (ReadPolicy.coldGatherMs: until requests pause, at most a
 * few seconds). Once a load starts the library is no longer cold, so this
 * costs at most one window per cold period: drives keep their cartridges
 * between bursts (idle_unload_s), and an empty library is rare.
 *
 * Only reads wait: writes and formats are not targets this applies to
 * (dispatch.ts), and a write's load ends the cold period for everyone.
 */
export function coldStartMs(s: TapeState, nowMs: number, robotWaitMs: number): number {
  const policy = s.policy;
  if (policy.coldGatherMs === undefined || s.draining) return 0;
  if (robotWaitMs > 0 || s.inTransit.size > 0) return 0;
  if (s.drives.some((d) => d.usable && (d.busy || d.loaded !== null || d.incoming !== null))) return 0;
  const oldest = s.reads.oldest();
  if (oldest === undefined) return 0;
  return policy.coldGatherMs(oldest.arrivalMs, nowMs, s.reads.newestMs);
}
