import type { MediumOrder, PendingRead, ReadPolicy } from './interface.js';
import { queueWorth } from './worth.js';

/**
 * One mount per cartridge batch, read by ascending position from the head
 * (one-way elevator): requests behind the head wait for the next sweep from
 * the lowest position, so nothing is passed over twice.
 */
export function groupedSortedPolicy(): ReadPolicy {
  return {
    name: 'grouped-sorted',
    grouped: true,
    newOrder: () => new AscendingOrder(),
    mediumValue: queueWorth,
    gatherMs: () => 0,
  };
}

export class AscendingOrder implements MediumOrder {
  /** Sorted by (position, id). */
  private readonly items: PendingRead[] = [];

  get size(): number { return this.items.length; }

  add(r: PendingRead): void {
    this.items.splice(this.lowerBound(r.position, r.id), 0, r);
  }

  remove(id: number): void {
    const i = this.items.findIndex((r) => r.id === id);
    if (i >= 0) this.items.splice(i, 1);
  }

  next(head: number): PendingRead | null {
    if (this.items.length === 0) return null;
    const i = this.lowerBound(head, -Infinity);
    return this.items[i] ?? this.items[0]!;
  }

  private lowerBound(pos: number, id: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.items[mid]!;
      if (m.position < pos || (m.position === pos && m.id < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
