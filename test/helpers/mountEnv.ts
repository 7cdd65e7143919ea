/**
 * A store with the sim tape library on the scaled real clock, mounted by a
 * CHILD process (`deimos mount --foreground`): the test process only ever
 * touches the mount asynchronously, and never serves it. A mount that does
 * not come up fails the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, tmpStore, type TmpStore } from './cli.js';

export const exec = promisify(execFile);

/** 17 s loads take 17 ms; small cartridges; dirty files flushed after 2 s. */
export const SIM_ENV: NodeJS.ProcessEnv = {
  DEIMOS_LIBRARY_TIME_SCALE: '0.001', DEIMOS_LIBRARY_CAPACITY_LTO9: '2G', DEIMOS_LIBRARY_CAPACITY_LTO8: '1G',
  DEIMOS_CACHE_FLUSH_AGE_MS: '2000', DEIMOS_LOG_DAEMON_LEVEL: 'info',
};

export interface Mounted {
  child: ChildProcess;
  mnt: string;
  log(): string;
  /** SIGTERM, wait for the exit, then clear whatever is left (fusermount -uz). */
  stop(): Promise<number | null>;
}

/** A store on the sim library: its drives (DEIMOS_LIBRARY_DRIVES, default st[0-3]) added, four cartridges formatted. */
export async function libraryStore(extra: NodeJS.ProcessEnv = {}): Promise<TmpStore> {
  const s = await tmpStore({ ...SIM_ENV, ...extra });
  await s.ok(['drive', 'add', '--unlock', extra.DEIMOS_LIBRARY_DRIVES ?? 'st[0-3]']);
  await s.ok(['tape', 'add', '--type', 'LTO9', '--unlock', 'L[00000-00003]L9']);
  await s.ok(['tape', 'format', 'L[00000-00003]L9']);
  return s;
}

export async function mountChild(s: TmpStore, name = 'mnt', args: string[] = []): Promise<Mounted> {
  const mnt = join(s.root, name);
  await mkdir(mnt, { recursive: true });
  const child = spawn(BIN, ['mount', '--foreground', ...args, mnt], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the mount did not come up in 60 s:\n${out}`)), 60_000);
    const onData = () => { if (out.includes('mounted on')) { clearTimeout(timer); child.off('exit', onExit); res(); } };
    const onExit = (code: number | null) => { clearTimeout(timer); rej(new Error(`deimos mount exited ${code} before mounting:\n${out}`)); };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child, mnt, log: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exec('fusermount', ['-uz', mnt]).catch(() => undefined);
      return code;
    },
  };
}

/** Runs a shell command line (tools with pipes) and returns stdout; throws with stderr on failure. */
export async function sh(cmd: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const r = await exec('bash', ['-c', `set -o pipefail; ${cmd}`], { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 << 20 });
    return r.stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${cmd}\n${err.stderr ?? ''}${err.stdout ?? ''}${err.message}`);
  }
}
