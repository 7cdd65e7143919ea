import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real CLI binary of this checkout. */
export const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/deimos');

export interface RunResult { code: number; stdout: string; stderr: string }

export interface TmpStore {
  root: string;
  home: string;
  env: NodeJS.ProcessEnv;
  /** Makes `n` directories under root (media) and returns their paths. */
  dirs(n: number, prefix?: string): Promise<string[]>;
  run(args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult>;
  /** Runs and throws with stderr unless the exit code is 0. */
  ok(args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<string>;
  startDaemon(): Promise<ChildProcess>;
  cleanup(): Promise<void>;
}

export async function tmpStore(extraEnv: NodeJS.ProcessEnv = {}): Promise<TmpStore> {
  const root = await mkdtemp(join(tmpdir(), 'deimos-t-'));
  const home = join(root, 'home');
  const env: NodeJS.ProcessEnv = {
    ...process.env, DEIMOS_HOME: home, DEIMOS_CONFIG: '/dev/null', DEIMOS_LOG_LEVEL: 'error', DEIMOS_LOG_DAEMON_LEVEL: 'warn', ...extraEnv,
  };
  const daemons: ChildProcess[] = [];
  let nextDir = 0;
  const run: TmpStore['run'] = (args, opts = {}) => new Promise((res) => {
    const child = execFile(BIN, [...args], { env: { ...env, ...opts.env }, cwd: opts.cwd ?? root, maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
  return {
    root, home, env, run,
    async dirs(n, prefix = 'd') {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const p = join(root, `${prefix}${nextDir++}`);
        await mkdir(p, { recursive: true });
        out.push(p);
      }
      return out;
    },
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`deimos ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    async startDaemon() {
      const child = spawn(BIN, ['daemon'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      daemons.push(child);
      await new Promise<void>((res, rej) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) res(); });
        child.once('exit', (code) => rej(new Error(`daemon exited ${code}`)));
      });
      return child;
    },
    async cleanup() {
      for (const d of daemons) if (d.exitCode === null) { d.kill('SIGTERM'); await new Promise((r) => d.once('exit', r)); }
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Adds, formats and unlocks `n` directory media; returns their paths. */
export async function withDirMedia(s: TmpStore, n: number, tags?: string): Promise<string[]> {
  const dirs = await s.dirs(n);
  await s.ok(['dir', 'add', ...dirs, ...(tags ? ['--tags', tags] : [])]);
  await s.ok(['dir', 'format', '--fs', 'posix', '--unlock', ...dirs]);
  return dirs;
}
