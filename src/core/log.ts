import { createRequire } from 'node:module';
import pino, { type Logger, type Level } from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

// pino-pretty (and its 40-odd files) only when stderr is a terminal: every
// CLI command pays for what it loads at start.
const require = createRequire(import.meta.url);
const loadPretty = (): ((o: PrettyOptions) => PrettyStream) => require('pino-pretty') as (o: PrettyOptions) => PrettyStream;

export type { Logger };

/**
 * One root logger per process; boxes take `log.child({ box: 'scheduler' })`.
 * JSON to stderr, or human-readable when stderr is a terminal.
 */
export function createLogger(level: Level | 'silent', opts: { pretty?: boolean; destination?: number } = {}): Logger {
  const dest = opts.destination ?? 2;
  const usePretty = opts.pretty ?? (dest === 2 && process.stderr.isTTY === true);
  if (usePretty) {
    return pino({ level, base: undefined }, loadPretty()({ destination: dest, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest, sync: true }));
}

const LEVELS: (Level | 'silent')[] = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** Phobos style: each -v raises the level one step, each -q lowers it. */
export function shiftLevel(base: string, verbose: number, quiet: number): Level | 'silent' {
  const i = Math.max(0, LEVELS.indexOf(base as Level));
  return LEVELS[Math.min(LEVELS.length - 1, Math.max(0, i + verbose - quiet))]!;
}
