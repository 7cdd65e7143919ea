/**
 * Read-ordering policies (Phobos' io_sched algorithms): one file per
 * algorithm behind this interface, chosen by `io_sched.policy`.
 *
 * The tape scheduler owns the mechanics (queues per medium, drives, mounts,
 * ageing, failures); a policy only answers two questions:
 *  - which medium a free drive should take next (`mediumValue`, `gatherMs`,
 *    `grouped`), and
 *  - in which order the requests of one medium are read (`newOrder`).
 * Everything a policy sees is plain data plus a cost model, so policies are
 * unit-tested without a library.
 */

export type PolicyName = 'fifo' | 'grouped-fifo' | 'grouped-sorted' | 'nearest' | 'cost';

export const POLICY_NAMES: readonly PolicyName[] = ['fifo', 'grouped-fifo', 'grouped-sorted', 'nearest', 'cost'];

/** One queued read as a policy sees it. */
export interface PendingRead {
  /** Unique per request for the life of the scheduler. */
  id: number;
  /** Start of the extent on this medium, bytes. */
  position: number;
  size: number;
  /** Simulated ms when the request was queued. */
  arrivalMs: number;
}

/** The physics of one cartridge, from the library's timing model. */
export interface CostModel {
  /** Seconds to move the head from byte `from` to byte `to` (0 when equal; read-through of short gaps included). */
  locate(from: number, to: number): number;
  transfer(bytes: number): number;
  /** Robot move + load, and rewind + unload + move back. */
  mountS: number;
  unmountS: number;
  /** The cheapest any locate can be, apart from read-through: gaps cheaper than this are always read through. */
  locateFixedS: number;
  /** Bytes on one wrap: how far apart on tape two positions really are. */
  wrapBytes: number;
}

/**
 * The order of one medium's queue. It lives as long as the medium has
 * queued reads, mounted or not: requests join it as they arrive (also
 * while the medium is being read) and leave it when served elsewhere
 * (a replica read from another medium).
 */
export interface MediumOrder {
  add(r: PendingRead): void;
  remove(id: number): void;
  /**
   * The request to read next with the head at `head`, or null when empty.
   * `pressure`: requests waiting for other cartridges per drive — what each
   * second this drive spends here delays. `othersS`: seconds until the
   * other drives' planned work ends (the makespan is at least that), asked
   * only when an order would lengthen this cartridge's path for its
   * requesters' sake (cost.ts: a restore started further along).
   */
  next(head: number, nowMs: number, pressure?: number, othersS?: () => number): PendingRead | null;
  /**
   * Optional: the next of the requests `passedOver` accepts (those the
   * scheduler's ageing serves before any other), in this order's own sense.
   * Without it the oldest is read: in a long mount of a large burst every
   * request ends up passed over, and arrival order is then a random walk
   * over the tape.
   */
  nextPassedOver?(head: number, nowMs: number, pressure: number, passedOver: (r: PendingRead) => boolean): PendingRead | null;
  readonly size: number;
  /** Optional: seconds to read the queue from `head` along the current order, without changing it. */
  plannedS?(head: number): number;
  /**
   * Optional: when next() returned null with requests queued, the order is
   * holding the drive for requests about to arrive (cost.ts: a front of
   * requests catching up with the head); the scheduler looks again at this
   * time, or at the next arrival.
   */
  readonly holdUntilMs?: number | null;
}

/** What the scheduler knows of a medium's queue when choosing what to mount. */
export interface QueueSummary {
  medium: string;
  reads: number;
  bytes: number;
  oldestMs: number;
  /** Arrival of the most recent request. */
  newestMs: number;
  /** Loaded in a drive right now. */
  mounted: boolean;
  /** Seconds to read the queue once mounted, as estimated by the policy's order (0 if unknown). */
  serviceS: number;
}

/** The situation a choice of medium is made in. */
export interface ChoiceContext {
  /** More unmounted queues wait than drives are free to take them. */
  contended: boolean;
}

export interface ReadPolicy {
  readonly name: PolicyName;
  /**
   * true: a drive reads its medium's whole queue before looking elsewhere
   * (requests arriving meanwhile join the batch). false (fifo): the next
   * request overall decides, so the drive may switch after every request.
   */
  readonly grouped: boolean;
  newOrder(medium: string, cost: CostModel): MediumOrder;
  /**
   * Worth of serving this queue now; the highest is taken first. Aged
   * requests are handled before this by the scheduler.
   */
  mediumValue(q: QueueSummary, nowMs: number, cost: CostModel, ctx: ChoiceContext): number;
  /**
   * How long an unmounted medium's queue gathers requests before it is
   * worth a mount (0: mount at once). The scheduler waits only when the
   * mount would take a drive from another cartridge (an empty drive is
   * taken at once: nobody loses it), and not for an aged queue.
   * `lastReadMs`: when the latest read request arrived, on any medium.
   */
  gatherMs(q: QueueSummary, nowMs: number, lastReadMs: number): number;
  /**
   * Optional: how long the first read load of a cold library (no cartridge
   * in any usable drive, none moving, the robot idle: tape/coldStart.ts)
   * still waits for the burst to be known, so that the choice of the first
   * cartridge is made on it (0: load now). `oldestMs`: arrival of the
   * oldest pending read; `lastReadMs`: of the latest, on any medium.
   * Without it, the first request's cartridge is loaded at once.
   */
  coldGatherMs?(oldestMs: number, nowMs: number, lastReadMs: number): number;
  /** Estimate of seconds to read a queue from `head` (for value/cost choices); 0 if the policy does not estimate. */
  estimate?(order: MediumOrder, head: number): number;
  /**
   * Optional: what it costs to take an idle drive that holds a cartridge
   * (lower is taken first). Without it, the drive idle longest is taken.
   */
  evictionCost?(d: { unmountS: number; idleMs: number }): number;
}

export interface PolicyOptions {
  /** Requests older than this are served first (ms). */
  ageingMs: number;
  /** io_sched.read_gather_s in ms: the longest an unmounted medium gathers its burst (0: off). */
  readGatherMs?: number;
  /** io_sched.cold_gather_s in ms: the longest the first load of a cold library waits for its burst (0: off). */
  coldGatherMs?: number;
  /** io_sched.cold_quiet_s in ms: that burst is over when no read came for this long. */
  coldQuietMs?: number;
}
