/**
 * A FIFO counting semaphore: robots (n permits) and drives (one operation at
 * a time). First come, first served, so a waiting load is never overtaken.
 */
export class Semaphore {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(permits: number) {
    this.free = permits;
  }

  /** Resolves with a function that gives the permit back (once). */
  async acquire(): Promise<() => void> {
    if (this.free > 0 && this.waiters.length === 0) this.free--;
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    };
  }

  async use<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
