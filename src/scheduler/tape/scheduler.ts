import type { Catalog, Family } from '../../catalog/interface.js';
import type { Clock } from '../../clock/interface.js';
import type { Config } from '../../core/config.js';
import { DeimosError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Library } from '../../library/interface.js';
import type { MediumIO } from '../../media/interface.js';
import type { IoScheduler, ReadCandidate, ReadGrant, ReadRequest, WriteAllocRequest, WriteGrant } from '../interface.js';
import { createPolicy } from '../policies/index.js';
import type { CounterPart } from '../savedCounters.js';
import type { CostModel, ReadPolicy } from '../policies/interface.js';
import { assignWrites, type CartridgeRoom } from './assign.js';
import { decide, type DispatchEnv } from './dispatch.js';
import { applyShare, FairShare, type ShareSetting } from './fairShare.js';
import { placeRead, start, switchDrive, type OpsContext } from './operations.js';
import { canServe, noDriveError, type DriveUse } from './noDrive.js';
import { ReadQueues } from './readQueues.js';
import { accepts as acceptsModel, DriveSlot, TapeState } from './state.js';
import { tapeStatus, type TapeSchedulerStatus } from './status.js';
import { SyncGroups, syncThresholds } from './syncGroups.js';

const FAIR_SHARE_KEY = 'io_sched.fair_share';

export interface TapeSchedulerOptions {
  catalog: Catalog;
  config: Config;
  library: Library;
  /** Defaults to the library's clock. */
  clock?: Clock;
  log?: Logger;
  /** Overrides io_sched.policy (benchmarks compare policies on one config). */
  policy?: string | ReadPolicy;
}

/**
 * The tape part of the IoScheduler (Phobos' LRS for tapes). Requests are
 * queued (reads per cartridge, writes per cartridge once assigned, formats);
 * every event — a request, a drive freed, a timer — runs `kick()`, which
 * asks the decision step (dispatch.ts) for actions until there is none and
 * arms one timer for the earliest deadline it reported. Decisions are
 * synchronous and run one pass at a time, so there are no locks: the only
 * shared state is TapeState, and only operations.ts mutates drives.
 */
export class TapeScheduler implements IoScheduler {
  readonly policy: ReadPolicy;
  private readonly s: TapeState;
  private readonly library: Library;
  private readonly catalog: Catalog;
  private readonly clock: Clock;
  private readonly log?: Logger;
  private readonly ops: OpsContext;
  private readonly env: DispatchEnv;
  private readonly costs = new Map<string, CostModel>();
  private readonly ready: Promise<void>;
  private readonly drainers: (() => void)[] = [];
  private kicking = false;
  private again = false;
  private armedMs: number | null = null;
  private armGen = 0;

  constructor(opts: TapeSchedulerOptions) {
    const c = opts.config;
    this.library = opts.library;
    this.catalog = opts.catalog;
    this.clock = opts.clock ?? opts.library.clock;
    this.log = opts.log;
    const ageingMs = c.num('io_sched', 'ageing_s') * 1000;
    const readGatherMs = c.num('io_sched', 'read_gather_s') * 1000;
    const coldGatherMs = c.num('io_sched', 'cold_gather_s') * 1000;
    const coldQuietMs = c.num('io_sched', 'cold_quiet_s') * 1000;
    this.policy = typeof opts.policy === 'object' ? opts.policy : createPolicy(opts.policy ?? c.str('io_sched', 'policy'), { ageingMs, readGatherMs, coldGatherMs, coldQuietMs });
    const locateFixedS = c.num('library', 'locate_fixed_s');
    const wraps = c.num('library', 'wraps');
    this.s = new TapeState(
      this.policy,
      new ReadQueues(this.policy, (m) => this.costOf(m, locateFixedS, wraps)),
      new SyncGroups(syncThresholds(c, 'tape')),
      FairShare.fromConfig(c),
      { ageingMs, idleUnloadMs: c.num('lrs', 'idle_unload_s') * 1000, locateFixedS },
    );
    this.ops = { state: this.s, library: this.library, catalog: this.catalog, clock: this.clock, log: this.log, kick: () => this.kick() };
    const self = this;
    this.env = {
      get nowMs() { return self.clock.now(); },
      cartridge: (label) => this.cartridge(label),
      head: (d) => this.library.drive(d.name).position,
      unmountS: (d) => this.library.unmountSeconds(d.name),
      robotWaitMs: () => this.library.robotWaitSeconds() * 1000,
      cost: (label) => this.costOf(label, locateFixedS, wraps),
    };
    this.ready = this.init();
    this.ready.catch(() => undefined);
  }

  private async init(): Promise<void> {
    const saved = await this.catalog.getState(FAIR_SHARE_KEY);
    for (const set of saved ? (JSON.parse(saved) as ShareSetting[]) : []) applyShare(this.s.share, set);
    const { drives } = await this.library.scan();
    const now = this.clock.now();
    for (const d of drives) {
      const slot = new DriveSlot(d.name, d.model, now);
      slot.loaded = d.loaded;
      slot.failed = d.failed;
      if (d.loaded !== null && !d.failed) slot.io = this.library.open(d.name);
      this.s.drives.push(slot);
    }
    await this.refresh();
  }

  /** Catalog facts the decisions use: cartridge rows and drive adm status. */
  private async refresh(): Promise<void> {
    const rows = await this.catalog.listMedia({ family: 'tape' });
    this.s.media.clear();
    for (const r of rows) this.s.media.set(r.name, r);
    await this.refreshDrives();
  }

  /** Only drives with a catalog row (`deimos drive add`) that is unlocked are used. */
  private async refreshDrives(): Promise<void> {
    const drives = new Map((await this.catalog.listDrives()).map((d) => [d.name, d]));
    for (const d of this.s.drives) {
      const row = drives.get(d.name);
      d.added = row !== undefined;
      d.locked = row?.admStatus === 'locked';
      if (row?.admStatus === 'failed') d.failed = true;
    }
  }

  /**
   * Fails now when no drive may ever take any of `labels` (null: servable).
   * Drive rows are read again first: a drive added or unlocked since the
   * last look counts. Only this rare case costs a catalog call.
   */
  private async unservable(use: DriveUse, labels: string[]): Promise<DeimosError | null> {
    const servable = (): boolean => labels.some((l) => canServe(this.s.drives, this.cartridge(l)?.model ?? null, l));
    if (servable()) return null;
    await this.refreshDrives();
    if (servable()) return null;
    return noDriveError(this.s.drives, use, this.cartridge(labels[0]!)?.model ?? null);
  }

  async allocWrite(req: WriteAllocRequest): Promise<WriteGrant> {
    const arrivalMs = this.clock.now();
    if (req.family !== 'tape') throw new DeimosError('EINVAL', `the tape scheduler got a ${req.family} write`, 'this is a bug: the scheduler router should send it elsewhere');
    if (!(req.count >= 1) || !(req.size >= 0)) throw new DeimosError('EINVAL', `invalid write request: count ${req.count}, size ${req.size}`);
    await this.open();
    await this.refresh();
    return new Promise<WriteGrant>((resolve, reject) => {
      this.s.unassigned.push({ id: this.s.nextId++, req, arrivalMs, exclude: new Set(), media: [], resolve, reject });
      this.kick();
    });
  }

  async read(req: ReadRequest): Promise<ReadGrant> {
    const arrivalMs = this.clock.now();
    await this.open();
    const usable: ReadCandidate[] = [];
    const why: string[] = [];
    for (const c of req.candidates) {
      const no = c.family !== 'tape' ? 'not a tape' : await this.readRefusal(c.medium);
      if (no === null) usable.push(c);
      else why.push(`${c.medium}: ${no}`);
    }
    if (usable.length === 0) {
      throw new DeimosError('ENODEV', `no readable cartridge among ${req.candidates.map((c) => c.medium).join(', ')} (${why.join('; ')})`,
        'unlock the cartridge (deimos tape unlock LABEL) or read another copy');
    }
    const noDrive = await this.unservable('read', usable.map((c) => c.medium));
    if (noDrive !== null) throw noDrive;
    return new Promise<ReadGrant>((resolve, reject) => {
      placeRead(this.s, { id: this.s.nextId++, candidates: usable, arrivalMs, batch: req.batch, resolve, reject }, this.clock.now());
      this.kick();
    });
  }

  private async readRefusal(label: string): Promise<string | null> {
    const row = await this.catalog.getMedium('tape', label);
    if (row === null) return 'not in the catalog';
    this.s.media.set(label, row);
    if (row.admStatus !== 'unlocked') return row.admStatus;
    if (!row.getAccess) return 'get access off';
    const c = this.cartridge(label);
    if (c === null) return 'not in the library';
    if (c.failed) return 'failed';
    return null;
  }

  /**
   * Formats a cartridge (Phobos `tape format`): it then takes writes. The
   * caller decides whether a formatted one may be formatted again (--force);
   * the library refuses a cartridge that still holds extents.
   */
  async format(label: string): Promise<void> {
    const arrivalMs = this.clock.now();
    await this.open();
    const row = await this.catalog.getMedium('tape', label);
    if (row === null) throw new DeimosError('ENOENT', `cartridge ${label} is not in the catalog`, `add it first: deimos tape add ${label}`);
    if (this.cartridge(label) === null) throw new DeimosError('ENOENT', `cartridge ${label} is not in the library`);
    if (row.admStatus === 'failed') throw new DeimosError('EIO', `cartridge ${label} is failed`);
    this.s.media.set(label, row);
    const noDrive = await this.unservable('format', [label]);
    if (noDrive !== null) throw noDrive;
    return new Promise<void>((resolve, reject) => {
      this.s.formats.push({ label, arrivalMs, resolve, reject });
      this.kick();
    });
  }

  /** Changes a model's drive shares now and for later starts; returns the table of shares. */
  async setFairShare(set: ShareSetting | null): Promise<ReturnType<FairShare['table']>> {
    await this.open();
    if (set !== null) {
      applyShare(this.s.share, set);
      const saved = await this.catalog.getState(FAIR_SHARE_KEY);
      await this.catalog.setState(FAIR_SHARE_KEY, JSON.stringify([...(saved ? (JSON.parse(saved) as ShareSetting[]) : []), set]));
      this.kick();
    }
    return this.s.share.table(this.s.drives.map((d) => d.model));
  }

  /**
   * An operator's load (`to` a label) or unload (`to` null) of one drive
   * (`deimos drive load|unload`): waits until the drive finishes what it
   * does, then switches it through the same operation the scheduler uses,
   * so a cartridge is never in two drives.
   */
  async switchByHand(drive: string, to: string | null): Promise<void> {
    await this.open();
    await this.refresh();
    const d = this.s.drives.find((x) => x.name === drive);
    if (!d) throw new DeimosError('ENOENT', `no drive '${drive}' in the library`, "'deimos lib scan' lists its drives");
    if (to !== null) {
      if (!this.s.media.has(to)) throw new DeimosError('ENOENT', `cartridge ${to} is not in the catalog`, `add it first: deimos tape add ${to}`);
      if (this.cartridge(to) === null) throw new DeimosError('ENOENT', `cartridge ${to} is not in the library`, "'deimos lib scan' lists its cartridges");
      const model = this.s.media.get(to)!.model;
      if (!acceptsModel(d.model, model)) throw new DeimosError('EMEDIUMTYPE', `a ${d.model} drive cannot take the ${model} cartridge ${to}`, 'use a drive of the same or the next generation');
    }
    for (;;) {
      if (d.failed) throw new DeimosError('EIO', `drive '${drive}' is failed`, "see 'deimos logs dump --errors'; 'deimos drive unlock --force' puts it back");
      if (d.loaded === to && !d.busy) return;
      const elsewhere = to !== null && this.s.drives.some((x) => x !== d && (x.loaded === to || x.incoming === to));
      if (elsewhere || (to !== null && this.s.inTransit.has(to) && d.loaded !== to)) {
        throw new DeimosError('EBUSY', `cartridge ${to} is in another drive`, 'unload that drive first');
      }
      if (!d.busy) break;
      await this.clock.sleep(1000);
    }
    await switchDrive(this.ops, d, to, null);
    if (d.loaded !== to) {
      throw new DeimosError('EIO', to === null ? `drive '${drive}' did not unload` : `loading ${to} into ${drive} failed`, "see 'deimos logs dump --errors'");
    }
  }

  async openForDelete(_family: Family, _medium: string): Promise<MediumIO | null> {
    // Tape space comes back by repack, not by deleting extents in place.
    return null;
  }

  /** The totals kept across restarts (savedCounters.ts). */
  counterPart(): CounterPart {
    const c = this.s.counters;
    return { dump: () => c.toJSON(), add: (saved) => c.add(saved) };
  }

  status(): TapeSchedulerStatus {
    return tapeStatus(this.s, this.clock.now(), (d) => this.library.drive(d).position);
  }

  async drain(): Promise<void> {
    await this.open();
    this.s.draining = true;
    const done = new Promise<void>((r) => this.drainers.push(r));
    this.kick();
    await done;
  }

  async close(): Promise<void> {
    if (this.s.closed) return;
    this.s.closed = true;
    this.armGen++;
    const err = new DeimosError('ECANCELED', 'the scheduler is closing', 'retry once the service is back');
    for (const job of [...this.s.reads.all()]) { this.s.reads.take(job.id); job.reject(err); }
    for (const job of new Set([...this.s.unassigned, ...[...this.s.writers.values()].flat()])) job.reject(err);
    for (const f of this.s.formats) f.reject(err);
    this.s.unassigned.length = 0;
    this.s.writers.clear();
    this.s.formats.length = 0;
    for (const r of this.drainers.splice(0)) r();
  }

  private async open(): Promise<void> {
    await this.ready;
    if (this.s.closed) throw new DeimosError('ECANCELED', 'the scheduler is closed', 'retry once the service is back');
  }

  /** Runs decisions until none is left; re-entrant calls are folded into the running pass. */
  private kick(): void {
    if (this.s.closed) return;
    if (this.kicking) { this.again = true; return; }
    this.kicking = true;
    try {
      do {
        this.again = false;
        assignWrites(this.s, (l) => this.cartridge(l));
        for (;;) {
          const { action, wakeMs } = decide(this.s, this.env);
          if (action === null) { this.arm(this.ageingWake(wakeMs)); break; }
          start(this.ops, action);
        }
      } while (this.again);
      this.rejectStranded();
      if (this.s.idle()) {
        this.s.draining = false;
        for (const r of this.drainers.splice(0)) r();
      }
    } finally {
      this.kicking = false;
    }
  }

  /** An aged request changes decisions even when nothing else happens. */
  private ageingWake(wakeMs: number): number {
    const oldest = this.s.reads.oldest();
    const at = oldest === undefined ? Infinity : oldest.arrivalMs + this.s.settings.ageingMs;
    return at > this.clock.now() ? Math.min(wakeMs, at) : wakeMs;
  }

  private arm(deadlineMs: number): void {
    const now = this.clock.now();
    if (!Number.isFinite(deadlineMs)) return;
    // A deadline already reached was acted on by the pass that reported it;
    // waking again at once would spin without letting time move.
    const wakeMs = Math.max(deadlineMs, now + 1);
    if (this.armedMs !== null && this.armedMs > now && this.armedMs <= wakeMs) return;
    this.armedMs = wakeMs;
    const gen = ++this.armGen;
    void this.clock.sleep(Math.max(0, wakeMs - now)).then(() => {
      if (gen === this.armGen) this.armedMs = null;
      if (gen <= this.armGen && !this.s.closed) this.kick();
    });
  }

  /**
   * Reads and formats none of whose cartridges any usable drive can take
   * (drives failed or were locked while they waited) fail now rather than
   * wait forever.
   */
  private rejectStranded(): void {
    const drives = this.s.drives;
    for (const job of [...this.s.reads.all()]) {
      const ok = job.candidates.some((c) => {
        const cart = this.cartridge(c.medium);
        return cart !== null && canServe(drives, cart.model, c.medium);
      });
      if (ok) continue;
      this.s.reads.take(job.id);
      job.reject(noDriveError(drives, 'read', this.cartridge(job.candidates[0]!.medium)?.model ?? null));
    }
    for (const f of [...this.s.formats]) {
      const model = this.cartridge(f.label)?.model ?? null;
      if (canServe(drives, model)) continue;
      this.s.formats.splice(this.s.formats.indexOf(f), 1);
      f.reject(noDriveError(drives, 'format', model));
    }
  }

  private cartridge(label: string): CartridgeRoom | null {
    let info;
    try {
      info = this.library.cartridge(label);
    } catch {
      return null;
    }
    const row = this.s.media.get(label);
    return { model: info.model, capacity: info.capacity, eod: info.eod, failed: info.failed || row?.admStatus === 'failed' };
  }

  private costOf(label: string, locateFixedS: number, wraps: number): CostModel {
    let c = this.costs.get(label);
    if (c === undefined) {
      const lib = this.library;
      c = {
        locate: (from, to) => lib.locateSeconds(label, from, to),
        transfer: (bytes) => lib.transferSeconds(bytes),
        mountS: lib.mountSeconds(),
        unmountS: lib.unmountSeconds(),
        locateFixedS,
        wrapBytes: lib.cartridge(label).capacity / wraps,
      };
      this.costs.set(label, c);
    }
    return c;
  }
}

