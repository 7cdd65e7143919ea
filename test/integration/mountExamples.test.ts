import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BIN, tmpStore } from '../helpers/cli.js';

const run = promisify(execFile);
const EXAMPLES = resolve(fileURLToPath(import.meta.url), '../../../../mount-examples');

async function code(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(cmd, args, { env });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

test('mount helper and backup scripts run unattended and report through their exit codes', async (t) => {
  const s = await tmpStore({ DEIMOS_LIBRARY_TIME_SCALE: '0.001', DEIMOS_LIBRARY_CAPACITY_LTO9: '4G' });
  const env = { ...s.env, PATH: `${dirname(BIN)}:${process.env.PATH}` };
  const mnt = join(s.root, 'mnt');
  const src = join(s.root, 'src');
  try {
    await mkdir(join(src, 'a', 'b'), { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(join(src, 'a', 'b', `f ${i}`), randomBytes(50_000 + i));
    await mkdir(mnt);
    await s.ok(['drive', 'add', '--unlock', 'st[0-3]']);
    await s.ok(['tape', 'add', '--type', 'LTO9', '--unlock', 'L[00000-00003]L9']);
    await s.ok(['tape', 'format', 'L[00000-00003]L9']);

    // Not mounted: the scripts refuse rather than fill the local disk.
    t.is((await code(join(EXAMPLES, 'backup-rsync.sh'), [src, join(mnt, 'backups', 'src')], env)).code, 2);

    // What mount(8) runs for an fstab line (mount-examples/fstab).
    const m = await code(join(EXAMPLES, 'mount.fuse.deimos'), ['deimos', mnt, '-o', `rw,nofail,_netdev,home=${s.home},cache_dir=${join(s.root, 'cache')},cache_size=1G`], env);
    t.is(m.code, 0, m.stderr);
    try {
      const r1 = await code(join(EXAMPLES, 'backup-rsync.sh'), [src, join(mnt, 'backups', 'src')], env);
      t.is(r1.code, 0, r1.stderr);
      t.regex(r1.stderr, /on tape/);
      await run('diff', ['-r', src, join(mnt, 'backups', 'src')]);
      const state = await run('getfattr', ['--only-values', '-n', 'user.deimos.state', join(mnt, 'backups', 'src', 'a', 'b', 'f 0')]);
      t.is(state.stdout, 'online', 'flushed to tape and still cached');
      t.is((await code(join(EXAMPLES, 'backup-rsync.sh'), [src, join(mnt, 'backups', 'src')], env)).code, 0, 'a second run has nothing to send');

      const r2 = await code(join(EXAMPLES, 'backup-tar.sh'), [src, join(mnt, 'tars'), 'src'], env);
      t.is(r2.code, 0, r2.stderr);
      const tars = await readdir(join(mnt, 'tars'));
      t.is(tars.length, 1);
      t.regex(tars[0]!, /^src-\d{8}-\d{6}\.tar\.gz$/);
      await run('tar', ['-tzf', join(mnt, 'tars', tars[0]!)]);
      t.is((await code(join(EXAMPLES, 'backup-tar.sh'), [join(s.root, 'missing'), join(mnt, 'tars'), 'x'], env)).code, 2, 'tar of a missing tree fails');
      t.deepEqual((await readdir(join(mnt, 'tars'))).filter((n) => n.startsWith('x') || n.startsWith('.x')), [], 'no half archive left');
    } finally {
      await s.ok(['umount', mnt]);
    }
  } finally {
    await run('fusermount', ['-uz', mnt]).catch(() => undefined);
    await s.cleanup();
  }
});
