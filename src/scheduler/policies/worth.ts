import type { QueueSummary } from './interface.js';

/**
 * The LRS's plain rule for which queue a free drive takes: the one with most
 * requests waiting, then most bytes. A mounted medium gets a small edge so
 * that ties never cost a mount.
 */
export function queueWorth(q: QueueSummary): number {
  return q.reads + Math.min(q.bytes / 1e15, 0.5) + (q.mounted ? 0.25 : 0);
}
