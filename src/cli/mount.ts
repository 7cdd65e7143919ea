/**
 * `deimos mount` and `deimos umount`. Without --foreground, mount starts
 * itself again in the background (detached, logging to $DEIMOS_HOME/mount.log)
 * and returns once that process reports the file system up, or its error.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DeimosError, fromJSON, homePaths, toDeimosError, type Config, type ErrnoName, type Logger } from '../core/index.js';
import { callService, OwnerLock, runMount } from '../service/index.js';
import { isMounted } from '../fs/mount.js';

export interface MountFlags {
  cacheDir?: string;
  cacheSize?: string;
  foreground?: boolean;
  /** -o values, each a comma list. */
  options?: string[];
}

interface Env { config: Config; log: Logger; home: string }

type ChildMessage = { type: 'ready' } | { type: 'error'; error: { code: ErrnoName; message: string; hint?: string } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function mountAction(env: Env, mountpoint: string, f: MountFlags): Promise<void> {
  if (!f.foreground) return detach(env.home, mountpoint);
  if (f.cacheDir) env.config.set('cache', 'dir', resolve(f.cacheDir));
  if (f.cacheSize) env.config.set('cache', 'size', f.cacheSize);
  const opts = (f.options ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  const notify = (m: ChildMessage) => { if (process.send) process.send(m, () => process.disconnect()); };
  try {
    await runMount({
      ...env, mountpoint,
      allowOther: opts.includes('allow_other'),
      fuseOptions: opts.filter((o) => o !== 'allow_other'),
      onReady: () => {
        if (process.send) notify({ type: 'ready' });
        else process.stdout.write(`deimos: mounted on ${resolve(mountpoint)} (pid ${process.pid})\n`);
      },
    });
  } catch (e) {
    notify({ type: 'error', error: toDeimosError(e).toJSON() });
    throw e;
  }
}

/** Runs this same command with --foreground in a new session and waits for its first word. */
async function detach(home: string, mountpoint: string): Promise<void> {
  await mkdir(home, { recursive: true });
  const logFile = join(home, 'mount.log');
  const out = await open(logFile, 'a');
  try {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2), '--foreground'], {
      detached: true, stdio: ['ignore', out.fd, out.fd, 'ipc'], env: process.env,
    });
    const result = await new Promise<ChildMessage | { type: 'exit'; code: number | null }>((res) => {
      child.once('message', (m) => res(m as ChildMessage));
      child.once('exit', (code) => res({ type: 'exit', code }));
    });
    if (result.type === 'error') throw fromJSON(result.error);
    if (result.type === 'exit') {
      throw new DeimosError('EIO', `the mount process exited (code ${result.code}) before mounting ${resolve(mountpoint)}`, `see ${logFile}`);
    }
    child.unref();
    child.channel?.unref();
    process.stdout.write(`deimos: mounted on ${resolve(mountpoint)} (pid ${child.pid}, log ${logFile})\n`);
  } finally {
    await out.close();
  }
}

/**
 * Asks the service that serves MOUNTPOINT to unmount and stop (dirty files
 * stay in the cache, flushed at the next start), and waits until it has.
 * With no service of this store answering, falls back to fusermount -u (a
 * service of another store notices and stops too; a stale mount is cleared).
 */
export async function umountAction(env: Env, mountpoint: string): Promise<void> {
  const mnt = resolve(mountpoint);
  const paths = homePaths(env.home);
  const req = { cmd: 'umount', args: { mountpoint: mnt }, cwd: process.cwd(), uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  let served = false;
  try {
    served = (await callService(paths.socket, req, () => undefined)) !== null;
  } catch (e) {
    if (!(e instanceof DeimosError && e.code === 'EINVAL')) throw e;
  }
  if (served) {
    // The mount goes at once; the service may then finish a put already on its way to tape.
    const start = Date.now();
    let told = false;
    while ((await OwnerLock.owner(paths.lock)) !== null) {
      if (!told && Date.now() - start > 5_000) {
        process.stderr.write(`deimos: ${mnt} is unmounted; waiting for the service to finish the writes in flight\n`);
        told = true;
      }
      if (Date.now() - start > 900_000) throw new DeimosError('ETIMEDOUT', `the service of ${mnt} is still stopping`, `see ${join(env.home, 'mount.log')}`);
      await sleep(100);
    }
    return;
  }
  if (!(await isMounted(mnt))) throw new DeimosError('EINVAL', `${mnt} is not mounted`, 'check the mount point (mount | grep deimos)');
  await promisify(execFile)('fusermount', ['-u', mnt]).catch(async (e: Error & { stderr?: string }) => {
    if (!/not connected/.test(e.stderr ?? '')) {
      throw new DeimosError('EBUSY', `cannot unmount ${mnt}: ${(e.stderr ?? e.message).trim()}`, 'close the files open there (lsof), or fusermount -uz');
    }
    await promisify(execFile)('fusermount', ['-uz', mnt]);
  });
  const deadline = Date.now() + 30_000;
  while (await isMounted(mnt)) {
    if (Date.now() > deadline) throw new DeimosError('ETIMEDOUT', `${mnt} is still mounted`, 'fusermount -uz');
    await sleep(50);
  }
}
