import type { CostModel, MediumOrder, PendingRead, ReadPolicy } from './interface.js';
import { queueWorth } from './worth.js';

/**
 * Greedy nearest-first by the locate model: from wherever the head is, read
 * the request that is cheapest to reach. Good on sparse recalls; it has no
 * plan, so it can be lured away from a run by a request that arrived nearby.
 */
export function nearestPolicy(): ReadPolicy {
  return {
    name: 'nearest',
    grouped: true,
    newOrder: (_m, cost) => new NearestOrder(cost),
    mediumValue: queueWorth,
    gatherMs: () => 0,
  };
}

class NearestOrder implements MediumOrder {
  private readonly items = new Map<number, PendingRead>();
  constructor(private readonly cost: CostModel) {}

  get size(): number { return this.items.size; }

  add(r: PendingRead): void { this.items.set(r.id, r); }

  remove(id: number): void { this.items.delete(id); }

  next(head: number): PendingRead | null {
    let best: PendingRead | null = null;
    let bestS = Infinity;
    for (const r of this.items.values()) {
      const s = this.cost.locate(head, r.position);
      if (s < bestS || (s === bestS && best !== null && r.position < best.position)) {
        best = r;
        bestS = s;
      }
    }
    return best;
  }
}
