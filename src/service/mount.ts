/**
 * `deimos mount`: the service with a file system. One process owns the
 * store (lock), serves the CLI on its socket, runs the disk cache (recovered
 * at start, so dirty data of an earlier run is flushed) and the FUSE mount,
 * until SIGTERM/SIGINT, `deimos umount` or an unmount from outside.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DeimosError, homePaths, type Config, type Logger } from '../core/index.js';
import { Vfs } from '../fs/index.js';
import { mountVfs, prepareMountpoint } from '../fs/mount.js';
import { dispatch } from './commands/index.js';
import { openCopy } from './copyReader.js';
import { OwnerLock } from './lock.js';
import { signalled } from './run.js';
import { CommandServer } from './server.js';
import { Service } from './service.js';

export interface MountRunOptions {
  home: string;
  config: Config;
  log: Logger;
  mountpoint: string;
  allowOther?: boolean;
  /** Raw -o options for libfuse2. */
  fuseOptions?: string[];
  /** Called once the file system answers (a detached `deimos mount` returns then). */
  onReady?: () => void;
}

export async function runMount(o: MountRunOptions): Promise<void> {
  const paths = homePaths(o.home);
  const mountpoint = resolve(o.mountpoint);
  const log = o.log;
  await mkdir(paths.home, { recursive: true });
  // Checked before taking the store, so that a busy mount point is a clear error.
  await prepareMountpoint(mountpoint, log);
  // A service that was just stopped or killed may hold the lock (or be a zombie) a moment longer.
  let lock = await OwnerLock.acquire(paths.lock);
  for (let i = 0; 'heldBy' in lock && i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    lock = await OwnerLock.acquire(paths.lock);
  }
  if ('heldBy' in lock) {
    throw new DeimosError('EBUSY', `a service (pid ${lock.heldBy}) already owns the store in ${paths.home}`,
      "stop it first (deimos umount, or end that 'deimos daemon'), or use another DEIMOS_HOME");
  }
  try {
    const svc = await Service.open(o);
    try {
      const { cache } = await svc.openCache();
      svc.cache = cache;
      try {
        await serve(svc, cache, o, mountpoint);
      } finally {
        svc.cache = null;
        await cache.shutdown();
      }
    } finally {
      await svc.close();
    }
  } finally {
    await lock.release();
  }
}

async function serve(svc: Service, cache: NonNullable<Service['cache']>, o: MountRunOptions, mountpoint: string): Promise<void> {
  const log = o.log;
  const vfs = new Vfs({ catalog: svc.catalog, cache, log: log.child({ box: 'fs' }), openCopy: (obj, copy) => openCopy(svc, obj, copy) });
  await vfs.init();
  // A command may change the catalog behind the mount's back: forget cached attributes after each.
  const server = new CommandServer((req, ctx) => dispatch(svc, req, ctx).finally(() => vfs.invalidate()), log);
  await server.listen(svc.paths.socket);
  try {
    const spin = svc.config.str('fuse', 'spin_us');
    const m = await mountVfs(mountpoint, vfs, log, {
      allowOther: o.allowOther, extra: o.fuseOptions, direct: svc.config.bool('fuse', 'direct'), spinUs: spin === '' ? undefined : svc.config.num('fuse', 'spin_us'),
    });
    let stop!: () => void;
    const stopped = new Promise<void>((r) => { stop = r; });
    svc.mount = { mountpoint, stop };
    log.info({ mountpoint, home: svc.paths.home }, 'mounted');
    o.onReady?.();
    const why = await Promise.race([
      signalled().then(() => 'signal'), stopped.then(() => 'umount command'), m.gone.then(() => 'unmounted from outside'),
    ]);
    log.info({ mountpoint, why }, 'unmounting');
    svc.mount = null;
    await m.unmount();
    await vfs.closeAll();
  } finally {
    await server.close();
  }
}
