import { DeimosError, expandAll } from '../../core/index.js';
import type { DriveRow, LogFilter } from '../../catalog/index.js';
import type { Service } from '../service.js';
import { mediaAdmin, mediaNames } from './media.js';
import { iso, list, need, type Registry } from './registry.js';
import { parseTags } from '../../store/index.js';
import { driveRow } from '../../library/index.js';

/** "st0" and "/dev/st0" name the same drive. */
const driveName = (n: string) => n.replace(/^\/dev\//, '');

function driveNames(a: Record<string, any>): string[] {
  const names = expandAll(list(a.names)).map(driveName);
  if (names.length === 0) throw new DeimosError('EINVAL', 'missing DRIVE', 'name at least one drive (e.g. st0 or /dev/st0)');
  return names;
}

async function registeredDrives(svc: Service, names: string[]): Promise<DriveRow[]> {
  const rows = await svc.catalog.listDrives();
  return names.map((n) => {
    const r = rows.find((d) => d.name === n);
    if (!r) throw new DeimosError('ENOENT', `no drive '${n}' in the catalog`, `add it with 'deimos drive add ${n}'`);
    return r;
  });
}

function physicalDrive(svc: Service, name: string) {
  try {
    return svc.library.drive(name);
  } catch {
    throw new DeimosError('ENOENT', `the library has no drive '${name}'`, "'deimos lib scan' lists its drives");
  }
}

function logFilter(a: Record<string, any>): LogFilter {
  return {
    device: a.drive ? driveName(a.drive) : undefined, medium: a.tape, errorsOnly: Boolean(a.errors),
    since: a.since ? Date.parse(a.since) : undefined, until: a.until ? Date.parse(a.until) : undefined,
  };
}

const driveCommands: Registry = {
  async 'drive.add'(svc, a) {
    const names = driveNames(a);
    const rows = names.map((name) => {
      physicalDrive(svc, name);
      return driveRow(svc.library, name, a.unlock ? 'unlocked' : 'locked');
    });
    await svc.catalog.addDrives(rows);
    return {};
  },
  async 'drive.list'(svc, a) {
    const names = list(a.names).map(driveName);
    const rows = (await svc.catalog.listDrives()).filter((d) => names.length === 0 || names.includes(d.name));
    return {
      records: rows.map((d) => ({ name: d.name, serial: d.serial, model: d.model, path: d.path, adm_status: d.admStatus, loaded: svc.library.drive(d.name).loaded, nb_errors: d.nbErrors })),
      fields: ['name'],
    };
  },
  async 'drive.status'(svc) {
    const registered = new Map((await svc.catalog.listDrives()).map((d) => [d.name, d]));
    const st = svc.scheduler.status();
    const records = st.drives.map((d) => ({
      name: d.drive, model: d.model, adm_status: registered.get(d.drive)?.admStatus ?? 'not added', loaded: d.loaded, activity: d.activity, position: d.position,
    }));
    return { records, fields: ['name', 'model', 'adm_status', 'loaded', 'activity'] };
  },
  async 'drive.lock'(svc, a) {
    for (const d of await registeredDrives(svc, driveNames(a))) await svc.catalog.updateDrive(d.name, { admStatus: 'locked' });
    return {};
  },
  async 'drive.unlock'(svc, a) {
    for (const d of await registeredDrives(svc, driveNames(a))) {
      if (d.admStatus === 'failed' && !a.force) throw new DeimosError('EPERM', `drive '${d.name}' is failed`, 'check it, then unlock with --force');
      await svc.catalog.updateDrive(d.name, { admStatus: 'unlocked', ...(a.force ? { nbErrors: 0 } : {}) });
    }
    return {};
  },
  async 'drive.load'(svc, a) {
    const name = driveName(need(a, 'name'));
    const [row] = await registeredDrives(svc, [name]);
    if (row!.admStatus !== 'unlocked') throw new DeimosError('EPERM', `drive '${name}' is ${row!.admStatus}`, `unlock it first: deimos drive unlock ${name}`);
    await svc.scheduler.switchByHand(name, need(a, 'label'));
    return {};
  },
  async 'drive.unload'(svc, a) {
    const name = driveName(need(a, 'name'));
    await registeredDrives(svc, [name]);
    await svc.scheduler.switchByHand(name, null);
    return {};
  },
  async 'drive.delete'(svc, a) {
    await svc.catalog.deleteDrives(driveNames(a));
    return {};
  },
};

const tapeCommands: Registry = {
  async 'tape.add'(svc, a, ctx) {
    const labels = mediaNames('tape', a, ctx);
    const type = String(a.type ?? '').toUpperCase();
    if (!/^LTO[0-9]+$/.test(type)) throw new DeimosError('EINVAL', `invalid tape type '${a.type ?? ''}'`, 'use --type LTO8 or --type LTO9');
    const rows = labels.map((label) => {
      let c;
      try {
        c = svc.library.cartridge(label);
      } catch {
        throw new DeimosError('ENOENT', `the library holds no cartridge '${label}'`, "'deimos lib scan' lists its cartridges");
      }
      if (c.model !== type) throw new DeimosError('EINVAL', `cartridge '${label}' is ${c.model}, not ${type}`, `use --type ${c.model}`);
      return { family: 'tape' as const, name: label, model: c.model, fsType: 'ltfs', admStatus: a.unlock ? 'unlocked' as const : 'locked' as const, tags: parseTags(a.tags), sizeTotal: c.capacity, sizeFree: c.capacity };
    });
    await svc.catalog.addMedia(rows);
    return {};
  },
  async 'tape.format'(svc, a, ctx) {
    const labels = mediaNames('tape', a, ctx);
    const rows = await svc.catalog.listMedia({ family: 'tape', names: labels });
    for (const l of labels) {
      const m = rows.find((r) => r.name === l);
      if (!m) throw new DeimosError('ENOENT', `no tape medium '${l}'`, `add it first with 'deimos tape add --type LTO9 ${l}'`);
      if (m.fsStatus !== 'blank' && !a.force) throw new DeimosError('EEXIST', `tape '${l}' is already formatted (${m.fsStatus})`, 'use --force to format it again (only if it holds no extent)');
      if (m.nbObj > 0) throw new DeimosError('EBUSY', `tape '${l}' holds ${m.nbObj} extents`, 'repack it or delete its objects first');
    }
    let done = 0;
    // All at once: the scheduler spreads them over the drives its format share allows.
    await Promise.all(labels.map(async (l) => {
      await svc.scheduler.format(l);
      if (a.unlock) await svc.catalog.updateMedium('tape', l, { admStatus: 'unlocked' });
      ctx.progress('format', ++done, labels.length);
    }));
    return {};
  },
  async 'tape.locate'(svc, a) {
    const label = need(a, 'label');
    let c;
    try {
      c = svc.library.cartridge(label);
    } catch {
      throw new DeimosError('ENOENT', `the library holds no cartridge '${label}'`, "'deimos lib scan' lists its cartridges");
    }
    return { lines: ['drive' in c.location ? `drive ${c.location.drive}` : `slot ${c.location.slot}`] };
  },
  async 'tape.delete'(svc, a, ctx) {
    const labels = mediaNames('tape', a, ctx);
    if (a.lost) {
      // A lost cartridge takes its extents with it: they become orphans, to be rebuilt from other copies.
      for (const l of labels) {
        const ids = (await svc.catalog.listExtents({ family: 'tape', medium: l })).map((x) => x.id);
        if (ids.length) {
          await svc.catalog.setExtentState(ids, 'orphan');
          await svc.catalog.removeExtents(ids);
        }
      }
    }
    await svc.catalog.deleteMedia('tape', labels);
    return {};
  },
};

/** Phobos' `--min 0,1,0`: read, write, format counts. */
function shares(v: unknown, what: string): { read: number; write: number; format: number } | undefined {
  if (v === undefined) return undefined;
  const parts = String(v).split(',').map((x) => Number(x.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new DeimosError('EINVAL', `invalid ${what} '${String(v)}'`, `give three drive counts: read,write,format (e.g. --${what} 1,1,0)`);
  }
  return { read: parts[0]!, write: parts[1]!, format: parts[2]! };
}

const libCommands: Registry = {
  async 'sched.fair_share'(svc, a) {
    const min = shares(a.min, 'min');
    const max = shares(a.max, 'max');
    if ((min || max) && !a.type) throw new DeimosError('EINVAL', 'missing --type', 'name the drive model the shares apply to, e.g. --type LTO9');
    const rows = await svc.scheduler.setFairShare(min || max ? { model: String(a.type), min, max } : null);
    const records = rows.filter((r) => !a.type || r.model === String(a.type).toUpperCase()).map((r) => ({ ...r, max: r.max ?? 'unlimited' }));
    return { records, fields: ['model', 'type', 'min', 'max'] };
  },
  async 'lib.scan'(svc) {
    const s = await svc.library.scan();
    const records = [
      ...s.drives.map((d) => ({ type: 'drive', address: d.name, model: d.model, medium: d.loaded, failed: d.failed })),
      ...s.slots.map((x) => ({ type: 'slot', address: x.address, model: x.label ? svc.library.cartridge(x.label).model : null, medium: x.label, failed: x.label ? svc.library.cartridge(x.label).failed : false })),
    ];
    return { records, fields: ['type', 'address', 'medium'] };
  },
  async 'logs.dump'(svc, a) {
    const rows = await svc.catalog.listLogs(logFilter(a));
    return {
      records: rows.map((l) => ({ time: iso(l.time), kind: l.kind, device: l.device, medium: l.medium, cause: l.cause, errno: l.errno, message: l.message })),
      fields: ['time', 'device', 'medium', 'cause', 'errno', 'message'],
    };
  },
  async 'logs.clear'(svc, a) {
    const n = await svc.catalog.clearLogs(logFilter(a));
    return { lines: [`${n} log entries cleared`] };
  },
  async status(svc) {
    const st = svc.scheduler.status();
    const c = st.counters;
    return {
      document: { ...c, drives: st.drives, queues: st.queues },
      lines: [
        'drives:',
        ...st.drives.map((d) => `  ${d.drive.padEnd(6)} ${d.model.padEnd(5)} ${(d.loaded ?? '-').padEnd(10)} ${d.activity}`),
        'queues:',
        ...(st.queues.length ? st.queues.map((q) => `  ${q.medium}: ${q.reads} reads, ${q.writes} writes, ${q.bytes} bytes, oldest ${q.oldestWaitS.toFixed(1)} s`) : ['  (empty)']),
        // Totals since the store was created (kept across restarts); drive activity seconds are this run's.
        'counters (since the store was created):',
        `  mounts ${c.mounts}  unmounts ${c.unmounts}  syncs ${c.syncs}  locate ${c.locate_s.toFixed(1)} s`,
        `  read ${c.bytes_read} B in ${c.reads} requests  written ${c.bytes_written} B in ${c.writes} requests`,
        `  request wait p50 ${c.wait_p50_s.toFixed(1)} s  p99 ${c.wait_p99_s.toFixed(1)} s`,
      ],
    };
  },
};

export const libraryCommands: Registry = { ...driveCommands, ...tapeCommands, ...mediaAdmin('tape'), ...libCommands };
