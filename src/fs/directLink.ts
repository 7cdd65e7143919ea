/**
 * An open file's end of the mount's direct data path: the addon reads and
 * writes the cache file on libfuse threads, and this hands what it counted
 * to the cache (which takes it in before using the size or changing the
 * entry) and marks the open file written, as a write through JS does.
 */
import type { DirectCounts, DirectMode, DirectWrites } from '../cache/interface.js';
import type { DirectPath } from './fuseBinding.js';
import { markWritten, type CacheOpen } from './handles.js';

export class DirectLink implements DirectWrites {
  private closed = false;
  private left: DirectCounts | null = null;

  constructor(private readonly path: DirectPath, private readonly fh: number, private readonly f: CacheOpen) {}

  take(mode: DirectMode): DirectCounts | null {
    let k: DirectCounts | null;
    if (this.closed) {
      k = this.left;
      this.left = null;
    } else {
      k = this.path.take(this.fh, mode === 'stop', typeof mode === 'number' ? mode : undefined);
    }
    if (k && (k.writes > 0 || k.end > 0)) markWritten(this.f, k.lastMs || Date.now());
    if (k && k.reads > 0) this.f.read = true;
    return k;
  }

  /** Ends the path before the file is closed (its descriptor may close with it); later takes get what was left. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.left = this.path.close(this.fh);
    if (this.left && this.left.reads > 0) this.f.read = true;
  }
}
