import type { Catalog } from '../catalog/interface.js';
import type { Logger } from '../core/log.js';

/**
 * Keeps the scheduler's counters (mounts, syncs, locate seconds, bytes,
 * requests, the wait histogram…) across service restarts, in one row of
 * the catalog's state table. Each part counts in memory as before; at start
 * what the last run saved is added to it, and the totals are written back
 * every `everyMs` if they changed, and at close — not on every request.
 *
 * The save timer is a real, unref'd timer, not the scheduler's Clock: it is
 * about surviving a crash of this process, in wall time, and must neither
 * move a virtual clock nor keep a process alive. A crash loses at most the
 * last `everyMs` of counts.
 */

export const COUNTERS_KEY = 'io_sched.counters';

/** One part's counters, as plain JSON, and how to add saved ones to it. */
export interface CounterPart {
  dump(): object;
  add(saved: Record<string, unknown>): void;
}

export class SavedCounters {
  /** Resolves once the saved totals are added (never rejects). */
  readonly loaded: Promise<void>;
  private last: string | null = null;
  /** False until loading succeeded: saving before would overwrite the totals with this run's counts. */
  private canSave = false;
  private timer: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly catalog: Catalog,
    private readonly parts: Record<string, CounterPart>,
    everyMs: number,
    private readonly log?: Logger,
  ) {
    this.loaded = this.load();
    if (everyMs > 0) {
      this.timer = setInterval(() => void this.save(), everyMs);
      this.timer.unref();
    }
  }

  private async load(): Promise<void> {
    let text: string | null;
    try {
      text = await this.catalog.getState(COUNTERS_KEY);
    } catch (e) {
      this.log?.warn({ err: e }, 'cannot read the saved scheduler counters: this run counts from zero and does not save');
      return;
    }
    this.canSave = true;
    // Nothing saved yet: zeros are what a save would write, so a run that counts nothing writes nothing.
    if (text === null) {
      this.last = this.serialize();
      return;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      this.log?.warn({ err: e }, 'saved scheduler counters are not JSON: counting from zero');
      return;
    }
    for (const [name, part] of Object.entries(this.parts)) {
      const saved = (doc as Record<string, unknown> | null)?.[name];
      if (saved !== null && typeof saved === 'object') part.add(saved as Record<string, unknown>);
    }
    this.last = this.serialize();
  }

  /** Writes the totals if they changed since the last save; saves never overlap. */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      await this.loaded;
      if (!this.canSave) return;
      const text = this.serialize();
      if (text === this.last) return;
      try {
        await this.catalog.setState(COUNTERS_KEY, text);
        this.last = text;
      } catch (e) {
        this.log?.warn({ err: e }, 'cannot save the scheduler counters');
      }
    });
    return this.saving;
  }

  /** Stops the timer and saves one last time. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.save();
  }

  private serialize(): string {
    return JSON.stringify(Object.fromEntries(Object.entries(this.parts).map(([name, p]) => [name, p.dump()])));
  }
}
