// The CLI's entry (bin/deimos). With a service running, a put or get is one
// socket round trip, and the CLI's start-up is a large part of it (a 1 GiB
// get took ~0.4 s, `deimos ping` 0.10 s of it against 0.07 s for `node -e 0`
// here). The plain forms below are sent from this CommonJS module, which
// loads node built-ins only: neither commander and the full program
// (main.ts, ~17 ms) nor the ESM loader (~10 ms). Anything else, and the
// case of no service answering, goes to main.ts.
import type { CommandResult, Event, Request } from '../service/protocol.js';
import { deimosHome, homePaths } from '../core/home.cjs';
import { exchange, type Outcome } from '../service/wire.cjs';

/** Positional arguments of the commands taken here, in the names main.ts gives them. */
const QUICK: Readonly<Record<string, readonly string[]>> = {
  put: ['src', 'oid'],
  get: ['oid', 'dest'],
  ping: [],
};

/**
 * The command and arguments that main.ts would send for `argv` (the user's
 * arguments), or null when it is not such a plain form: any option, `-`
 * (stdin), a missing or extra argument, another command. main.ts owns the
 * grammar, its help and its errors.
 */
export function quickRequest(argv: readonly string[]): Pick<Request, 'cmd' | 'args'> | null {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || !Object.hasOwn(QUICK, cmd)) return null;
  const names = QUICK[cmd]!;
  if (rest.length !== names.length || rest.some((a) => a === '' || a.startsWith('-'))) return null;
  return { cmd, args: Object.fromEntries(names.map((n, i) => [n, rest[i]])) };
}

/** Only what a put, get or ping answers is printed here; anything richer goes through output.ts. */
function plain(r: CommandResult): boolean {
  return r.records === undefined && r.document === undefined;
}

export async function main(argv: string[]): Promise<void> {
  const quick = quickRequest(argv.slice(2));
  if (quick) {
    // Progress bars only on a terminal, where output.ts's printer is worth its loading.
    const printer = process.stderr.isTTY ? (await import('./output.js')).eventPrinter(false) : null;
    const onEvent = (e: Event) => {
      if (printer) printer.onEvent(e);
      else if (e.type === 'warning') process.stderr.write(`deimos: warning: ${e.message}\n`);
    };
    const outcome = await exchange(homePaths(deimosHome()).socket,
      { ...quick, cwd: process.cwd(), uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, onEvent);
    printer?.clear();
    // No service: main.ts runs the command in this process.
    if (outcome.kind !== 'absent') return finish(outcome);
  }
  await (await import('./main.js')).main(argv);
}

async function finish(o: Outcome): Promise<void> {
  if (o.kind === 'result' && plain(o.result)) {
    const r = o.result;
    for (const w of r.warnings ?? []) process.stderr.write(`deimos: warning: ${w}\n`);
    if (r.exitCode) process.exitCode = r.exitCode;
    process.stdout.write((r.lines ?? []).map((l) => l + '\n').join(''), () => process.exit());
    return;
  }
  // Errors and rich results are printed by the full CLI's code, as they would be there.
  const [{ settle }, out] = await Promise.all([import('../service/client.js'), import('./output.js')]);
  try {
    const result = settle(o);
    if (result) out.printResult(result);
  } catch (e) {
    out.printError(e);
  }
  out.exitWhenFlushed();
}
