import type { Catalog, Family, MediumRow } from '../catalog/interface.js';
import { DeimosError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { MediumIO } from '../media/interface.js';
import { openPosixMedium, type PosixMedium } from '../media/posix.js';
import type {
  IoScheduler, ReadGrant, ReadRequest, SchedulerCounters, SchedulerStatus, WriteAllocRequest, WriteGrant, WriteSlot,
} from '../scheduler/interface.js';
import type { CounterPart } from './savedCounters.js';

/** What DirPool needs from the catalog (small enough to stand in for in tests). */
export type DirCatalog = Pick<Catalog, 'listMedia' | 'getMedium' | 'updateMedium' | 'listExtents'>;

export interface DirPoolOptions {
  catalog: DirCatalog;
  /** fsync extents before a put is acknowledged (store.fsync). */
  fsync: boolean;
  log?: Logger;
  /** Directory of a medium; Phobos names dir media by their path, so the name by default. */
  pathOf?: (medium: MediumRow) => string;
}

/** File-system bytes an extent costs beyond its payload (trailer, block rounding, fan-out dirs). */
const EXTENT_OVERHEAD = 64 * 1024;
/** A catalog free-space figure off by less than this is left alone. */
const REFRESH_DRIFT = 1 << 20;

interface Measured {
  row: MediumRow;
  io: PosixMedium;
  room: number;
}

/**
 * The directory-media part of the scheduler. Directories need no drive and
 * no queue: a write gets media by best fit at once, a read the first usable
 * replica. Free space is measured on each medium's file system at every
 * allocation: a dir medium's capacity is its file system's, or its catalog
 * sizeTotal when that is smaller (a quota, and how tests simulate small media).
 *
 * Lock order: allocations run one at a time (`allocChain`) so two puts
 * never both count the same free bytes; nothing else is locked.
 */
export class DirPool implements IoScheduler {
  private readonly catalog: DirCatalog;
  private readonly fsync: boolean;
  private readonly log?: Logger;
  private readonly pathOf: (m: MediumRow) => string;
  private readonly opened = new Map<string, PosixMedium>();
  /** Bytes granted to writes not completed yet, per medium: not on the file system nor pending in the catalog yet. */
  private readonly inflight = new Map<string, number>();
  /** Read failures per medium since start: replicas on healthier media are tried first. */
  private readonly failures = new Map<string, number>();
  private readonly active = new Set<Promise<void>>();
  private allocChain: Promise<unknown> = Promise.resolve();
  private readonly counters: SchedulerCounters = {
    mounts: 0, unmounts: 0, syncs: 0, locate_s: 0, bytes_read: 0, bytes_written: 0, reads: 0, writes: 0, wait_p50_s: 0, wait_p99_s: 0,
  };

  constructor(opts: DirPoolOptions) {
    this.catalog = opts.catalog;
    this.fsync = opts.fsync;
    this.log = opts.log;
    this.pathOf = opts.pathOf ?? ((m) => m.name);
  }

  allocWrite(req: WriteAllocRequest): Promise<WriteGrant> {
    if (req.family !== 'dir') return Promise.reject(notDir(req.family));
    const next = this.allocChain.then(() => this.allocate(req));
    this.allocChain = next.catch(() => undefined);
    return next;
  }

  private async allocate(req: WriteAllocRequest): Promise<WriteGrant> {
    const rows = await this.catalog.listMedia({ family: 'dir' });
    const rejected: string[] = [];
    const wanted = rows.filter((m) => req.tags.every((t) => m.tags.includes(t)) && !req.exclude?.includes(m.name));
    const eligible = wanted.filter((m) => {
      const why = m.admStatus !== 'unlocked' ? m.admStatus : !m.putAccess ? 'put access off' : m.fsStatus === 'full' ? 'full' : '';
      if (why) rejected.push(`${m.name}: ${why}`);
      return why === '';
    });
    const measured = await Promise.all(eligible.map((m) => this.measure(m).catch((e: unknown) => {
      rejected.push(`${m.name}: ${(e as Error).message}`);
      return null;
    })));
    const usable = measured.filter((x): x is Measured => x !== null && (x.room > 0 || req.size === 0));
    for (const x of measured) if (x && !usable.includes(x)) rejected.push(`${x.row.name}: no room`);
    if (usable.length < req.count) throw this.noSpace(req, usable.length, rejected);

    // Best fit keeps large free areas for large objects; when nothing fits whole, the largest rooms make the fewest splits.
    const fitting = usable.filter((x) => x.room >= req.size).sort((a, b) => a.room - b.room);
    const chosen = fitting.length >= req.count ? fitting.slice(0, req.count) : usable.sort((a, b) => b.room - a.room).slice(0, req.count);
    const reserved = chosen.map((x) => Math.min(x.room, req.size));
    chosen.forEach((x, i) => this.inflight.set(x.row.name, (this.inflight.get(x.row.name) ?? 0) + reserved[i]!));
    const slots: WriteSlot[] = chosen.map((x) => ({ io: x.io, room: x.room }));
    return this.grant(chosen, reserved, slots);
  }

  private grant(chosen: Measured[], reserved: number[], slots: WriteSlot[]): WriteGrant {
    let done: Promise<void> | null = null;
    let finished!: () => void;
    const tracked = new Promise<void>((r) => { finished = r; });
    this.active.add(tracked);
    return {
      slots,
      complete: (outcome) => {
        // Idempotent: a layout that completes twice must not free the reservation twice.
        if (done) return done;
        chosen.forEach((x, i) => {
          const left = (this.inflight.get(x.row.name) ?? 0) - reserved[i]!;
          if (left > 0) this.inflight.set(x.row.name, left);
          else this.inflight.delete(x.row.name);
        });
        if (outcome.ok) {
          this.counters.writes += outcome.bytes.length;
          this.counters.bytes_written += outcome.bytes.reduce((a, b) => a + b, 0);
          // Each extent was fsynced by writeExtent before the layout completed: the put is durable now.
          if (this.fsync) this.counters.syncs += outcome.bytes.length;
        } else {
          this.log?.warn({ err: outcome.error, media: chosen.map((x) => x.row.name) }, 'write on dir media failed');
        }
        this.active.delete(tracked);
        finished();
        done = Promise.resolve();
        return done;
      },
    };
  }

  /** Opens a medium, measures its file system and refreshes its catalog figures. */
  private async measure(row: MediumRow): Promise<Measured> {
    const io = await this.open(row);
    const fs = await io.space();
    const capacity = row.sizeTotal > 0 ? Math.min(row.sizeTotal, fs.total) : fs.total;
    const free = Math.max(0, Math.min(fs.free, capacity - row.sizeUsed));
    // Free space moves with every write: refresh the catalog when it drifts, not for each byte.
    if (capacity !== row.sizeTotal || Math.abs(free - row.sizeFree) >= REFRESH_DRIFT || (free === 0) !== (row.sizeFree === 0)) {
      await this.catalog.updateMedium('dir', row.name, { sizeTotal: capacity, sizeFree: free });
    }
    const pending = (await this.catalog.listExtents({ family: 'dir', medium: row.name, state: 'pending' }))
      .reduce((n, e) => n + e.size, 0);
    const room = Math.min(fs.free - EXTENT_OVERHEAD, capacity - row.sizeUsed - pending) - (this.inflight.get(row.name) ?? 0);
    return { row, io, room: Math.max(0, room) };
  }

  async read(req: ReadRequest): Promise<ReadGrant> {
    const reasons: string[] = [];
    const order = req.candidates
      .map((c, i) => ({ c, i, f: this.failures.get(c.medium) ?? 0 }))
      .sort((a, b) => a.f - b.f || a.i - b.i);
    for (const { c } of order) {
      if (c.family !== 'dir') {
        reasons.push(`${c.medium}: not a dir medium`);
        continue;
      }
      const row = await this.catalog.getMedium('dir', c.medium);
      const why = !row ? 'not in the catalog' : row.admStatus !== 'unlocked' ? row.admStatus : !row.getAccess ? 'get access off' : '';
      if (why) {
        reasons.push(`${c.medium}: ${why}`);
        continue;
      }
      let io: PosixMedium;
      try {
        io = await this.open(row!);
      } catch (e) {
        reasons.push(`${c.medium}: ${(e as Error).message}`);
        continue;
      }
      return {
        io,
        candidate: c,
        release: (outcome) => {
          if (outcome.ok) {
            this.counters.reads++;
            this.counters.bytes_read += outcome.bytes;
          } else {
            this.failures.set(c.medium, (this.failures.get(c.medium) ?? 0) + 1);
            this.log?.warn({ err: outcome.error, medium: c.medium, address: c.address }, 'read on dir medium failed');
          }
        },
      };
    }
    throw new DeimosError('ENODEV', `no readable dir medium among ${req.candidates.map((c) => c.medium).join(', ')} (${reasons.join('; ')})`,
      'unlock the medium (deimos dir unlock NAME) or check that its directory is mounted');
  }

  async openForDelete(family: Family, medium: string): Promise<MediumIO | null> {
    if (family !== 'dir') return null;
    const row = await this.catalog.getMedium('dir', medium);
    if (!row || !row.deleteAccess || row.admStatus === 'failed') return null;
    return this.open(row);
  }

  /** The opened medium of a catalog row; its label is checked once, on first use. */
  async open(row: MediumRow): Promise<PosixMedium> {
    const cached = this.opened.get(row.name);
    if (cached) return cached;
    const io = await openPosixMedium(this.pathOf(row), { name: row.name, fsync: this.fsync });
    this.opened.set(row.name, io);
    return io;
  }

  status(): SchedulerStatus {
    return { drives: [], queues: [], counters: { ...this.counters } };
  }

  /** The totals kept across restarts (savedCounters.ts); directory reads wait for nothing, so no percentiles. */
  counterPart(): CounterPart {
    const c = this.counters;
    const keys = ['syncs', 'bytes_read', 'bytes_written', 'reads', 'writes'] as const;
    return {
      dump: () => Object.fromEntries(keys.map((k) => [k, c[k]])),
      add: (saved) => {
        for (const k of keys) if (typeof saved[k] === 'number' && Number.isFinite(saved[k])) c[k] += saved[k] as number;
      },
    };
  }

  async drain(): Promise<void> {
    await Promise.all([...this.active]);
  }

  async close(): Promise<void> {
    await this.drain();
    this.opened.clear();
  }

  private noSpace(req: WriteAllocRequest, found: number, rejected: string[]): DeimosError {
    const tags = req.tags.length ? ` with tags ${req.tags.join(',')}` : '';
    const why = rejected.length ? ` (${rejected.slice(0, 6).join('; ')}${rejected.length > 6 ? '; …' : ''})` : '';
    return new DeimosError('ENOSPC', `need ${req.count} unlocked dir media${tags} with free space, found ${found}${why}`,
      'add one with `deimos dir add PATH --unlock`, or unlock one with `deimos dir unlock NAME`');
  }
}

function notDir(family: Family): DeimosError {
  return new DeimosError('EINVAL', `DirPool serves dir media, not ${family}`, 'this is a bug: the scheduler router should send it elsewhere');
}
