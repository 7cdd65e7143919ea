import { humanSize } from '../core/units.js';

/**
 * Progress of long work on a terminal (a put or get of a large object, a
 * recall waiting on tape); silent when stderr is a pipe or a file.
 */
export class Progress {
  private last = 0;
  private shown = false;
  constructor(private readonly enabled: boolean) {}

  update(what: string, done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 200 && done < total) return;
    this.last = now;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const name = what.length > 40 ? '…' + what.slice(-39) : what;
    process.stderr.write(`\r\x1b[K${name}  ${pct}%  ${humanSize(done)} / ${humanSize(total)}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
