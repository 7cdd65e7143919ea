import { toDeimosError } from '../core/errors.js';
import type { CommandResult, Event } from '../service/protocol.js';
import { formatRecords, parseFormat, selectFields } from './format.js';
import { Progress } from './progress.js';

/**
 * What every command does with the service's answer, shared by the full
 * CLI (main.ts) and the socket-only entry (entry.ts), so both print alike.
 */

/** Progress on a terminal and warnings, as the service reports them during a command. */
export function eventPrinter(quiet: boolean): { onEvent: (e: Event) => void; clear: () => void } {
  const progress = new Progress(process.stderr.isTTY === true && !quiet);
  return {
    onEvent: (e) => {
      if (e.type === 'progress') progress.update(e.what, e.done, e.total);
      else if (e.type === 'warning') { progress.clear(); process.stderr.write(`deimos: warning: ${e.message}\n`); }
    },
    clear: () => progress.clear(),
  };
}

export function printResult(result: CommandResult, out?: { fields?: string; format?: string }): void {
  const format = parseFormat(out?.format ?? 'human');
  for (const w of result.warnings ?? []) process.stderr.write(`deimos: warning: ${w}\n`);
  if (result.document && format === 'json') {
    process.stdout.write(JSON.stringify(result.document, null, 1) + '\n');
  } else if (result.records && (out || !result.lines)) {
    const fields = selectFields(result.records, out?.fields, result.fields);
    process.stdout.write(formatRecords(result.records, fields, format));
  } else if (result.lines) {
    process.stdout.write(result.lines.map((l) => l + '\n').join(''));
  }
  if (result.exitCode) process.exitCode = result.exitCode;
}

/** One line on stderr (a stack only for internal errors), the errno as exit code. */
export function printError(e: unknown): void {
  const err = toDeimosError(e);
  process.stderr.write(`deimos: ${err.line()}\n`);
  if (err.message.startsWith('internal error') && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exitCode = err.errno;
}

/** Timers of the sim library may still be armed: leave once output is flushed. */
export function exitWhenFlushed(): void {
  process.stdout.write('', () => process.exit());
}
