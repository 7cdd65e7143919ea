import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { DeimosError, pidAlive } from '../core/index.js';

/**
 * The lock that makes one process the owner of a store's resources. It is a
 * file holding the owner's pid, created with link(2) so that creation is
 * atomic. A lock whose pid is dead is stale and is taken over; breaking it is
 * itself guarded by a second lock file, so two processes that find the same
 * stale lock cannot both take it.
 */
export class OwnerLock {
  private constructor(readonly path: string, readonly pid: number) {}

  /** The lock, or the pid of the live process that holds it. */
  static async acquire(path: string): Promise<OwnerLock | { heldBy: number }> {
    const pid = process.pid;
    const tmp = `${path}.${pid}`;
    await writeFile(tmp, `${pid}\n`);
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        if (await tryLink(tmp, path)) return new OwnerLock(path, pid);
        const holder = await readPid(path);
        if (holder === pid) return new OwnerLock(path, pid);
        if (holder !== null && pidAlive(holder)) return { heldBy: holder };
        await breakStale(path, holder, tmp);
      }
      throw new DeimosError('EBUSY', `cannot take the lock ${path}`, 'another process keeps taking it; retry');
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Pid of the live owner, or null. */
  static async owner(path: string): Promise<number | null> {
    const holder = await readPid(path);
    return holder !== null && pidAlive(holder) ? holder : null;
  }

  async release(): Promise<void> {
    if ((await readPid(this.path)) === this.pid) await unlink(this.path).catch(() => undefined);
  }
}

async function tryLink(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

async function readPid(path: string): Promise<number | null> {
  try {
    const n = parseInt(await readFile(path, 'utf8'), 10);
    return Number.isFinite(n) ? n : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function breakStale(path: string, stalePid: number | null, tmp: string): Promise<void> {
  const guard = `${path}.break`;
  if (!(await tryLink(tmp, guard))) {
    const breaker = await readPid(guard);
    if (breaker !== null && pidAlive(breaker)) {
      await new Promise((r) => setTimeout(r, 20));
      return;
    }
    await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    // Re-check under the guard: another breaker may already have replaced it.
    const holder = await readPid(path);
    if (holder === stalePid) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}
