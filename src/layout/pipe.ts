import { DeimosError } from '../core/errors.js';

/** Raised in a producer whose consumer has stopped; the consumer's own error is the one to report. */
export class ChannelClosed extends Error {
  constructor() {
    super('consumer stopped');
    this.name = 'ChannelClosed';
  }
}

/**
 * A bounded queue between one producer and one consumer (a medium's
 * writeExtent). `push` waits while the queue is full, so a slow medium holds
 * the producer back instead of letting buffers pile up in memory; a depth of
 * two lets the producer read the next chunk while the consumer writes this one.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private error: unknown = undefined;
  private closed = false;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;
  /** The item the consumer holds: it is done with it when it asks for the next one. */
  private held: { item: T } | null = null;

  /**
   * `onRelease` is called with each item the consumer has finished with
   * (MediumIO.writeExtent reads a chunk only until it asks for the next), so
   * its buffer can go back to the source.
   */
  constructor(private readonly capacity = 2, private readonly onRelease?: (item: T) => void) {}

  async push(item: T): Promise<void> {
    while (!this.closed && this.items.length >= this.capacity) {
      await new Promise<void>((r) => { this.wakeProducer = r; });
    }
    if (this.closed) throw new ChannelClosed();
    this.items.push(item);
    this.wake('consumer');
  }

  end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.error = error;
    this.ended = true;
    this.wake('consumer');
  }

  /** The consumer is gone (finished or failed): any further push throws ChannelClosed. */
  close(): void {
    this.closed = true;
    this.release();
    // Queued items were never seen by the consumer: nothing holds them but this queue.
    if (this.onRelease) for (const item of this.items) this.onRelease(item);
    this.items.length = 0;
    this.wake('producer');
  }

  private release(): void {
    const h = this.held;
    this.held = null;
    if (h && this.onRelease) this.onRelease(h.item);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        this.release();
        while (this.items.length === 0 && !this.ended && !this.closed) {
          await new Promise<void>((r) => { this.wakeConsumer = r; });
        }
        if (this.items.length > 0) {
          const value = this.items.shift()!;
          this.held = { item: value };
          this.wake('producer');
          return { value, done: false };
        }
        if (this.error !== undefined) throw this.error;
        return { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<T>> => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private wake(who: 'consumer' | 'producer'): void {
    const w = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = null;
    else this.wakeProducer = null;
    w?.();
  }
}

/**
 * Runs one producer feeding `channels` and the consumers reading them, and
 * waits for all of them to settle, so no extent is still being written when
 * the caller reports the outcome. The first real error wins over the
 * ChannelClosed and cancellations it caused in the others.
 */
export async function runPipeline<R>(channels: Channel<Buffer>[], producer: () => Promise<void>, consumers: Array<Promise<R>>): Promise<R[]> {
  const prod = producer().then(
    () => { for (const c of channels) c.end(); },
    (e: unknown) => { for (const c of channels) c.fail(e); throw e; },
  );
  const settled = await Promise.allSettled([prod, ...consumers]);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown);
  if (errors.length > 0) throw errors.find((e) => !(e instanceof ChannelClosed) && !isCancel(e)) ?? errors[0];
  return settled.slice(1).map((s) => (s as PromiseFulfilledResult<R>).value);
}

function isCancel(e: unknown): boolean {
  return e instanceof DeimosError && e.code === 'ECANCELED';
}

/**
 * Re-cuts a stream into buffers of exactly `size` bytes (the last may be
 * shorter), so two streams can be combined block by block (raid4 parity).
 * Buffers are sliced, not copied, when a source chunk covers a whole block.
 */
export async function* rechunk(src: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of src) {
    let buf = chunk;
    while (buf.length > 0) {
      if (have === 0 && buf.length >= size) {
        yield buf.subarray(0, size);
        buf = buf.subarray(size);
        continue;
      }
      const take = Math.min(size - have, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have === size) {
        yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
}
