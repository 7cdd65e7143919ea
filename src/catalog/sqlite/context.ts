import type { Connection } from './connection.js';

/** What the SQLite catalog's operations share: the connection and the outside world they consult. */
export interface Ctx {
  conn: Connection;
  /** Milliseconds since the epoch; injectable so tests and the sim clock control time stamps. */
  now(): number;
  /** Whether the process owning a put reservation still runs. */
  ownerAlive(pid: number): boolean;
}
