import type { MediumOrder, PendingRead } from './interface.js';

/**
 * A medium's queue in arrival order (fifo and grouped-fifo). A request put
 * back after a failed candidate keeps its original arrival, so it is not
 * pushed behind newer ones.
 */
export class ArrivalOrder implements MediumOrder {
  private readonly items: PendingRead[] = [];

  get size(): number { return this.items.length; }

  add(r: PendingRead): void {
    let i = this.items.length;
    while (i > 0 && before(r, this.items[i - 1]!)) i--;
    this.items.splice(i, 0, r);
  }

  remove(id: number): void {
    const i = this.items.findIndex((r) => r.id === id);
    if (i >= 0) this.items.splice(i, 1);
  }

  next(): PendingRead | null {
    return this.items[0] ?? null;
  }
}

function before(a: PendingRead, b: PendingRead): boolean {
  return a.arrivalMs < b.arrivalMs || (a.arrivalMs === b.arrivalMs && a.id < b.id);
}
