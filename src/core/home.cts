// CommonJS, node built-ins only: the CLI's socket-only path (cli/quick.cts) loads it without the ESM loader.

import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a store keeps its state: catalog, lock, socket, sim library. */
export function deimosHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEIMOS_HOME) return env.DEIMOS_HOME;
  if (process.getuid?.() === 0) return '/var/lib/deimos';
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'deimos');
}

export interface HomePaths {
  home: string;
  catalog: string;
  lock: string;
  socket: string;
  library: string;
  cache: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    catalog: join(home, 'catalog.db'),
    lock: join(home, 'service.lock'),
    socket: join(home, 'service.sock'),
    library: join(home, 'library'),
    cache: join(home, 'cache'),
  };
}
