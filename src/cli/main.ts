import { Command, Option } from 'commander';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
// Light imports only: with a service running, a command is a socket round trip, and loading
// the service's own code (catalog, store, scheduler, pino) would double the CLI's start-up.
import type { Config } from '../core/config.js';
import { DeimosError } from '../core/errors.js';
import { deimosHome, homePaths } from '../core/home.cjs';
import type { Logger } from '../core/log.js';
import { callService } from '../service/client.js';
import type { CommandResult, Event, Request } from '../service/protocol.js';
import { parseFormat } from './format.js';
import { eventPrinter, exitWhenFlushed, printError, printResult } from './output.js';

interface Globals { verbose: number; quiet: number; config?: string }

const count = (_: string, prev: number) => prev + 1;
const collect = (v: string, prev: string[]) => [...prev, v];

async function setup(g: Globals, levelKey: 'level' | 'daemon_level'): Promise<{ config: Config; log: Logger; home: string }> {
  const [{ Config }, { createLogger, shiftLevel }] = await Promise.all([import('../core/config.js'), import('../core/log.js')]);
  const config = new Config({ file: g.config ?? null });
  const log = createLogger(shiftLevel(config.str('log', levelKey), g.verbose, g.quiet));
  return { config, log, home: deimosHome() };
}

/** The running service answers, or the command runs in this process (which then owns the store for its duration). */
async function run(g: Globals, request: Request, onEvent: (e: Event) => void): Promise<CommandResult> {
  const remote = await callService(homePaths(deimosHome()).socket, request, onEvent);
  if (remote) return remote;
  const [env, { runCommand }] = await Promise.all([setup(g, 'level'), import('../service/run.js')]);
  return runCommand({ ...env, request, onEvent });
}

async function send(program: Command, cmd: string, args: Record<string, unknown>, out?: { fields?: string; format?: string }): Promise<void> {
  const g = program.opts<Globals>();
  // A bad -f fails before the command runs.
  parseFormat(out?.format ?? 'human');
  const events = eventPrinter(g.quiet > 0);
  let result: CommandResult;
  try {
    result = await run(g, { cmd, args, cwd: process.cwd(), uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, events.onEvent);
  } finally {
    events.clear();
  }
  printResult(result, out);
}

/** `-` as a put source: standard input spooled to a private temporary file first (its size must be known). */
async function withStdin<T>(src: string | undefined, fn: (path: string | undefined) => Promise<T>): Promise<T> {
  if (src !== '-') return fn(src);
  const dir = await mkdtemp(join(tmpdir(), 'deimos-stdin-'));
  try {
    const path = join(dir, 'stdin');
    await pipeline(process.stdin, createWriteStream(path, { mode: 0o600 }));
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const listOpts = (c: Command) => c
  .option('-o, --output <fields>', "fields to show, comma separated, or 'all'")
  .option('-f, --format <format>', 'human, json, csv, yaml or xml', 'human');

const placementOpts = (c: Command) => c
  .addOption(new Option('--family <family>', 'media family').choices(['dir', 'tape']))
  .option('--layout <layout>', 'raid1 or raid4')
  .option('--lyt-params <k=v,...>', 'layout parameters, e.g. repl_count=2')
  .option('-T, --tags <tags>', 'media must carry all these tags');

export function buildProgram(): Command {
  const program = new Command('deimos')
    .description('Deimos: a tape-aware object store (Phobos-style CLI)')
    .option('-v, --verbose', 'more log output (repeatable)', count, 0)
    .option('-q, --quiet', 'less log output (repeatable)', count, 0)
    .option('-c, --config <file>', 'configuration file (default $DEIMOS_CONFIG or /etc/deimos.conf)')
    .showHelpAfterError()
    .exitOverride();

  placementOpts(program.command('put').description('store a file (or - for stdin) as an object')
    .argument('[src]', 'file to store, or - for standard input').argument('[oid]', 'object id'))
    .option('--copy-name <name>', 'name of the copy written')
    .option('-m, --metadata <k=v,...>', 'user metadata')
    .option('--overwrite', 'make a new version if the object exists')
    .option('--grouping <g>', 'grouping of the object')
    .option('--file <list>', "put every 'SRC OID [METADATA]' line of LIST")
    .action(async (src: string | undefined, oid: string | undefined, o) => {
      if (!o.file && (!src || !oid)) throw new DeimosError('EINVAL', 'put needs SRC and OID (or --file LIST)', "e.g. 'deimos put results.tar proj/results.tar'");
      await withStdin(src, (path) => send(program, 'put', { ...o, src: path, oid }));
    });

  program.command('get').description('retrieve an object into a file')
    .argument('[oid]').argument('[dest]')
    .option('--version <n>', 'version to retrieve (deprecated ones too)')
    .option('--uuid <uuid>', 'generation of the object to retrieve')
    .option('--copy-name <name>', 'read this copy only')
    .option('--file <list>', "get every 'OID DEST' line of LIST as one batch")
    .action(async (oid: string | undefined, dest: string | undefined, o) => {
      if (!o.file && (!oid || !dest)) throw new DeimosError('EINVAL', 'get needs OID and DEST (or --file LIST)', "e.g. 'deimos get proj/results.tar ./results.tar'");
      await send(program, 'get', { ...o, oid, dest });
    });

  program.command('getmd').description("print an object's user metadata").argument('<oid>')
    .option('--version <n>').option('--uuid <uuid>')
    .action((oid: string, o) => send(program, 'getmd', { ...o, oid }));

  program.command('delete').alias('del').description('delete objects (deprecate; --hard removes their data)')
    .argument('<oid...>').option('--hard', 'remove every version and its extents')
    .action((oids: string[], o) => send(program, 'delete', { ...o, oids }));

  program.command('undelete').description('bring back deleted objects').argument('<oid...>')
    .option('--uuid <uuid>', 'generation to bring back')
    .action((oids: string[], o) => send(program, 'undelete', { ...o, oids }));

  program.command('rename').description('rename an object').argument('<oid>').argument('<new-oid>')
    .action((oid: string, newOid: string) => send(program, 'rename', { oid, newOid }));

  program.command('locate').description('show the media that hold an object').argument('<oid>')
    .option('--version <n>').option('--uuid <uuid>').option('--copy-name <name>')
    .action((oid: string, o) => send(program, 'locate', { ...o, oid }));

  const object = program.command('object').description('object listings');
  listOpts(object.command('list').description('list objects').argument('[oid...]')
    .option('--deprecated', 'include deprecated versions')
    .option('--deprecated-only', 'only deprecated versions')
    .option('--pattern <regexp>', 'oids matching this regular expression')
    .option('-m, --metadata <k=v>', 'user metadata to match (repeatable)', collect, []))
    .action((oids: string[], o) => send(program, 'object.list', { ...o, oids }, { fields: o.output, format: o.format }));

  const extent = program.command('extent').description('extent listings');
  listOpts(extent.command('list').description('list extents of objects').argument('[oid...]')
    .option('--name <medium>', 'extents on this medium only')
    .option('--pattern <regexp>', 'oids matching this regular expression')
    .option('--deprecated', 'include deprecated versions'))
    .action((oids: string[], o) => send(program, 'extent.list', { ...o, oids }, { fields: o.output, format: o.format }));

  const copy = program.command('copy').description('object copies');
  placementOpts(copy.command('create').description('add a copy of an object').argument('<oid>').argument('<copy-name>'))
    .option('--from <copy>', 'copy to read from').option('--version <n>').option('--uuid <uuid>')
    .action((oid: string, copyName: string, o) => send(program, 'copy.create', { ...o, fromCopy: o.from, oid, copyName }));
  copy.command('delete').description('delete a copy (never the last one)').argument('<oid>').argument('<copy-name>')
    .option('--version <n>').option('--uuid <uuid>')
    .action((oid: string, copyName: string, o) => send(program, 'copy.delete', { ...o, oid, copyName }));
  listOpts(copy.command('list').description('list copies').argument('[oid...]').option('--deprecated', 'include deprecated versions'))
    .action((oids: string[], o) => send(program, 'copy.list', { ...o, oids }, { fields: o.output, format: o.format }));

  const dir = program.command('dir').description('directory media');
  dir.command('add').description('add directories as media').argument('<path...>')
    .option('-T, --tags <tags>').option('--unlock', 'add them unlocked')
    .action((names: string[], o) => send(program, 'dir.add', { ...o, names }));
  dir.command('format').description('format directory media').argument('<path...>')
    .option('--fs <type>', 'file system (posix)', 'posix').option('--unlock', 'unlock once formatted').option('--force', 'format again')
    .action((names: string[], o) => send(program, 'dir.format', { ...o, names }));
  listOpts(dir.command('list').description('list directory media').argument('[path...]').option('-T, --tags <tags>'))
    .action((names: string[], o) => send(program, 'dir.list', { ...o, names }, { fields: o.output, format: o.format }));
  for (const verb of ['lock', 'unlock'] as const) {
    dir.command(verb).description(`${verb} directory media`).argument('<path...>').option('--force', 'also a failed medium')
      .action((names: string[], o) => send(program, `dir.${verb}`, { ...o, names }));
  }
  dir.command('update').description('change tags of directory media').argument('<path...>').requiredOption('-T, --tags <tags>')
    .action((names: string[], o) => send(program, 'dir.update', { ...o, names }));
  dir.command('delete').alias('del').description('remove empty directory media').argument('<path...>')
    .action((names: string[]) => send(program, 'dir.delete', { names }));

  const drive = program.command('drive').description('tape drives');
  drive.command('add').description('add drives of the library').argument('<drive...>', 'st0 or /dev/st0')
    .option('--unlock', 'add them unlocked')
    .action((names: string[], o) => send(program, 'drive.add', { ...o, names }));
  listOpts(drive.command('list').description('list drives').argument('[drive...]'))
    .action((names: string[], o) => send(program, 'drive.list', { ...o, names }, { fields: o.output, format: o.format }));
  listOpts(drive.command('status').description('what each drive holds and is doing'))
    .action((o) => send(program, 'drive.status', {}, { fields: o.output, format: o.format }));
  for (const verb of ['lock', 'unlock'] as const) {
    drive.command(verb).description(`${verb} drives`).argument('<drive...>').option('--force', 'also a failed drive (unlock resets its errors)')
      .action((names: string[], o) => send(program, `drive.${verb}`, { ...o, names }));
  }
  drive.command('load').description('load a cartridge into a drive').argument('<drive>').argument('<tape>')
    .action((name: string, label: string) => send(program, 'drive.load', { name, label }));
  drive.command('unload').description('unload a drive').argument('<drive>')
    .action((name: string) => send(program, 'drive.unload', { name }));
  drive.command('delete').alias('del').description('remove drives from the catalog').argument('<drive...>')
    .action((names: string[]) => send(program, 'drive.delete', { names }));

  const tape = program.command('tape').description('tape cartridges');
  tape.command('add').description('add cartridges').argument('<label...>', "labels, ranges like '[073200-073239]L9'")
    .requiredOption('-t, --type <model>', 'LTO8 or LTO9').option('-T, --tags <tags>').option('--unlock', 'add them unlocked')
    .action((names: string[], o) => send(program, 'tape.add', { ...o, names }));
  tape.command('format').description('format cartridges (LTFS)').argument('<label...>')
    .option('--unlock', 'unlock once formatted').option('--force', 'format again (only if empty)')
    .action((names: string[], o) => send(program, 'tape.format', { ...o, names }));
  listOpts(tape.command('list').description('list cartridges').argument('[label...]').option('-T, --tags <tags>'))
    .action((names: string[], o) => send(program, 'tape.list', { ...o, names }, { fields: o.output, format: o.format }));
  tape.command('update').description('change tags of cartridges').argument('<label...>').requiredOption('-T, --tags <tags>')
    .action((names: string[], o) => send(program, 'tape.update', { ...o, names }));
  for (const verb of ['lock', 'unlock'] as const) {
    tape.command(verb).description(`${verb} cartridges`).argument('<label...>').option('--force', 'also a failed cartridge')
      .action((names: string[], o) => send(program, `tape.${verb}`, { ...o, names }));
  }
  tape.command('locate').description('where a cartridge is: slot or drive').argument('<label>')
    .action((label: string) => send(program, 'tape.locate', { label }));
  tape.command('delete').alias('del').description('remove cartridges from the catalog').argument('<label...>')
    .option('--lost', 'the cartridge is lost: drop its extents too')
    .action((names: string[], o) => send(program, 'tape.delete', { ...o, names }));

  const lib = program.command('lib').description('the tape library');
  listOpts(lib.command('scan').description('slots and drives, and what each holds'))
    .action((o) => send(program, 'lib.scan', {}, { fields: o.output, format: o.format }));

  const logs = program.command('logs').description('library operation logs');
  const logFilters = (c: Command) => c.option('--drive <drive>').option('--tape <label>').option('--errors', 'failures only')
    .option('--since <time>').option('--until <time>');
  listOpts(logFilters(logs.command('dump').description('print logs')))
    .action((o) => send(program, 'logs.dump', o, { fields: o.output, format: o.format }));
  logFilters(logs.command('clear').description('clear logs')).action((o) => send(program, 'logs.clear', o));

  const sched = program.command('sched').description('the I/O scheduler');
  listOpts(sched.command('fair_share').description('show or set per-model drive shares: min and max drives for read,write,format')
    .option('-t, --type <model>', 'drive model, e.g. LTO9')
    .option('--min <r,w,f>', 'fewest drives kept for read,write,format while they have work')
    .option('--max <r,w,f>', 'most drives read,write,format may hold'))
    .action((o) => send(program, 'sched.fair_share', o, { fields: o.output, format: o.format }));

  program.command('status').description('drives, queues and scheduler counters')
    .option('-f, --format <format>', 'human or json', 'human')
    .action((o) => send(program, 'status', {}, { format: o.format }));

  const bench = program.command('bench').description('benchmarks');
  bench.command('sched').description('replay a trace through the scheduler on the virtual clock, per policy, with the lower bound')
    .requiredOption('--trace <file>', 'CSV: arrival_s,op,cartridge,position_bytes,size_bytes')
    .option('--drives <n>', 'drives of the library', '4')
    .option('--policy <name>', 'policy to replay (repeatable; default: all)', collect, [])
    .option('--json', 'JSON output')
    .action(async (o) => { process.stdout.write(await (await import('./benchSched.js')).benchSched(o)); });

  program.command('daemon').description('run the service: owns the library and serves the CLI and mounts')
    .action(async () => {
      const { config, log, home } = await setup(program.opts<Globals>(), 'daemon_level');
      const { runDaemon } = await import('../service/run.js');
      await runDaemon({ home, config, log, onReady: () => process.stdout.write(`deimos: service ready (pid ${process.pid})\n`) });
    });

  program.command('mount').description('mount the store: the service with its disk cache and a FUSE file system')
    .argument('<mountpoint>')
    .option('--cache-dir <dir>', 'disk cache directory (default: cache.dir, or $DEIMOS_HOME/cache)')
    .option('--cache-size <size>', 'disk cache size, e.g. 200G (default: cache.size)')
    .option('--foreground', 'stay in the foreground (default: detach once mounted)')
    .option('-o, --options <opts>', 'mount options: allow_other, or libfuse2 -o options (repeatable)', collect, [])
    .action(async (mountpoint: string, o) => {
      const env = await setup(program.opts<Globals>(), 'daemon_level');
      const { mountAction } = await import('./mount.js');
      await mountAction(env, mountpoint, { cacheDir: o.cacheDir, cacheSize: o.cacheSize, foreground: o.foreground, options: o.options });
    });

  program.command('umount').alias('unmount').description('unmount: the service stops; dirty files stay in the cache for the next mount')
    .argument('<mountpoint>')
    .action(async (mountpoint: string) => { await (await import('./mount.js')).umountAction(await setup(program.opts<Globals>(), 'level'), mountpoint); });

  program.command('stage').description('queue recalls of files into the disk cache (returns at once)')
    .argument('<path...>', 'paths in the mount, or object ids')
    .option('-r, --recursive', 'everything below directories')
    .action((paths: string[], o) => send(program, 'stage', { paths, recursive: Boolean(o.recursive) }));

  program.command('flush').description('write dirty files of the disk cache to their media now')
    .argument('[path...]', 'paths in the mount or object ids (default: all dirty files)')
    .option('--wait', 'return once they are on media (synced)')
    .action((paths: string[], o) => send(program, 'flush', { paths, wait: Boolean(o.wait) }));

  program.command('ping', { hidden: true }).action(() => send(program, 'ping', {}));
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('commander.')) {
      // commander already printed its message.
      const exit = (e as { exitCode?: number }).exitCode ?? 1;
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : exit === 0 ? 0 : 22;
    } else {
      printError(e);
    }
  }
  exitWhenFlushed();
}
