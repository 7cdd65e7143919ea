import { mkdir } from 'node:fs/promises';
import { type Config, type Logger, homePaths, type HomePaths } from '../core/index.js';
import { openCatalog, type Catalog } from '../catalog/index.js';
import { createScheduler, type Scheduler } from '../scheduler/index.js';
import { createClock, type Clock } from '../clock/index.js';
import { createLibrary, type Library } from '../library/index.js';
import { Store } from '../store/index.js';
import type { DiskCache, FileCache, RecoverReport } from '../cache/index.js';

/** The mount a service serves (deimos mount): where, and how to stop it from a command. */
export interface ServedMount {
  readonly mountpoint: string;
  stop(): void;
}

/**
 * The service object: everything one owner process holds. No other mutable
 * state exists outside it; commands and the mount reach resources through it.
 */
export class Service {
  /** The disk cache of the mount; null unless this service serves one. */
  cache: FileCache | null = null;
  mount: ServedMount | null = null;
  /** The cache opened for commands while no mount serves it, and how many commands use it. */
  private borrowed: { cache: Promise<DiskCache>; users: number } | null = null;
  private cacheClosed: Promise<void> = Promise.resolve();

  private constructor(
    readonly paths: HomePaths,
    readonly config: Config,
    readonly log: Logger,
    readonly catalog: Catalog,
    readonly clock: Clock,
    readonly library: Library,
    readonly scheduler: Scheduler,
    readonly store: Store,
  ) {}

  /** Opens the store in `home`. The caller holds the owner lock. */
  static async open(opts: { home: string; config: Config; log: Logger }): Promise<Service> {
    const paths = homePaths(opts.home);
    await mkdir(paths.home, { recursive: true, mode: 0o755 });
    const catalog = await openCatalog(paths.catalog, { commitDelayMs: opts.config.num('fuse', 'commit_delay_ms') });
    try {
      const clock = createClock(opts.config);
      const library = await createLibrary({ config: opts.config, catalog, clock, dir: paths.library, log: opts.log.child({ box: 'library' }) });
      const scheduler = createScheduler({ catalog, config: opts.config, library, clock, log: opts.log.child({ box: 'scheduler' }) });
      const store = new Store({ catalog, scheduler, config: opts.config, log: opts.log.child({ box: 'store' }) });
      const svc = new Service(paths, opts.config, opts.log, catalog, clock, library, scheduler, store);
      await scheduler.opened();
      await store.recover();
      opts.log.debug({ home: paths.home, pid: process.pid }, 'store opened');
      return svc;
    } catch (e) {
      await catalog.close();
      throw e;
    }
  }

  /** Opens the disk cache of this store, recovered: dirty files of an earlier run are queued for flushing. */
  async openCache(): Promise<{ cache: DiskCache; recovered: RecoverReport }> {
    // Loaded here, not at start-up: most commands never touch the cache.
    const { createCache } = await import('../cache/index.js');
    const cache = createCache({
      catalog: this.catalog, store: this.store, config: this.config, log: this.log.child({ box: 'cache' }),
      tuning: { dir: this.config.str('cache', 'dir') || this.paths.cache },
    });
    const recovered = await cache.recover();
    if (recovered.dirty) this.log.info(recovered, 'dirty files of an earlier run are queued for flushing');
    return { cache, recovered };
  }

  /**
   * Runs `fn` with the disk cache: the mount's, or, with no mount, one
   * opened for the commands that need it (flush after an unmount, stage
   * before a mount) and shut down when the last of them is over.
   */
  async withCache<T>(fn: (cache: FileCache, mounted: boolean) => Promise<T>): Promise<T> {
    if (this.cache) return fn(this.cache, true);
    // A new cache waits until the last one has shut down: never two on one directory.
    const b = this.borrowed ?? (this.borrowed = { cache: this.cacheClosed.then(() => this.openCache()).then((r) => r.cache), users: 0 });
    b.users++;
    try {
      return await fn(await b.cache, false);
    } finally {
      if (--b.users === 0) {
        this.borrowed = null;
        const closed = b.cache.then((c) => c.shutdown());
        this.cacheClosed = closed.catch(() => undefined);
        await closed;
      }
    }
  }

  async close(): Promise<void> {
    try {
      await this.scheduler.drain();
    } finally {
      await this.scheduler.close();
      await this.library.close();
      this.clock.stop?.();
      await this.catalog.close();
    }
  }
}
