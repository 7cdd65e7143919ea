import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountDemo } from './mount.js';

/**
 * The main job on the embedded default: a throw-away store on temporary
 * directory media driven through the real CLI, then the mount on the
 * default sim library (src/demo/mount.ts).
 */
const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/deimos');

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-demo-'));
  const env = { ...process.env, DEIMOS_HOME: join(root, 'home'), DEIMOS_CONFIG: process.env.DEIMOS_CONFIG ?? '/dev/null' };
  const sh = (args: string[]) => new Promise<string>((ok, ko) => {
    process.stdout.write(`$ deimos ${args.join(' ')}\n`);
    execFile(BIN, [...args], { env, cwd: root }, (err, stdout, stderr) => {
      if (stdout) process.stdout.write(stdout.replace(/^(?=.)/gm, '  '));
      if (stderr) process.stderr.write(stderr);
      if (err) ko(new Error(`deimos ${args[0]} failed (exit ${err.code})`)); else ok(stdout);
    });
  });
  try {
    for (const d of ['disk1', 'disk2', 'disk3']) await mkdir(join(root, d));
    await sh(['dir', 'add', `${root}/disk[1-3]`]);
    await sh(['dir', 'format', '--fs', 'posix', '--unlock', `${root}/disk[1-3]`]);
    await sh(['dir', 'list', '-o', 'name,adm_status,fs_status', '-f', 'human']);

    const files: Record<string, Buffer> = {
      'results/run1/summary.txt': Buffer.from('run 1: 42 events\n'),
      'results/run1/data.bin': randomBytes(8 << 20),
      'results/run2/data.bin': randomBytes(3 << 20),
    };
    let i = 0;
    for (const [oid, data] of Object.entries(files)) {
      const src = join(root, `src${i++}`);
      await writeFile(src, data);
      const layout = oid.endsWith('summary.txt') ? ['--layout', 'raid1', '--lyt-params', 'repl_count=2'] : oid.includes('run2') ? ['--layout', 'raid4'] : [];
      await sh(['put', ...layout, '-m', `source=demo`, src, oid]);
    }
    await sh(['object', 'list', '-o', 'oid,version,size', '-f', 'human']);
    await sh(['extent', 'list', '-o', 'oid,layout,layout_index,medium', '-f', 'human']);

    let same = 0;
    for (const [oid, data] of Object.entries(files)) {
      const out = join(root, `back-${same}`);
      await sh(['get', oid, out]);
      const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      if (digest(await readFile(out)) !== digest(data)) throw new Error(`${oid}: bytes differ`);
      same++;
    }
    process.stdout.write(`demo: ${same}/${Object.keys(files).length} objects came back byte-identical\n\n`);
    process.stdout.write('# The mount: rsync in, flush to tape, evict, read back through recalls\n');
    await mountDemo(BIN, root);
    process.stdout.write('demo: done\n');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exit(1);
});
