/**
 * Put and get of a large file on a directory medium against plain `cp` of the
 * same file, side by side in one run, several repetitions, medians and ratios.
 * Usage: node dist/test/bench/store.js [SIZE_MIB=1024] [REPS=5]
 *
 * Rows (each one process, timed from spawn to exit, as a user sees it):
 * - cp: coreutils cp; on ext4 that is copy_file_range, one copy inside the
 *   kernel into the page cache, nothing on disk when it returns.
 * - cp + sync: cp, then `sync -f` of the copy: the bytes are on disk, like a put's.
 * - fsync alone: the `sync -f` part of that row, what durability costs here.
 * - dd bs=4M: a copy through user space (read + write), no hashing, no fsync.
 * - node -e 0: start-up of Node itself, the floor of every deimos row (with
 *   NODE_EXTRA_CA_CERTS set, Node 20 parses that file at every start: ~40 ms
 *   here; the header says whether it is set).
 * - deimos ping: start-up of the CLI with the store opened in-process; in every deimos row.
 * - deimos put: in-process owner; copies the file into the extent inside
 *   the kernel while it hashes (xxh128) what the copy stored, fsyncs the
 *   extent and its directory, commits the catalog: durable when it returns.
 * - deimos get: verifies the checksum while it writes the destination, which
 *   appears whole by rename, not fsynced (like cp).
 * - the same three with the service running (`deimos daemon`, as Phobos
 *   runs phobosd): the CLI only sends the command over the socket, and the
 *   service does the same work.
 * - deimos put (service, no fsync): `[store] fsync = false`, the extent
 *   left in the page cache like cp's copy: the like-for-like row against cp.
 * Operations are interleaved within each repetition so that all rows see the
 * same machine; one warm-up repetition is not counted.
 *
 * Before every timed operation: `sync`, then SETTLE_S seconds idle (default
 * 3). On this VM (virtio-balloon with free page reporting) memory freed and
 * left idle for ~2 s is handed back to the host, and the next 1 GiB written
 * into the page cache faults it back in: measured, dd of 1 GiB 0.6-0.9 s
 * right after an rm, 2.5-5 s after 5 s idle, and cp alike. Without the same
 * pause before each row, whichever row follows an rm closely (cp here) gets
 * warm pages and the others cold ones. SETTLE_S=0 shows the warm case.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.js';

const sizeMiB = Number(process.argv[2] ?? 1024);
const reps = Number(process.argv[3] ?? 5);
const settleS = Number(process.env.SETTLE_S ?? 3);

/** The same state before every timed operation: dirty data written out, then idle. */
function settle(): void {
  execFileSync('sync');
  if (settleS > 0) execFileSync('sleep', [String(settleS)]);
}

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'deimos-bench-'));
  const env = { ...process.env, DEIMOS_HOME: join(root, 'home'), DEIMOS_CONFIG: '/dev/null', DEIMOS_LOG_LEVEL: 'error', DEIMOS_LOG_DAEMON_LEVEL: 'error' };
  // stderr a pipe, as in a script: on a terminal bin/deimos leaves the compiled client for the Node CLI (progress bars).
  const deimos = (...args: string[]) => execFileSync(BIN, [...args], { env, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const load0 = loadavg()[0]!;
  try {
    const medium = join(root, 'medium');
    await mkdir(medium);
    deimos('dir', 'add', '--unlock', medium);
    deimos('dir', 'format', '--fs', 'posix', medium);
    const src = join(root, 'src.bin');
    const fh = await open(src, 'w');
    const chunk = randomBytes(16 << 20);
    for (let i = 0; i < sizeMiB / 16; i++) await fh.write(chunk.subarray(0, 16 << 20).map((b, j) => (b + i + j) & 255));
    await fh.close();
    const bytes = sizeMiB * 1024 * 1024;
    const out = join(root, 'out');
    const rows = ['cp', 'cp + sync', 'fsync alone', 'dd bs=4M', 'node -e 0', 'deimos ping', 'deimos put', 'deimos get',
      'deimos ping (service)', 'deimos put (service)', 'deimos get (service)', 'deimos put (service, no fsync)'] as const;
    const noRatio = new Set<string>(['node -e 0', 'deimos ping', 'deimos ping (service)', 'fsync alone']);
    const startService = async (extra: Record<string, string> = {}): Promise<ChildProcess> => {
      const d = spawn(BIN, ['daemon'], { env: { ...env, ...extra }, cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      d.stdout!.setEncoding('utf8');
      while (!out.includes('service ready')) {
        const [chunk] = await Promise.race([once(d.stdout!, 'data'), once(d, 'exit').then(() => { throw new Error('deimos daemon exited'); })]);
        out += chunk as string;
      }
      d.stdout!.resume();
      return d;
    };
    const t = Object.fromEntries(rows.map((r) => [r, [] as number[]])) as Record<(typeof rows)[number], number[]>;
    for (let r = -1; r < reps; r++) {
      const s: Partial<Record<(typeof rows)[number], number>> = {};
      settle();
      s.cp = timed(() => execFileSync('cp', [src, out]));
      await rm(out);
      settle();
      let flush = 0;
      s['cp + sync'] = timed(() => {
        execFileSync('cp', [src, out]);
        flush = timed(() => execFileSync('sync', ['-f', out]));
      });
      s['fsync alone'] = flush;
      await rm(out);
      settle();
      s['dd bs=4M'] = timed(() => execFileSync('dd', [`if=${src}`, `of=${out}`, 'bs=4M', 'status=none']));
      await rm(out);
      settle();
      s['node -e 0'] = timed(() => execFileSync(process.execPath, ['-e', '0'], { env }));
      settle();
      s['deimos ping'] = timed(() => deimos('ping'));
      settle();
      s['deimos put'] = timed(() => deimos('put', src, `bench/${r + 1}`));
      settle();
      s['deimos get'] = timed(() => deimos('get', `bench/${r + 1}`, out));
      execFileSync('cmp', [src, out]);
      await rm(out);
      deimos('delete', '--hard', `bench/${r + 1}`);
      const stopService = async (d: ChildProcess) => {
        d.kill('SIGTERM');
        if (d.exitCode === null) await once(d, 'exit');
      };
      let service = await startService();
      try {
        settle();
        s['deimos ping (service)'] = timed(() => deimos('ping'));
        settle();
        s['deimos put (service)'] = timed(() => deimos('put', src, `bench/s${r + 1}`));
        settle();
        s['deimos get (service)'] = timed(() => deimos('get', `bench/s${r + 1}`, out));
        execFileSync('cmp', [src, out]);
        await rm(out);
        deimos('delete', '--hard', `bench/s${r + 1}`);
        await stopService(service);
        service = await startService({ DEIMOS_STORE_FSYNC: 'false' });
        settle();
        s['deimos put (service, no fsync)'] = timed(() => deimos('put', src, `bench/n${r + 1}`));
        deimos('delete', '--hard', `bench/n${r + 1}`);
      } finally {
        await stopService(service);
      }
      if (r >= 0) for (const k of rows) t[k].push(s[k]!);
    }
    const mbps = (sec: number) => (bytes / sec / 1e6).toFixed(0);
    const cp = median(t.cp);
    const cpSync = median(t['cp + sync']);
    console.log(`# ${sizeMiB} MiB on a directory medium, ${reps} repetitions (+1 warm-up), medians; sync + ${settleS} s idle before each; ${new Date().toISOString().slice(0, 16)}Z, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}`);
    console.log('| operation | median s | min s | MB/s (median) | speed vs cp | speed vs cp + sync |');
    console.log('|---|---|---|---|---|---|');
    for (const k of rows) {
      const m = median(t[k]);
      const ratios = noRatio.has(k) ? '– | –' : `${(cp / m).toFixed(2)}× | ${(cpSync / m).toFixed(2)}×`;
      console.log(`| ${k} | ${m.toFixed(2)} | ${Math.min(...t[k]).toFixed(2)} | ${noRatio.has(k) ? '–' : mbps(m)} | ${ratios} |`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
