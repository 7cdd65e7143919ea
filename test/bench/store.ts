/**
 * Put and get of a large file on a directory medium against plain `cp` of the
 * same file, side by side in one run, several repetitions, medians and ratios.
 * Usage: node dist/test/bench/store.js [SIZE_MIB=1024] [REPS=3]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.js';

const sizeMiB = Number(process.argv[2] ?? 1024);
const reps = Number(process.argv[3] ?? 3);

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'deimos-bench-'));
  const env = { ...process.env, DEIMOS_HOME: join(root, 'home'), DEIMOS_CONFIG: '/dev/null', DEIMOS_LOG_LEVEL: 'error' };
  const deimos = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { env, cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
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
    const t: Record<string, number[]> = { cp: [], 'cp+sync': [], put: [], get: [] };
    for (let r = 0; r < reps; r++) {
      execFileSync('sync');
      t.cp!.push(timed(() => execFileSync('cp', [src, join(root, 'cp.out')])));
      await rm(join(root, 'cp.out'));
      execFileSync('sync');
      t['cp+sync']!.push(timed(() => { execFileSync('cp', [src, join(root, 'cp.out')]); execFileSync('sync', ['-f', join(root, 'cp.out')]); }));
      await rm(join(root, 'cp.out'));
      execFileSync('sync');
      t.put!.push(timed(() => deimos('put', src, `bench/${r}`)));
      execFileSync('sync');
      t.get!.push(timed(() => deimos('get', `bench/${r}`, join(root, 'get.out'))));
      await rm(join(root, 'get.out'));
      deimos('delete', '--hard', `bench/${r}`);
    }
    const mbps = (s: number) => (bytes / s / 1e6).toFixed(0);
    const cp = median(t.cp!);
    console.log(`# ${sizeMiB} MiB on a directory medium, ${reps} repetitions, medians (same file system, page cache warm)`);
    console.log('| operation | median s | MB/s | throughput vs cp |');
    console.log('|---|---|---|---|');
    for (const [name, xs] of Object.entries(t)) {
      const m = median(xs);
      console.log(`| ${name} | ${m.toFixed(2)} | ${mbps(m)} | ${(cp / m).toFixed(2)}× |`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
