import { mkdir } from 'node:fs/promises';
import { DeimosError, homePaths, type Config, type Logger } from '../core/index.js';
import { callService } from './client.js';
import { OwnerLock } from './lock.js';
import { CommandServer } from './server.js';
import { Service } from './service.js';
import { dispatch } from './commands/index.js';
import type { CallContext, CommandResult, Event, Request } from './protocol.js';

export interface RunOptions {
  home: string;
  config: Config;
  log: Logger;
  request: Request;
  onEvent: (e: Event) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one CLI command: through the running service when there is one,
 * otherwise in-process, owning the store (and serving its socket, so that
 * other commands started meanwhile join in) for the command's duration.
 */
export async function runCommand(o: RunOptions): Promise<CommandResult> {
  const paths = homePaths(o.home);
  const deadline = Date.now() + 30_000;
  await mkdir(paths.home, { recursive: true }).catch((e) => { throw lockError(e, paths.home); });
  for (;;) {
    const remote = await callService(paths.socket, o.request, o.onEvent);
    if (remote) return remote;
    o.log.debug({ cmd: o.request.cmd }, 'no service answers: running the command in-process');
    const lock = await OwnerLock.acquire(paths.lock).catch((e) => { throw lockError(e, paths.home); });
    if ('heldBy' in lock) {
      if (Date.now() > deadline) {
        throw new DeimosError('EBUSY', `process ${lock.heldBy} owns the store in ${paths.home} but does not answer on its socket`, 'check that process (deimos daemon or mount) or stop it');
      }
      await sleep(50);
      continue;
    }
    try {
      const svc = await Service.open({ home: o.home, config: o.config, log: o.log });
      const server = new CommandServer((req, ctx) => dispatch(svc, req, ctx), o.log);
      try {
        await server.listen(paths.socket);
        return await dispatch(svc, o.request, localContext(o.request, o.onEvent));
      } finally {
        await server.close();
        await svc.close();
      }
    } finally {
      await lock.release();
    }
  }
}

/** The long-running service (`deimos daemon`): serves commands until SIGTERM/SIGINT. */
export async function runDaemon(o: { home: string; config: Config; log: Logger; onReady?: () => void; stop?: Promise<void> }): Promise<void> {
  const paths = homePaths(o.home);
  await mkdir(paths.home, { recursive: true }).catch((e) => { throw lockError(e, paths.home); });
  const lock = await OwnerLock.acquire(paths.lock).catch((e) => { throw lockError(e, paths.home); });
  if ('heldBy' in lock) {
    throw new DeimosError('EBUSY', `a service (pid ${lock.heldBy}) already owns the store in ${paths.home}`, 'use it, or stop it first');
  }
  try {
    const svc = await Service.open(o);
    const server = new CommandServer((req, ctx) => dispatch(svc, req, ctx), o.log);
    try {
      await server.listen(paths.socket);
      o.log.info({ home: paths.home, pid: process.pid }, 'service ready');
      o.onReady?.();
      await (o.stop ?? signalled());
      o.log.info('service stopping');
    } finally {
      await server.close();
      await svc.close();
    }
  } finally {
    await lock.release();
  }
}

export function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const on = () => { process.off('SIGTERM', on); process.off('SIGINT', on); resolve(); };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

function localContext(req: Request, onEvent: (e: Event) => void): CallContext {
  return {
    cwd: req.cwd, uid: req.uid, gid: req.gid,
    progress: (what, done, total) => onEvent({ type: 'progress', what, done, total }),
    warn: (message) => onEvent({ type: 'warning', message }),
  };
}

function lockError(e: unknown, home: string): DeimosError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new DeimosError('EACCES', `cannot write in ${home}`, 'set DEIMOS_HOME to a directory you own');
  if (code === 'ENOENT') return new DeimosError('ENOENT', `${home} does not exist`, 'create it or set DEIMOS_HOME');
  return e instanceof DeimosError ? e : new DeimosError('EIO', `cannot take the store lock in ${home}: ${(e as Error).message}`);
}
