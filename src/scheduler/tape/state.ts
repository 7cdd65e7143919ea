import type { MediumRow } from '../../catalog/interface.js';
import type { MediumIO } from '../../media/interface.js';
import type { WriteAllocRequest, WriteGrant } from '../interface.js';
import type { ReadPolicy } from '../policies/interface.js';
import { ActivityClock, TapeCounters } from './counters.js';
import type { FairShare, ReqType, TypeCounts } from './fairShare.js';
import { zeroCounts } from './fairShare.js';
import type { ReadQueues } from './readQueues.js';
import type { SyncGroups } from './syncGroups.js';

/**
 * The tape scheduler's whole state, shared by its decision step
 * (dispatch.ts, synchronous) and its operations (operations.ts, async).
 * Only operations change drives, and they mark a drive busy synchronously
 * before their first await, so one decision pass never sees a half-taken
 * drive.
 */

export class DriveSlot {
  loaded: string | null = null;
  /** The cartridge a switch in progress will load. */
  incoming: string | null = null;
  io: MediumIO | null = null;
  busy = false;
  failed = false;
  /**
   * Has a catalog row (`deimos drive add`). As in Phobos, a drive that was
   * never added is not used: the library may hold drives that belong to
   * another system, or that the operator has not checked yet.
   */
  added = false;
  /** Catalog adm status is locked. */
  locked = false;
  /** What the drive does now, for fair share. */
  use: ReqType | null = null;
  lastUsedMs: number;
  /** When the loaded cartridge came in (ageing inside a mount counts from then). */
  mountedAtMs: number;
  /** The locate a granted read starts with, for the locating/reading split. */
  locateS = 0;
  readonly activity: ActivityClock;

  constructor(readonly name: string, readonly model: string, nowMs: number) {
    this.lastUsedMs = nowMs;
    this.mountedAtMs = nowMs;
    this.activity = new ActivityClock(nowMs);
  }

  get usable(): boolean {
    return this.added && !this.failed && !this.locked;
  }
}

export interface WriteJob {
  id: number;
  req: WriteAllocRequest;
  arrivalMs: number;
  /** Media excluded after failures, on top of req.exclude. */
  exclude: Set<string>;
  /** Chosen cartridges (empty until assigned). */
  media: string[];
  resolve(g: WriteGrant): void;
  reject(e: unknown): void;
}

export interface FormatJob {
  label: string;
  arrivalMs: number;
  resolve(): void;
  reject(e: unknown): void;
}

export interface TapeSettings {
  ageingMs: number;
  idleUnloadMs: number;
  locateFixedS: number;
}

export class TapeState {
  readonly drives: DriveSlot[] = [];
  /** Write jobs without media yet, in arrival order. */
  readonly unassigned: WriteJob[] = [];
  /** Per cartridge, the write jobs that will append to it, in order. */
  readonly writers = new Map<string, WriteJob[]>();
  readonly formats: FormatJob[] = [];
  /** Cartridges moving between slot and drive. */
  readonly inTransit = new Set<string>();
  /** Catalog rows of tape media, refreshed before each decision that needs them. */
  readonly media = new Map<string, MediumRow>();
  /** Bytes granted to writers that have not completed yet, per cartridge: not at end of data yet. */
  readonly inflight = new Map<string, number>();
  /** Drives a cartridge failed to load in since its last good load: a second drive tells whose fault it was. */
  readonly loadFailedOn = new Map<string, Set<string>>();
  /** Grouping of the last write on each cartridge (grouped puts stay together). */
  readonly lastGrouping = new Map<string, string | null>();
  /** Cartridges the recent batches of puts were given, oldest batch first (bounded: batches end unannounced). */
  readonly batchMedia = new Map<string, string[]>();
  readonly counters = new TapeCounters();
  draining = false;
  closed = false;
  nextId = 1;

  constructor(
    readonly policy: ReadPolicy,
    readonly reads: ReadQueues,
    readonly syncs: SyncGroups,
    readonly share: FairShare,
    readonly settings: TapeSettings,
  ) {}

  driveOf(label: string): DriveSlot | undefined {
    return this.drives.find((d) => d.loaded === label || d.incoming === label);
  }

  /** Loaded (or being loaded) in a drive that works. */
  isMounted(label: string): boolean {
    const d = this.driveOf(label);
    return d !== undefined && !d.failed;
  }

  writersOf(label: string): WriteJob[] {
    return this.writers.get(label) ?? [];
  }

  hasWork(label: string): boolean {
    return (this.reads.queue(label)?.size ?? 0) > 0 || this.writersOf(label).length > 0
      || this.syncs.has(label) || this.formats.some((f) => f.label === label);
  }

  /** The request type a drive serves now: its operation, else the work waiting on its cartridge. */
  useOf(d: DriveSlot): ReqType | null {
    if (d.busy) return d.use;
    if (d.loaded === null) return null;
    if (this.formats.some((f) => f.label === d.loaded)) return 'format';
    if (this.writersOf(d.loaded).length > 0 || this.syncs.has(d.loaded)) return 'write';
    if ((this.reads.queue(d.loaded)?.size ?? 0) > 0) return 'read';
    return null;
  }

  typeCounts(model: string): { inUse: TypeCounts; free: number } {
    const inUse = zeroCounts();
    let free = 0;
    for (const d of this.drives) {
      if (d.model !== model || !d.usable) continue;
      const u = this.useOf(d);
      if (u === null) free++;
      else inUse[u]++;
    }
    return { inUse, free };
  }

  waitingTypes(): Record<ReqType, boolean> {
    return {
      read: this.reads.size > 0,
      write: this.unassigned.length > 0 || [...this.writers.values()].some((w) => w.length > 0),
      format: this.formats.length > 0,
    };
  }

  idle(): boolean {
    return this.reads.size === 0 && this.unassigned.length === 0 && [...this.writers.values()].every((w) => w.length === 0)
      && this.formats.length === 0 && this.syncs.media().length === 0 && this.drives.every((d) => !d.busy);
  }
}

/** LTO rule: a drive takes its own generation and the one before. Unknown models are not restricted. */
export function accepts(driveModel: string, cartModel: string | null | undefined): boolean {
  const g = (m: string | null | undefined): number | null => {
    const x = /(\d+)\s*$/.exec(m ?? '');
    return x ? Number(x[1]) : null;
  };
  const d = g(driveModel);
  const c = g(cartModel);
  if (d === null || c === null) return true;
  return c === d || c === d - 1;
}
