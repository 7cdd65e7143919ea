import { ArrivalOrder } from './arrivalOrder.js';
import type { ReadPolicy } from './interface.js';
import { queueWorth } from './worth.js';

/** One mount per cartridge batch; inside it, requests in arrival order. */
export function groupedFifoPolicy(): ReadPolicy {
  return {
    name: 'grouped-fifo',
    grouped: true,
    newOrder: () => new ArrivalOrder(),
    mediumValue: queueWorth,
    gatherMs: () => 0,
  };
}
