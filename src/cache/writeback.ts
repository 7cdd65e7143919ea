/**
 * The write-back queue: which dirty files to flush, and when. It knows each
 * item only as {key, size, dirty since} plus `put(key)`, so it is tested
 * with no cache at all (rclone's vfscache/writeback, rebuilt on our terms):
 *
 * - a group starts when the eligible items reach `nb` files or `bytes`
 *   bytes, or the oldest is `ageMs` old; the group is every eligible item,
 *   all put at once so that the tape scheduler writes them back to back and
 *   syncs them together;
 * - eligible: not being put, not held (open for write), not backing off,
 *   not changed within `delayMs` (a file read, renamed or written again
 *   right after its close is not flushed under its users' feet);
 * - a failed put backs off (doubling delays); a put that finds its file
 *   changed meanwhile ('changed') leaves the item queued, as does a re-add
 *   while the put ran (cancel on modify);
 * - `flush(keys)` puts items now whatever the thresholds, and may wait.
 */
import { DeimosError, type Logger } from '../core/index.js';
import { Kick, type Timers } from './timers.js';

export type PutOutcome = 'done' | 'changed';

export interface WritebackPolicy {
  ageMs: number;
  /** An item is not put until this long after its last add (its last change), unless forced (default 0). */
  delayMs?: number;
  nb: number;
  bytes: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * Puts running at once, over all groups (default 64). Each holds its
   * cache file open while it waits for its media: a flusher that fell
   * behind a `tar x` of 10,000 files ran out of descriptors without it.
   */
  maxPuts?: number;
}

export interface WritebackDeps<K> {
  policy: WritebackPolicy;
  timers: Timers;
  /**
   * `group` numbers the group the put belongs to (its puts go to the same
   * media); `forced`: someone asked for this item (flush()), not a threshold.
   */
  put(key: K, group: number, forced: boolean): Promise<PutOutcome>;
  /** Told before the puts of a group start (the cache records them as flushing in one transaction). */
  onGroup?(keys: K[]): Promise<void>;
  /** Told once every put of a group is over (the cache records the outcomes in one transaction). */
  onGroupDone?(keys: K[]): Promise<void>;
  log?: Logger;
}

interface Waiter { resolve(): void; reject(e: unknown): void }

interface Item<K> {
  key: K;
  size: number;
  dirtySince: number;
  /** When it was last added (changed). */
  changedAt: number;
  attempts: number;
  notBefore: number;
  /** Bumped by every add: a put that started at another seq no longer covers the item. */
  seq: number;
  forced: boolean;
  /** Waiters for the next put to start, and for the one running. */
  waiting: Waiter[];
  covered: Waiter[];
}

export interface WritebackStats { queued: number; bytes: number; running: number; groups: number; puts: number; failures: number; picks: number }

export class WritebackQueue<K> {
  private readonly items = new Map<K, Item<K>>();
  /** The items no put is running for (the others are running): what pick looks at, so a long backlog in flight costs nothing per kick. */
  private readonly idle = new Map<K, Item<K>>();
  /** The bytes of the idle items (wake() compares them with the volume threshold). */
  private idleBytes = 0;
  private readonly holds = new Map<K, number>();
  private readonly kick = new Kick();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private readonly loopDone: Promise<void>;
  private readonly counters = { groups: 0, puts: 0, failures: 0, picks: 0 };
  /** While the loop sleeps: the deadline it sleeps until (Infinity: until a kick); null while it runs. */
  private sleepingUntil: number | null = null;
  /** Puts running now (at most maxPuts); the others wait in slotWaiters. */
  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(private readonly d: WritebackDeps<K>) {
    this.loopDone = this.loop();
  }

  /** Queues a new or modified item; the age of a re-added item counts from its first add. */
  add(key: K, size: number, dirtySince = this.d.timers.now()): void {
    const it = this.items.get(key);
    const now = this.d.timers.now();
    if (it) {
      if (this.idle.has(key)) this.idleBytes += size - it.size;
      it.size = size;
      it.seq++;
      it.changedAt = now;
    } else {
      const item: Item<K> = { key, size, dirtySince, changedAt: now, attempts: 0, notBefore: 0, seq: 0, forced: false, waiting: [], covered: [] };
      this.items.set(key, item);
      this.toIdle(item);
    }
    this.wake(this.items.get(key));
  }

  /** Forgets an item (its file is gone); whoever waits for it is released. */
  remove(key: K): void {
    const it = this.items.get(key);
    if (!it) return;
    this.items.delete(key);
    this.fromIdle(it);
    for (const w of [...it.waiting, ...it.covered]) w.resolve();
  }

  has(key: K): boolean {
    return this.items.has(key);
  }

  /** Open for write: not flushed by the thresholds until released. */
  hold(key: K): void {
    this.holds.set(key, (this.holds.get(key) ?? 0) + 1);
  }

  release(key: K): void {
    const n = (this.holds.get(key) ?? 0) - 1;
    if (n > 0) this.holds.set(key, n);
    else this.holds.delete(key);
    this.wake(this.items.get(key));
  }

  /**
   * Kicks the loop after a change of `it` (or of a key it does not queue),
   * unless `it` cannot make a group due before the deadline the loop sleeps
   * until: pick() looks at every idle item, and each close adds or releases
   * one, so a kick per close made a backlog of N files cost N² item visits.
   * Below the count and volume thresholds, only its age can; above them,
   * it may complete a count once it is eligible.
   */
  private wake(it: Item<K> | undefined): void {
    const until = this.sleepingUntil;
    if (until !== null && (it === undefined || (!it.forced && (this.holds.has(it.key) || this.goesAt(it) >= until)))) return;
    this.kick.kick();
  }

  /** The earliest a group that `it` makes due could go, the other items as they are. */
  private goesAt(it: Item<K>): number {
    const p = this.d.policy;
    const from = this.notBefore(it);
    if (this.idle.size >= p.nb || this.idleBytes >= p.bytes) return from;
    return Math.max(from, it.dirtySince + p.ageMs);
  }

  /**
   * Puts the given items (all when omitted) now. With `wait`, resolves once
   * each has been put by a put that started after this call, or rejects with
   * the first failure; a put cancelled by a change waits for the next one.
   */
  async flush(keys?: K[], opts: { wait?: boolean } = {}): Promise<void> {
    const targets = keys === undefined ? [...this.items.values()] : keys.map((k) => this.items.get(k)).filter((x): x is Item<K> => !!x);
    const waits: Promise<void>[] = [];
    for (const it of targets) {
      it.forced = true;
      if (opts.wait) waits.push(new Promise<void>((resolve, reject) => it.waiting.push({ resolve, reject })));
    }
    this.kick.kick();
    await Promise.all(waits);
  }

  stats(): WritebackStats {
    let bytes = 0;
    for (const it of this.items.values()) bytes += it.size;
    return { queued: this.items.size, bytes, running: this.items.size - this.idle.size, ...this.counters };
  }

  /**
   * Stops starting puts; resolves when those running are over. Puts still
   * waiting for a slot do not start: their items stay queued (dirty in the
   * cache, flushed at the next start) and whoever waits for them is told.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kick.kick();
    for (const wake of this.slotWaiters.splice(0)) wake();
    await this.loopDone;
    await Promise.all([...this.running]);
    const stopped = new DeimosError('ECANCELED', 'the cache stopped before this file was flushed', 'it stays dirty in the cache and is flushed when the mount starts again');
    for (const it of this.items.values()) {
      for (const w of [...it.waiting, ...it.covered]) w.reject(stopped);
      it.waiting = [];
      it.covered = [];
    }
  }

  private toIdle(it: Item<K>): void {
    if (this.idle.has(it.key)) return;
    this.idle.set(it.key, it);
    this.idleBytes += it.size;
  }

  private fromIdle(it: Item<K>): void {
    if (this.idle.delete(it.key)) this.idleBytes -= it.size;
  }

  /** Backing off after a failure, or changed too recently (delayMs). */
  private notBefore(it: Item<K>): number {
    return Math.max(it.notBefore, it.changedAt + (this.d.policy.delayMs ?? 0));
  }

  /**
   * The group to put now, or null and the time at which one would be due
   * if nothing changes meanwhile: the earliest of the age deadline and the
   * moment the items that become eligible complete a count or a volume.
   * Waking instead each time one more item became eligible made a backlog
   * of N files, flushed or not (thresholds out of reach), cost N² visits.
   */
  pick(now: number): { group: Item<K>[] } | { next: number | null } {
    this.counters.picks++;
    const p = this.d.policy;
    const ready: Item<K>[] = [];
    const later: Item<K>[] = [];
    let bytes = 0;
    let laterBytes = 0;
    let oldest = Infinity;
    let agedAt = Infinity;
    let forced = false;
    for (const it of this.idle.values()) {
      if (it.forced) forced = true;
      if (this.holds.has(it.key)) continue;
      const from = this.notBefore(it);
      agedAt = Math.min(agedAt, Math.max(from, it.dirtySince + p.ageMs));
      if (from > now) {
        later.push(it);
        laterBytes += it.size;
        continue;
      }
      ready.push(it);
      bytes += it.size;
      oldest = Math.min(oldest, it.dirtySince);
    }
    const due = ready.length > 0 && (ready.length >= p.nb || bytes >= p.bytes || oldest + p.ageMs <= now);
    if (due || forced) {
      // A forced item goes even if held or backing off.
      const group = new Set(due ? ready : []);
      for (const it of this.idle.values()) if (it.forced) group.add(it);
      return { group: [...group] };
    }
    let next = agedAt;
    if (ready.length + later.length >= p.nb || bytes + laterBytes >= p.bytes) {
      later.sort((a, b) => this.notBefore(a) - this.notBefore(b));
      let n = ready.length;
      let b = bytes;
      for (const it of later) {
        n++;
        b += it.size;
        if (n >= p.nb || b >= p.bytes) {
          next = Math.min(next, this.notBefore(it));
          break;
        }
      }
    }
    return { next: Number.isFinite(next) ? next : null };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const now = this.d.timers.now();
      const r = this.pick(now);
      if ('group' in r) {
        const p = this.runGroup(r.group).finally(() => this.running.delete(p));
        this.running.add(p);
        continue;
      }
      const wait = r.next === null || !Number.isFinite(r.next) ? null : r.next - now;
      this.sleepingUntil = wait === null ? Infinity : r.next!;
      try {
        await this.d.timers.waitUntilKick(wait, this.kick.next());
      } finally {
        this.sleepingUntil = null;
      }
    }
  }

  private async runGroup(group: Item<K>[]): Promise<void> {
    const groupNo = ++this.counters.groups;
    const seqs = new Map<Item<K>, number>();
    const forced = new Set(group.filter((it) => it.forced));
    for (const it of group) {
      this.fromIdle(it);
      it.forced = false;
      it.covered.push(...it.waiting);
      it.waiting = [];
      seqs.set(it, it.seq);
    }
    let groupError: unknown = null;
    try {
      await this.d.onGroup?.(group.map((it) => it.key));
    } catch (e) {
      groupError = e;
    }
    await Promise.all(group.map(async (it) => {
      try {
        if (groupError) throw groupError;
        const outcome = await this.slot(() => {
          this.counters.puts++;
          return this.d.put(it.key, groupNo, forced.has(it));
        });
        if (outcome === null) this.unstarted(it);
        else this.settle(it, outcome, seqs.get(it)!);
      } catch (e) {
        this.fail(it, e);
      }
    }));
    await this.d.onGroupDone?.(group.map((it) => it.key)).catch((e) => this.d.log?.warn({ err: e }, 'recording the end of a flush group'));
    this.kick.kick();
  }

  /** Runs `fn` once fewer than maxPuts puts run; null, without running it, once the queue stops. */
  private async slot<T>(fn: () => Promise<T>): Promise<T | null> {
    const max = this.d.policy.maxPuts ?? 64;
    while (this.active >= max && !this.stopped) await new Promise<void>((r) => this.slotWaiters.push(r));
    if (this.stopped) return null;
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.slotWaiters.shift()?.();
    }
  }

  private settle(it: Item<K>, outcome: PutOutcome, seq: number): void {
    if (this.items.get(it.key) !== it) return;
    if (outcome === 'done' && it.seq === seq) {
      this.items.delete(it.key);
      for (const w of [...it.covered, ...it.waiting]) w.resolve();
      return;
    }
    // Changed during the put: what the waiters wanted flushed is not yet.
    it.attempts = 0;
    this.unstarted(it);
  }

  /** Back in the queue as before its put (which did not start, or did not count): its waiters wait for the next. */
  private unstarted(it: Item<K>): void {
    if (this.items.get(it.key) !== it) return;
    it.waiting.unshift(...it.covered);
    it.covered = [];
    this.toIdle(it);
  }

  private fail(it: Item<K>, e: unknown): void {
    this.counters.failures++;
    if (this.items.get(it.key) !== it) return;
    this.toIdle(it);
    it.attempts++;
    const p = this.d.policy;
    const delay = Math.min(p.backoffMaxMs, p.backoffBaseMs * 2 ** (it.attempts - 1));
    it.notBefore = this.d.timers.now() + delay;
    this.d.log?.warn({ err: e, key: String(it.key), attempts: it.attempts, retryInMs: delay }, 'flush failed; will retry');
    for (const w of it.covered) w.reject(e);
    it.covered = [];
  }

  /** Attempts and backoff of an item, for the cache's catalog entry. */
  backoff(key: K): { attempts: number; notBefore: number } | null {
    const it = this.items.get(key);
    return it ? { attempts: it.attempts, notBefore: it.notBefore } : null;
  }
}
