/**
 * One async lock per key (an object version). Held while an entry changes
 * identity or existence: recall, new version, eviction. Nothing holding it
 * waits for another key's lock, and the cleaner only tries it (`isLocked`),
 * so there is no lock order to get wrong.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  isLocked(key: string): boolean {
    return this.tails.has(key);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    try {
      await prev;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
