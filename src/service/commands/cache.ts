/**
 * Commands of a mounted service's disk cache: stage (queue recalls), flush
 * (write dirty files to their media now), umount. PATH arguments are paths
 * in the mount (absolute, or relative to the caller's directory) or oids.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { DeimosError } from '../../core/index.js';
import type { ObjectRow } from '../../catalog/index.js';
import type { Service } from '../service.js';
import type { CallContext } from '../protocol.js';
import { list, type Registry } from './registry.js';

/** The oid a PATH argument names: a path below the mount point, or the argument itself. */
export function oidOf(svc: Service, arg: string, cwd: string): string {
  const mnt = svc.mount?.mountpoint;
  if (mnt) {
    const abs = resolve(cwd, arg);
    const rel = relative(mnt, abs);
    if (rel === '') return '';
    if (!rel.startsWith('..') && !isAbsolute(rel)) return rel;
  }
  if (isAbsolute(arg)) throw new DeimosError('EINVAL', `'${arg}' is not in the mount (${mnt ?? 'none'})`, 'give a path in the mount or an object id');
  return arg.replace(/^\.\/+/, '').replace(/\/+$/, '');
}

/** Alive objects a list of PATH arguments names: files, or with `recursive` everything below directories. */
async function objectsOf(svc: Service, args: string[], recursive: boolean, ctx: CallContext): Promise<ObjectRow[]> {
  const out = new Map<string, ObjectRow>();
  for (const arg of args) {
    const oid = oidOf(svc, arg, ctx.cwd);
    const e = await svc.catalog.lookup(oid);
    if (!e) throw new DeimosError('ENOENT', `'${arg}' does not exist`, 'check the path');
    if (e.type === 'file') out.set(e.row.oid, e.row);
    else if (e.type === 'dir') {
      if (!recursive) throw new DeimosError('EISDIR', `'${arg}' is a directory`, 'use -r to take everything below it');
      // Loaded here, not at start: the fs box is the FUSE side, which other commands never need.
      const { treePattern } = await import('../../fs/index.js');
      const rows = await svc.catalog.listObjects({ pattern: treePattern(oid) });
      for (const r of rows) out.set(r.oid, r);
    }
  }
  return [...out.values()];
}

export const cacheCommands: Registry = {
  // With no mount, the commands open the cache themselves and wait: nobody would finish the work after them.
  async stage(svc, a, ctx) {
    const objs = await objectsOf(svc, list(a.paths), Boolean(a.recursive), ctx);
    if (objs.length === 0) throw new DeimosError('EINVAL', 'nothing to stage', 'name files, or directories with -r');
    return svc.withCache(async (cache, mounted) => {
      await cache.stage(objs, { wait: !mounted });
      const n = `${objs.length} file${objs.length === 1 ? '' : 's'}`;
      return { lines: [mounted ? `${n} queued for staging` : `${n} staged`] };
    });
  },

  async flush(svc, a, ctx) {
    const paths = list(a.paths);
    const objs = paths.length ? await objectsOf(svc, paths, true, ctx) : undefined;
    await svc.withCache((cache, mounted) => cache.flush(objs, { wait: Boolean(a.wait) || !mounted }));
    return {};
  },

  async umount(svc, a) {
    const m = svc.mount;
    if (!m) throw new DeimosError('EINVAL', 'this service serves no mount', "stop 'deimos daemon' with SIGTERM instead");
    if (a.mountpoint && resolve(String(a.mountpoint)) !== m.mountpoint) {
      throw new DeimosError('EINVAL', `this service serves ${m.mountpoint}, not ${String(a.mountpoint)}`, `deimos umount ${m.mountpoint}`);
    }
    // Answer first: the unmount closes this very socket server.
    setImmediate(() => m.stop());
    return { document: { pid: process.pid, mountpoint: m.mountpoint } };
  },
};
