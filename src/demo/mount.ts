import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The main job as users see it: the default sim library on a scaled clock,
 * a mount on a temporary directory, rsync of a tree in, flush to tape,
 * eviction, read back (recalls grouped per cartridge), counters, unmount.
 * Every tool runs as a child process: the mount is served by another one.
 */
export async function mountDemo(bin: string, root: string): Promise<void> {
  const env = {
    ...process.env, DEIMOS_HOME: join(root, 'mhome'), DEIMOS_CONFIG: process.env.DEIMOS_CONFIG ?? '/dev/null',
    DEIMOS_LIBRARY_TIME_SCALE: process.env.DEIMOS_LIBRARY_TIME_SCALE ?? '0.001', DEIMOS_LIBRARY_CAPACITY_LTO9: '8G',
  };
  const sh = async (cmd: string, args: string[], quiet = false): Promise<string> => {
    process.stdout.write(`$ ${cmd === bin ? 'deimos' : cmd} ${args.join(' ')}\n`);
    const { stdout } = await run(cmd, args, { env, cwd: root, maxBuffer: 64 << 20 });
    if (!quiet && stdout) process.stdout.write(stdout.replace(/^(?=.)/gm, '  '));
    return stdout;
  };
  const deimos = (...args: string[]) => sh(bin, args);
  const mnt = join(root, 'mnt');
  const src = join(root, 'results');
  await mkdir(mnt);
  const files: Record<string, Buffer> = {};
  for (let run = 1; run <= 4; run++) {
    await mkdir(join(src, `run${run}`, 'logs'), { recursive: true });
    for (let i = 0; i < 6; i++) files[`run${run}/sample ${i}.dat`] = randomBytes(64 * 1024 * (1 + ((run * 7 + i) % 9)));
    files[`run${run}/logs/summary.txt`] = Buffer.from(`run ${run}: ok\n`);
  }
  for (const [p, data] of Object.entries(files)) await writeFile(join(src, p), data);

  await deimos('drive', 'add', '--unlock', 'st[0-3]');
  await deimos('tape', 'add', '--type', 'LTO9', '--unlock', 'L[00000-00003]L9');
  await deimos('tape', 'format', 'L[00000-00003]L9');
  await deimos('mount', mnt);
  try {
    await sh('rsync', ['-aHX', '--stats', `${src}/`, `${mnt}/results/`], true);
    const again = await sh('rsync', ['-aHX', '--stats', `${src}/`, `${mnt}/results/`], true);
    process.stdout.write(`  second rsync: ${/Number of regular files transferred: (\d+)/.exec(again)?.[1]} files transferred\n`);
    await deimos('flush', '--wait', join(mnt, 'results'));
    await sh('getfattr', ['-n', 'user.deimos.state', join(mnt, 'results/run1/sample 0.dat')]);
    await deimos('extent', 'list', '--pattern', '^results/run1/sample', '-o', 'oid,medium,address');
    // Drop every file from the cache: the next reads are recalls from tape.
    for (const p of Object.keys(files)) await run('setfattr', ['-n', 'user.deimos.release', '-v', '1', join(mnt, 'results', p)], { env });
    await sh('getfattr', ['-n', 'user.deimos.state', join(mnt, 'results/run1/sample 0.dat')]);
    process.stdout.write('$ cat every file back from tape, concurrently\n');
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const back = await Promise.all(Object.keys(files).map(async (p) => [p, (await run('cat', [join(mnt, 'results', p)], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout] as const));
    const same = back.filter(([p, b]) => digest(b as Buffer) === digest(files[p]!)).length;
    process.stdout.write(`  ${same}/${back.length} files read back byte-identical\n`);
    await sh('diff', ['-r', src, join(mnt, 'results')]);
    await deimos('status');
    if (same !== back.length) throw new Error('bytes differ after the recall');
    const listed = await readdir(join(mnt, 'results'));
    if (listed.length !== 4) throw new Error(`expected 4 runs, found ${listed.join(' ')}`);
  } finally {
    await deimos('umount', mnt);
  }
  await readFile(join(env.DEIMOS_HOME, 'catalog.db')).then(() => undefined);
  await rm(src, { recursive: true, force: true });
}
