/**
 * The states of a cache entry and the only moves between them. Every state
 * change goes through `move`, so a wrong one is a loud bug, not a silently
 * corrupted cache (rclone's item.go spreads this over half a dozen flags).
 *
 *   (new file) ──► dirty ──► flushing ──► clean ──► (evicted or released)
 *                   ▲  ▲        │            │
 *                   │  └────────┘            │ first write: the file becomes
 *                   │  put failed, or the    │ the next version's (renamed)
 *                   │  file changed during it│
 *                   └────────────────────────┘
 *   (recall) ──► staging ──► clean      a failed recall leaves nothing
 *
 * An entry is born dirty (create, or a new version) or staging (recall),
 * and leaves the cache clean (eviction), staging (failed recall) or in any
 * state when its version is removed from the catalog.
 */
import { DeimosError } from '../core/errors.js';
import type { CacheState, FileState } from './interface.js';

const MOVES: Readonly<Record<CacheState, readonly CacheState[]>> = {
  dirty: ['flushing'],
  flushing: ['clean', 'dirty'],
  clean: ['dirty'],
  staging: ['clean'],
};

export function canMove(from: CacheState, to: CacheState): boolean {
  return MOVES[from].includes(to);
}

export function move(entry: { state: CacheState; file: string }, to: CacheState): void {
  if (!canMove(entry.state, to)) {
    throw new DeimosError('EIO', `cache entry ${entry.file}: no move from ${entry.state} to ${to}`, 'this is a bug; report it with the service log');
  }
  entry.state = to;
}

/** What user.deimos.state shows for an entry in the cache. */
export function fileState(s: CacheState): FileState {
  return s === 'clean' ? 'online' : s;
}
