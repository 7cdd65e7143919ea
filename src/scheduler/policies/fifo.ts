import { ArrivalOrder } from './arrivalOrder.js';
import type { ReadPolicy } from './interface.js';

/**
 * No grouping: requests are served in arrival order over all media, so a
 * drive switches cartridge whenever the next request is on another one.
 * The baseline every other policy is measured against.
 */
export function fifoPolicy(): ReadPolicy {
  return {
    name: 'fifo',
    grouped: false,
    newOrder: () => new ArrivalOrder(),
    // The oldest request overall goes first, whatever medium it is on.
    mediumValue: (q) => -q.oldestMs,
    gatherMs: () => 0,
  };
}
