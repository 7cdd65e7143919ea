import type { DriveActivity, QueueStatus, SchedulerStatus } from '../interface.js';
import type { Activity } from './counters.js';
import type { ReqType } from './fairShare.js';
import type { TapeState } from './state.js';

/** `status()` of the tape part: the common shape plus what only tapes have. */
export interface TapeDriveActivity extends DriveActivity {
  /** Seconds spent in each activity since the scheduler started. */
  seconds: Record<Activity, number>;
}

export interface TapeSchedulerStatus extends SchedulerStatus {
  drives: TapeDriveActivity[];
  /** Requests waiting per type (a read with replicas counts once). */
  waiting: Record<ReqType, number>;
  extra: { formats: number; load_errors: number; read_errors: number; wait_mean_s: number };
}

export function tapeStatus(s: TapeState, nowMs: number, head: (drive: string) => number): TapeSchedulerStatus {
  const drives = s.drives.map((d): TapeDriveActivity => {
    let activity: string = d.failed ? 'failed' : d.activity.activity;
    // A read grant starts with the locate; its length is known from the model.
    if (activity === 'locating' && nowMs - d.activity.since >= d.locateS * 1000) activity = 'reading';
    const seconds = { ...d.activity.seconds };
    seconds[d.activity.activity] += Math.max(0, nowMs - d.activity.since) / 1e3;
    return {
      drive: d.name,
      model: d.model,
      admStatus: d.failed ? 'failed' : !d.added ? 'not added' : d.locked ? 'locked' : 'unlocked',
      loaded: d.loaded,
      activity,
      position: head(d.name),
      seconds,
    };
  });
  const labels = new Set<string>([...s.reads.nonEmpty().map((q) => q.medium), ...[...s.writers.entries()].filter(([, w]) => w.length).map(([m]) => m)]);
  const queues = [...labels].sort().map((m): QueueStatus => {
    const q = s.reads.queue(m);
    const oldest = Math.min(q?.oldest()?.arrivalMs ?? Infinity, ...s.writersOf(m).map((j) => j.arrivalMs));
    return {
      medium: m,
      family: 'tape',
      reads: q?.size ?? 0,
      writes: s.writersOf(m).length,
      bytes: (q?.bytes ?? 0) + s.writersOf(m).reduce((n, j) => n + j.req.size, 0),
      oldestWaitS: Number.isFinite(oldest) ? (nowMs - oldest) / 1e3 : 0,
    };
  });
  const writeJobs = new Set([...s.unassigned, ...[...s.writers.values()].flat()]);
  const c = s.counters;
  return {
    drives,
    queues,
    waiting: { read: s.reads.size, write: writeJobs.size, format: s.formats.length },
    counters: {
      mounts: c.mounts,
      unmounts: c.unmounts,
      syncs: c.syncs,
      locate_s: c.locate_s,
      bytes_read: c.bytes_read,
      bytes_written: c.bytes_written,
      reads: c.reads,
      writes: c.writes,
      wait_p50_s: c.waits.quantile(0.5),
      wait_p99_s: c.waits.quantile(0.99),
    },
    extra: { formats: c.formats, load_errors: c.load_errors, read_errors: c.read_errors, wait_mean_s: c.waits.mean },
  };
}
