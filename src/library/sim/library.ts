import type { Catalog } from '../../catalog/interface.js';
import type { Clock } from '../../clock/interface.js';
import type { Config } from '../../core/config.js';
import { DeimosError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { TapeVolume, type TapeDrive } from '../../media/tape.js';
import type { CartridgeInfo, DriveModel, DriveState, Library, SlotState } from '../interface.js';
import { locateSeconds, mountSeconds, syncSeconds, timingFromConfig, transferSeconds, unmountSeconds, type TapeTiming } from '../timing.js';
import { Faults } from './faults.js';
import { Health, type Failure } from './health.js';
import { accepts, inventoryFromConfig } from './inventory.js';
import { cartridgeDir } from './seed.js';
import { Semaphore } from './semaphore.js';
import { loadState, placeCartridges, StateWriter, type SimState } from './state.js';

/**
 * The simulated library: real bytes on real files, simulated time. Every
 * robot move, load, locate, transfer, sync and unload is charged to the
 * clock with the timing model, so the scheduler above it behaves as it
 * would on hardware.
 *
 * Lock order: a drive's lock, then a robot. Loads and unloads reserve the
 * drive and cartridge synchronously (before any await), so concurrent calls
 * get EBUSY instead of racing.
 */

export interface SimLibraryOptions {
  config: Config;
  catalog: Catalog;
  clock: Clock;
  /** Holds cartridges/<label>/ with each cartridge's files. */
  dir: string;
  log?: Logger;
}

class SimDrive implements TapeDrive {
  loaded: string | null = null;
  position = 0;
  failed = false;
  /** A load or unload is in progress. */
  moving = false;
  readonly lock = new Semaphore(1);

  constructor(
    readonly name: string,
    readonly model: DriveModel,
    readonly settled: () => Promise<void>,
    private readonly readHook: (d: SimDrive) => Promise<void>,
  ) {}

  acquire(): Promise<() => void> {
    return this.lock.acquire();
  }

  beforeRead(): Promise<void> {
    return this.readHook(this);
  }
}

interface SimCartridge {
  model: DriveModel;
  volume: TapeVolume;
  failed: boolean;
  where: { slot: number } | { drive: string };
  home: number | null;
}

export class SimLibrary implements Library {
  readonly clock: Clock;
  private readonly timing: TapeTiming;
  private readonly drives = new Map<string, SimDrive>();
  private readonly carts = new Map<string, SimCartridge>();
  private slots: (string | null)[] = [];
  private readonly robots: Semaphore;
  /**
   * When each robot is done with the moves asked of it (clock ms). Robots
   * serve moves first come, first served, and every move takes
   * robot_move_s, so a move asked for now starts when the earliest is free.
   */
  private readonly robotFreeAt: number[];
  private readonly faults: Faults;
  private readonly writer: StateWriter;
  private closed = false;

  static async open(opts: SimLibraryOptions): Promise<SimLibrary> {
    const inv = inventoryFromConfig(opts.config);
    const saved = await loadState(opts.catalog);
    const lib = new SimLibrary(opts, new Health(opts.catalog, inv.healthMax, saved?.errors), inv.robots, inv.drives.map((d) => d.name));
    const place = placeCartridges(inv, saved);
    lib.slots = place.slots;
    const chunkSize = opts.config.size('store', 'io_block_size');
    const failedDrives = new Set((await opts.catalog.listDrives()).filter((r) => r.admStatus === 'failed').map((r) => r.name));
    const failedMedia = new Set((await opts.catalog.listMedia({ family: 'tape' })).filter((r) => r.admStatus === 'failed').map((r) => r.name));
    for (const spec of inv.drives) {
      const d = new SimDrive(spec.name, spec.model, () => lib.settle(), (drv) => lib.readFault(drv));
      const p = place.drives.get(spec.name)!;
      d.loaded = p.loaded;
      d.position = p.position;
      d.failed = failedDrives.has(spec.name) || lib.health.failedUnregistered('drive', spec.name);
      lib.drives.set(spec.name, d);
    }
    for (const spec of inv.cartridges) {
      const t = lib.timing;
      const volume = await TapeVolume.open({
        label: spec.label,
        dir: cartridgeDir(opts.dir, spec.label),
        capacity: spec.capacity,
        clock: opts.clock,
        chunkSize,
        costs: {
          locate: (from, to) => locateSeconds(t, spec.capacity, from, to),
          transfer: (bytes) => transferSeconds(t, bytes),
          sync: () => syncSeconds(t),
        },
      });
      const holder = [...lib.drives.values()].find((d) => d.loaded === spec.label);
      if (holder) volume.attach(holder);
      const slot = lib.slots.indexOf(spec.label);
      lib.carts.set(spec.label, {
        model: spec.model,
        volume,
        failed: failedMedia.has(spec.label) || lib.health.failedUnregistered('medium', spec.label),
        where: holder ? { drive: holder.name } : { slot },
        home: holder ? place.drives.get(holder.name)!.home : slot,
      });
    }
    await lib.writer.save();
    return lib;
  }

  private constructor(
    private readonly opts: SimLibraryOptions,
    private readonly health: Health,
    robots: number,
    driveOrder: string[],
  ) {
    this.clock = opts.clock;
    this.timing = timingFromConfig(opts.config);
    this.robots = new Semaphore(robots);
    this.robotFreeAt = Array.from({ length: robots }, () => -Infinity);
    this.faults = new Faults(opts.config);
    this.writer = new StateWriter(opts.catalog, () => this.snapshot(), driveOrder);
  }

  async scan(): Promise<{ slots: SlotState[]; drives: DriveState[]; cartridges: CartridgeInfo[] }> {
    return {
      slots: this.slots.map((label, address) => ({ address, label })),
      drives: [...this.drives.keys()].map((n) => this.drive(n)),
      cartridges: [...this.carts.keys()].map((l) => this.cartridge(l)),
    };
  }

  drive(name: string): DriveState {
    const d = this.driveOf(name);
    return { name: d.name, model: d.model, loaded: d.loaded, position: d.position, failed: d.failed };
  }

  cartridge(label: string): CartridgeInfo {
    const c = this.cartOf(label);
    const v = c.volume;
    return { label, model: c.model, capacity: v.capacity, eod: v.eod, failed: c.failed, location: { ...c.where } };
  }

  async load(driveName: string, label: string): Promise<void> {
    this.requireOpen();
    const d = this.driveOf(driveName);
    const c = this.cartOf(label);
    if (d.failed) throw new DeimosError('ENODEV', `drive ${d.name} is failed`, 'see its errors in the logs; unlock it once repaired');
    if (c.failed) throw new DeimosError('EIO', `cartridge ${label} is failed`, 'see its errors in the logs; read its data from another copy');
    if (d.moving) throw new DeimosError('EBUSY', `drive ${d.name} is loading or unloading`, 'wait for it, or use another drive');
    if (d.loaded !== null) throw new DeimosError('EBUSY', `drive ${d.name} holds cartridge ${d.loaded}`, 'unload it first, or use another drive');
    if ('drive' in c.where) throw new DeimosError('EBUSY', `cartridge ${label} is in drive ${c.where.drive}`, 'a cartridge is in one drive at a time: use it there, or unload it');
    if (!accepts(d.model, c.model)) throw new DeimosError('EMEDIUMTYPE', `an ${d.model} drive does not take ${c.model} cartridge ${label}`, 'use a drive of the same generation or the next one');
    const home = c.where.slot;
    this.slots[home] = null;
    c.where = { drive: d.name };
    c.home = home;
    d.loaded = label;
    d.moving = true;
    try {
      await this.robotMove();
      await this.clock.sleep(this.timing.loadS * 1000);
      const culprits = this.faults.loadFails([d.name, label]);
      if (culprits.length > 0) {
        await this.robotMove();
        this.putBack(label, c);
        d.loaded = null;
        const error = new DeimosError('EIO', `load of cartridge ${label} in drive ${d.name} failed`, 'the scheduler tries another drive or cartridge');
        for (const name of culprits) {
          const kind = name === d.name ? 'drive' : 'medium';
          if (await this.health.record({ kind, name, device: d.name, medium: label, cause: 'load', error })) {
            if (kind === 'drive') d.failed = true;
            else c.failed = true;
          }
        }
        await this.writer.save();
        throw error;
      }
      d.position = 0;
      c.volume.attach(d);
    } finally {
      d.moving = false;
    }
    await this.writer.save();
    const cat = this.opts.catalog;
    if (await cat.getDrive(d.name)) await cat.updateDrive(d.name, { loaded: label });
    const medium = await cat.getMedium('tape', label);
    if (medium) await cat.updateMedium('tape', label, { nbLoad: medium.nbLoad + 1, lastLoad: Date.now() });
    await cat.addLog({ kind: 'drive', device: d.name, medium: label, cause: 'load', errno: 0, message: `loaded ${label} in ${d.name}` });
  }

  async unload(driveName: string): Promise<void> {
    this.requireOpen();
    const d = this.driveOf(driveName);
    if (d.moving) throw new DeimosError('EBUSY', `drive ${d.name} is loading or unloading`, 'wait for it');
    if (d.loaded === null) throw new DeimosError('ENOMEDIUM', `drive ${d.name} holds no cartridge`);
    const label = d.loaded;
    const c = this.cartOf(label);
    d.moving = true;
    const release = await d.lock.acquire();
    try {
      await c.volume.unmount();
      await this.clock.sleep(this.timing.unloadS * 1000);
      await this.robotMove();
      this.putBack(label, c);
      d.loaded = null;
      d.position = 0;
    } finally {
      d.moving = false;
      release();
    }
    await this.writer.save();
    if (await this.opts.catalog.getDrive(d.name)) await this.opts.catalog.updateDrive(d.name, { loaded: null });
    await this.opts.catalog.addLog({ kind: 'drive', device: d.name, medium: label, cause: 'unload', errno: 0, message: `unloaded ${label} from ${d.name}` });
  }

  /** The loaded cartridge's volume: the same object for as long as the library lives. */
  open(driveName: string): TapeVolume {
    const d = this.driveOf(driveName);
    const v = d.loaded === null ? null : this.cartOf(d.loaded).volume;
    // Until a load completes (and once an unload has begun) the drive has nothing to offer.
    if (v?.loadedIn !== d.name) throw new DeimosError('ENOMEDIUM', `drive ${d.name} holds no loaded cartridge`, 'load one first');
    return v;
  }

  async format(driveName: string): Promise<void> {
    const v = this.open(driveName);
    await v.format();
    const cat = this.opts.catalog;
    if (await cat.getMedium('tape', v.name)) {
      await cat.updateMedium('tape', v.name, { fsStatus: 'empty', fsType: 'ltfs', sizeTotal: v.capacity, sizeUsed: 0, sizeFree: v.capacity, nbObj: 0 });
    }
  }

  locateSeconds(label: string, from: number, to: number): number {
    return locateSeconds(this.timing, this.cartOf(label).volume.capacity, from, to);
  }

  transferSeconds(bytes: number): number {
    return transferSeconds(this.timing, bytes);
  }

  mountSeconds(): number {
    return mountSeconds(this.timing);
  }

  /** Unload and move back; with a drive, also its rewind from the head's position. */
  unmountSeconds(driveName?: string): number {
    const d = driveName === undefined ? null : this.driveOf(driveName);
    if (d?.loaded) return unmountSeconds(this.timing, this.cartOf(d.loaded).volume.capacity, d.position);
    return this.timing.unloadS + this.timing.robotMoveS;
  }

  /**
   * Writes the index of every loaded cartridge that has unsynced data (as an
   * LTFS unmount would; this charges sync time, so close before stopping the
   * clock). Cartridges stay in their drives.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.drives.values()) {
      const v = d.loaded ? this.carts.get(d.loaded)?.volume : undefined;
      if (v?.loadedIn === d.name && v.unsynced) await v.sync();
    }
    await this.writer.save();
  }

  /** Into its home slot, or the first free one if another cartridge took it meanwhile. */
  private putBack(label: string, c: SimCartridge): void {
    const slot = c.home !== null && this.slots[c.home] === null ? c.home : this.slots.indexOf(null);
    this.slots[slot] = label;
    c.where = { slot };
    c.home = slot;
  }

  robotWaitSeconds(): number {
    return Math.max(0, Math.min(...this.robotFreeAt) - this.clock.now()) / 1000;
  }

  private async robotMove(): Promise<void> {
    const i = this.robotFreeAt.indexOf(Math.min(...this.robotFreeAt));
    this.robotFreeAt[i] = Math.max(this.clock.now(), this.robotFreeAt[i]!) + this.timing.robotMoveS * 1000;
    await this.robots.use(() => this.clock.sleep(this.timing.robotMoveS * 1000));
  }

  private async readFault(d: SimDrive): Promise<void> {
    const label = d.loaded!;
    if (!this.faults.readFails(label)) return;
    const error = new DeimosError('EIO', `read error on cartridge ${label} in drive ${d.name}`, 'read another copy of the data');
    const f: Failure = { kind: 'medium', name: label, device: d.name, medium: label, cause: 'read', error };
    if (await this.health.record(f)) this.cartOf(label).failed = true;
    throw error;
  }

  /** After a volume operation: the head position must survive a restart. */
  private async settle(): Promise<void> {
    try {
      await this.writer.save();
    } catch (e) {
      this.opts.log?.warn({ err: e }, 'cannot save the state of the sim library');
    }
  }

  private snapshot(): SimState {
    const drives: SimState['drives'] = {};
    for (const d of this.drives.values()) {
      drives[d.name] = { loaded: d.loaded, position: d.position, home: d.loaded ? this.cartOf(d.loaded).home : null };
    }
    const { unregistered } = this.health;
    return {
      version: 1,
      slots: [...this.slots],
      drives,
      errors: { drives: Object.fromEntries(unregistered.drives), media: Object.fromEntries(unregistered.media) },
    };
  }

  private driveOf(name: string): SimDrive {
    const d = this.drives.get(name);
    if (!d) throw new DeimosError('ENOENT', `no drive ${name} in the library`, `drives are: ${[...this.drives.keys()].join(', ')}`);
    return d;
  }

  private cartOf(label: string): SimCartridge {
    const c = this.carts.get(label);
    if (!c) throw new DeimosError('ENOENT', `no cartridge ${label} in the library`, 'see the cartridges with deimos tape list');
    return c;
  }

  private requireOpen(): void {
    if (this.closed) throw new DeimosError('ECANCELED', 'the library is closed');
  }
}
