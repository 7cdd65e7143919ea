import pino, { type Logger, type Level } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * One root logger per process; boxes take `log.child({ box: 'scheduler' })`.
 * JSON to stderr, or human-readable when stderr is a terminal.
 */
export function createLogger(level: Level | 'silent', opts: { pretty?: boolean; destination?: number } = {}): Logger {
  const dest = opts.destination ?? 2;
  const usePretty = opts.pretty ?? (dest === 2 && process.stderr.isTTY === true);
  if (usePretty) {
    return pino({ level, base: undefined }, pretty({ destination: dest, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest, sync: true }));
}

const LEVELS: (Level | 'silent')[] = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** Phobos style: each -v raises the level one step, each -q lowers it. */
export function shiftLevel(base: string, verbose: number, quiet: number): Level | 'silent' {
  const i = Math.max(0, LEVELS.indexOf(base as Level));
  return LEVELS[Math.min(LEVELS.length - 1, Math.max(0, i + verbose - quiet))]!;
}
