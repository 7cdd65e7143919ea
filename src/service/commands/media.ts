import { stat, statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DeimosError, expandAll } from '../../core/index.js';
import type { Family, MediumRow } from '../../catalog/index.js';
import { formatPosixMedium } from '../../media/index.js';
import { parseTags } from '../../store/index.js';
import type { Service } from '../service.js';
import type { CallContext, CommandResult } from '../protocol.js';
import { iso, list, type Registry } from './registry.js';

export function mediumRecord(m: MediumRow): Record<string, unknown> {
  return {
    name: m.name, family: m.family, model: m.model, adm_status: m.admStatus, fs_status: m.fsStatus, fs_type: m.fsType,
    tags: m.tags, size_total: m.sizeTotal, size_used: m.sizeUsed, size_free: m.sizeFree, nb_obj: m.nbObj,
    nb_load: m.nbLoad, nb_errors: m.nbErrors, last_load: iso(m.lastLoad),
    put_access: m.putAccess, get_access: m.getAccess, delete_access: m.deleteAccess,
  };
}

/** Names of the command line, ranges expanded; dir media are absolute paths. */
export function mediaNames(family: Family, a: Record<string, any>, ctx: CallContext): string[] {
  const names = expandAll(list(a.names));
  if (names.length === 0) throw new DeimosError('EINVAL', `missing ${family === 'dir' ? 'PATH' : 'LABEL'}`, 'name at least one medium (ranges like d[1-3] work)');
  return family === 'dir' ? names.map((n) => resolve(ctx.cwd, n)) : names;
}

async function existing(svc: Service, family: Family, names: string[]): Promise<MediumRow[]> {
  const rows = await svc.catalog.listMedia({ family, names });
  const missing = names.filter((n) => !rows.some((r) => r.name === n));
  if (missing.length) {
    throw new DeimosError('ENOENT', `no ${family} medium '${missing[0]}'${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, `add it first with 'deimos ${family} add'`);
  }
  return names.map((n) => rows.find((r) => r.name === n)!);
}

/** lock/unlock/update/list/delete work alike for every family. */
export function mediaAdmin(family: Family): Registry {
  const setStatus = (admStatus: 'locked' | 'unlocked') => async (svc: Service, a: Record<string, any>, ctx: CallContext): Promise<CommandResult> => {
    const names = mediaNames(family, a, ctx);
    for (const m of await existing(svc, family, names)) {
      if (m.admStatus === 'failed' && !a.force) {
        throw new DeimosError('EPERM', `${family} '${m.name}' is failed`, `check it, then use --force to ${admStatus === 'locked' ? 'lock' : 'unlock'} it`);
      }
    }
    for (const n of names) await svc.catalog.updateMedium(family, n, { admStatus });
    return {};
  };
  return {
    [`${family}.lock`]: setStatus('locked'),
    [`${family}.unlock`]: setStatus('unlocked'),
    async [`${family}.update`](svc, a, ctx) {
      const names = mediaNames(family, a, ctx);
      await existing(svc, family, names);
      if (a.tags === undefined) throw new DeimosError('EINVAL', 'nothing to update', 'give --tags a,b (an empty --tags "" clears them)');
      for (const n of names) await svc.catalog.updateMedium(family, n, { tags: parseTags(a.tags) });
      return {};
    },
    async [`${family}.list`](svc, a, ctx) {
      const names = list(a.names).length ? mediaNames(family, a, ctx) : undefined;
      const rows = await svc.catalog.listMedia({ family, names, tags: a.tags ? parseTags(a.tags) : undefined });
      return { records: rows.map(mediumRecord), fields: ['name'] };
    },
    async [`${family}.delete`](svc, a, ctx) {
      const names = mediaNames(family, a, ctx);
      await existing(svc, family, names);
      await svc.catalog.deleteMedia(family, names);
      return {};
    },
  };
}

export const dirCommands: Registry = {
  async 'dir.add'(svc, a, ctx) {
    const names = mediaNames('dir', a, ctx);
    for (const n of names) {
      const st = await stat(n).catch(() => null);
      if (!st) throw new DeimosError('ENOENT', `no such directory '${n}'`, 'create it first (mkdir -p), then add it');
      if (!st.isDirectory()) throw new DeimosError('ENOTDIR', `'${n}' is not a directory`, 'a dir medium is a directory');
    }
    await svc.catalog.addMedia(names.map((name) => ({
      family: 'dir' as const, name, fsType: 'posix', admStatus: a.unlock ? 'unlocked' as const : 'locked' as const, tags: parseTags(a.tags),
    })));
    return {};
  },

  async 'dir.format'(svc, a, ctx) {
    if (a.fs !== undefined && a.fs !== 'posix') throw new DeimosError('EINVAL', `unknown file system '${a.fs}' for dir media`, 'use --fs posix');
    const names = mediaNames('dir', a, ctx);
    const rows = await existing(svc, 'dir', names);
    for (const m of rows) {
      if (m.fsStatus !== 'blank' && !a.force) {
        throw new DeimosError('EEXIST', `dir '${m.name}' is already formatted (${m.fsStatus})`, 'use --force to format it again (only if it holds no extent)');
      }
      if (m.nbObj > 0) throw new DeimosError('EBUSY', `dir '${m.name}' holds ${m.nbObj} extents`, 'repack or delete them before formatting');
    }
    for (const m of rows) {
      await formatPosixMedium(m.name, m.name, { force: Boolean(a.force) });
      const fs = await statfs(m.name);
      await svc.catalog.updateMedium('dir', m.name, {
        fsStatus: 'empty', fsType: 'posix', sizeTotal: fs.blocks * fs.bsize, sizeFree: fs.bavail * fs.bsize, sizeUsed: 0,
        ...(a.unlock ? { admStatus: 'unlocked' as const } : {}),
      });
    }
    return {};
  },

  ...mediaAdmin('dir'),
};
