import type { Catalog, LogCause } from '../../catalog/interface.js';
import type { DeimosError } from '../../core/errors.js';

/**
 * Counts device failures the Phobos way: each one is a log row, adds to the
 * component's nb_errors, and at health_max errors the component's adm status
 * becomes 'failed' so that nothing uses it any more. Drives and media not
 * registered in the catalog keep their counts here (saved with the sim state).
 */
export interface Failure {
  kind: 'drive' | 'medium';
  /** The drive's or the cartridge's name: the component blamed. */
  name: string;
  device: string | null;
  medium: string | null;
  cause: LogCause;
  error: DeimosError;
}

export class Health {
  /** Error counts of components absent from the catalog. */
  readonly unregistered: { drives: Map<string, number>; media: Map<string, number> };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly catalog: Catalog,
    readonly max: number,
    saved?: { drives: Record<string, number>; media: Record<string, number> },
  ) {
    this.unregistered = {
      drives: new Map(Object.entries(saved?.drives ?? {})),
      media: new Map(Object.entries(saved?.media ?? {})),
    };
  }

  /** Logs the failure and counts it; resolves true when the component is now failed. */
  record(f: Failure): Promise<boolean> {
    // Counting is read-modify-write on the catalog: one at a time.
    const run = this.queue.then(() => this.count(f));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async count(f: Failure): Promise<boolean> {
    await this.catalog.addLog({ kind: f.kind, device: f.device, medium: f.medium, cause: f.cause, errno: f.error.errno, message: f.error.message });
    if (f.kind === 'drive') {
      const row = await this.catalog.getDrive(f.name);
      if (row) return this.update(row.nbErrors, row.admStatus === 'failed', (patch) => this.catalog.updateDrive(f.name, patch));
      return this.bump(this.unregistered.drives, f.name);
    }
    const row = await this.catalog.getMedium('tape', f.name);
    if (row) return this.update(row.nbErrors, row.admStatus === 'failed', (patch) => this.catalog.updateMedium('tape', f.name, patch));
    return this.bump(this.unregistered.media, f.name);
  }

  private async update(errors: number, wasFailed: boolean, apply: (p: { nbErrors: number; admStatus?: 'failed' }) => Promise<unknown>): Promise<boolean> {
    const n = errors + 1;
    const failed = wasFailed || n >= this.max;
    await apply(failed ? { nbErrors: n, admStatus: 'failed' } : { nbErrors: n });
    return failed;
  }

  private bump(counts: Map<string, number>, name: string): boolean {
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    return n >= this.max;
  }

  /** A component absent from the catalog that reached health_max earlier. */
  failedUnregistered(kind: 'drive' | 'medium', name: string): boolean {
    return ((kind === 'drive' ? this.unregistered.drives : this.unregistered.media).get(name) ?? 0) >= this.max;
  }
}
