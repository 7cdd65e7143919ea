/**
 * Mounting a Vfs: clears a stale mount left by a killed process, refuses a
 * live one, mounts with the options a tape-backed file system needs, and
 * tells when the mount goes away (umount from outside, fusermount -u).
 *
 * The serving process never touches its own mount synchronously; the only
 * look at it is /proc/self/mountinfo, which the kernel answers.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DeimosError, type Logger } from '../core/index.js';
import { createFuse, forceUnmount, mountOptions } from './fuseBinding.js';
import { fuseOps } from './fuseOps.js';
import type { Vfs } from './vfs.js';

export interface MountOptions {
  allowOther?: boolean;
  /** More -o options for libfuse2 (e.g. from `deimos mount -o`). */
  extra?: string[];
  /** How often the mount table is checked for an unmount done from outside. */
  pollMs?: number;
  /** Kernel readahead of the mount in KiB (default 1024; 0 leaves the kernel's 128). */
  readaheadKb?: number;
  /** Serve data on the libfuse threads (the patched addon's direct path); default true. */
  direct?: boolean;
  /** µs a libfuse worker polls for JS's answer before it sleeps (the addon's DEIMOS_FUSE_SPIN_US); default spinDefault(). */
  spinUs?: number;
}

/**
 * How long a libfuse worker polls for JS's answer before it sleeps on a
 * semaphore. Polling saves a futex wake-up and a context switch per op when
 * a core is free to poll on; with two cores shared by the service, the
 * program using the mount and the kernel, the poll takes that core from
 * them: on this 2-core machine under load, tar x and rsync -a of 2,000
 * files used 30% more service CPU and ran about 20% slower with 50 µs than
 * with 0 (A/B, README). So: 0 on two cores or fewer, 50 µs above.
 */
export function spinDefault(cpus: number): number {
  return cpus <= 2 ? 0 : 50;
}

export interface MountedFs {
  readonly mountpoint: string;
  /** Resolves when the mount is gone, whoever unmounted it. */
  readonly gone: Promise<void>;
  unmount(): Promise<void>;
}

/**
 * Why these options: default_permissions makes the kernel enforce the
 * stored modes and owners; atomic_o_trunc passes O_TRUNC to open, instead of
 * an open for writing (which would first recall an archived file) followed
 * by a truncate; attribute and entry timeouts stay at libfuse's 1 s. Not
 * auto_cache: with it, a directory's times set by rsync -a were sometimes
 * not what stat showed after it (2 of 5 runs of the mount tests under load,
 * 0 of 5 without; cause not found), though it made a second read of a file
 * 7× faster.
 */
const ALWAYS = ['atomic_o_trunc'];

export async function mountVfs(mnt: string, vfs: Vfs, log: Logger, o: MountOptions = {}): Promise<MountedFs> {
  const mountpoint = resolve(mnt);
  await prepareMountpoint(mountpoint, log);
  const extra = [...ALWAYS, ...(o.extra ?? []).filter((x) => !ALWAYS.includes(x))];
  // Read by the addon at its first op, once per process.
  process.env.DEIMOS_FUSE_SPIN_US = String(o.spinUs ?? spinDefault(availableParallelism()));
  const fuse = createFuse(mountpoint, fuseOps(vfs, log), mountOptions({
    fsname: 'deimos', subtype: 'deimos', defaultPermissions: true, allowOther: o.allowOther ?? false, extra,
    // Only user.* attributes are stored; the kernel's security.capability before each write is refused in the addon.
    xattrPrefix: 'user.',
    // As long as the service's own attribute cache keeps an entry.
    attrCacheMs: vfs.attrs.ttlMs,
  }));
  if (o.direct !== false) vfs.useDirect(fuse.direct);
  vfs.useAttrMirror(fuse.attrs);
  try {
    await fuse.mount();
  } catch (e) {
    throw new DeimosError('EIO', `cannot mount on ${mountpoint}: ${(e as Error).message}`, 'check /dev/fuse, fusermount and the mount point');
  }
  await setReadahead(mountpoint, o.readaheadKb ?? 1024, log);
  let unmounting: Promise<void> | null = null;
  const gone = new Promise<void>((res) => {
    const timer = setInterval(() => {
      isMounted(mountpoint).then((m) => { if (!m) { clearInterval(timer); res(); } }, () => undefined);
    }, o.pollMs ?? 500);
  });
  return {
    mountpoint,
    gone,
    unmount() {
      unmounting ??= (async () => {
        if (await isMounted(mountpoint)) {
          // Lazy: a shell whose cwd is inside must not keep the service alive.
          await fuse.unmount().catch(async (e: Error) => {
            log.warn({ err: e, mountpoint }, 'unmount failed; detaching lazily');
            await forceUnmount(mountpoint).catch(() => undefined);
          });
        }
        await gone;
      })();
      return unmounting;
    },
  };
}

/** A directory to mount on: a stale FUSE mount on it is cleared, a live mount is refused. */
export async function prepareMountpoint(mountpoint: string, log: Logger): Promise<void> {
  const st = await stat(mountpoint).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) {
    if (st.code === 'ENOTCONN' || st.code === 'ECONNABORTED') {
      log.warn({ mountpoint }, 'clearing a stale mount left by a process that died');
      await forceUnmount(mountpoint).catch((e: Error) => {
        throw new DeimosError('EBUSY', `cannot clear the stale mount on ${mountpoint}: ${e.message}`, `run 'fusermount -uz ${mountpoint}'`);
      });
      return prepareMountpoint(mountpoint, log);
    }
    if (st.code === 'ENOENT') throw new DeimosError('ENOENT', `mount point ${mountpoint} does not exist`, `create it: mkdir -p ${mountpoint}`);
    throw new DeimosError('EIO', `cannot use ${mountpoint}: ${st.message}`);
  }
  if (!st.isDirectory()) throw new DeimosError('ENOTDIR', `mount point ${mountpoint} is not a directory`, 'give a directory');
  if (await isMounted(mountpoint)) {
    throw new DeimosError('EBUSY', `${mountpoint} is already mounted`, `unmount it first ('deimos umount ${mountpoint}')`);
  }
}

/** True when something is mounted exactly on `mountpoint` (from the kernel's mount table). */
export async function isMounted(mountpoint: string): Promise<boolean> {
  return (await mountDevice(mountpoint)) !== null;
}

/** The device (major:minor) of what is mounted exactly on `mountpoint`, null when nothing is. */
export async function mountDevice(mountpoint: string): Promise<string | null> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  let dev: string | null = null;
  for (const line of table.split('\n')) {
    const f = line.split(' ');
    // The last line for a mount point is the mount on top.
    if (f.length > 4 && unescapeMountPath(f[4]!) === mountpoint) dev = f[2]!;
  }
  return dev;
}

/**
 * The kernel reads a FUSE file ahead by at most 128 KiB (its default for a
 * new backing device; the init reply can only lower it): one request in
 * flight, so a sequential read waits for each round trip through the
 * service. A larger window keeps several reads in flight. Only root may
 * write sysfs: otherwise the mount keeps the default (logged, not an error).
 */
async function setReadahead(mountpoint: string, kb: number, log: Logger): Promise<void> {
  if (kb <= 0) return;
  const dev = await mountDevice(mountpoint).catch(() => null);
  if (!dev) return;
  const file = `/sys/class/bdi/${dev}/read_ahead_kb`;
  await writeFile(file, `${kb}\n`).then(
    () => log.debug({ mountpoint, kb }, 'readahead set'),
    (err: Error) => log.info({ mountpoint, file, reason: err.message }, 'cannot raise the readahead of the mount; large reads stay slower'),
  );
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}
