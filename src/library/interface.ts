import type { MediumIO } from '../media/interface.js';
import type { Clock } from '../clock/interface.js';

/**
 * A tape library: slots, drives and robots. The `sim` driver charges every
 * move, load, locate, transfer, sync and unload to its Clock; a `scsi`
 * driver (mtx + LTFS) will implement the same interface.
 */

export type DriveModel = 'LTO8' | 'LTO9';

export interface SlotState {
  address: number;
  label: string | null;
}

export interface DriveState {
  name: string;
  model: DriveModel;
  /** Label of the loaded cartridge, or null. */
  loaded: string | null;
  /** Head position in bytes from the start of the loaded cartridge. */
  position: number;
  failed: boolean;
}

export interface CartridgeInfo {
  label: string;
  model: DriveModel;
  capacity: number;
  /** End of data in bytes: where the next write appends. */
  eod: number;
  failed: boolean;
  /** Where it is: a slot address or a drive name. */
  location: { slot: number } | { drive: string };
}

export interface Library {
  readonly clock: Clock;
  scan(): Promise<{ slots: SlotState[]; drives: DriveState[]; cartridges: CartridgeInfo[] }>;
  drive(name: string): DriveState;
  cartridge(label: string): CartridgeInfo;
  /** Robot move + load/thread. EBUSY if the cartridge is in another drive, EMEDIUMTYPE on a generation mismatch. */
  load(drive: string, label: string): Promise<void>;
  /** Rewind, unthread, robot move back to a free slot. */
  unload(drive: string): Promise<void>;
  /** I/O on the cartridge loaded in `drive` (locate and transfer are charged). */
  open(drive: string): MediumIO;
  /** Writes an empty LTFS volume on the loaded cartridge. */
  format(drive: string): Promise<void>;
  /** Seconds a locate from `from` to `to` takes on `label` (the scheduler's cost model). */
  locateSeconds(label: string, from: number, to: number): number;
  /** Seconds to stream `bytes`. */
  transferSeconds(bytes: number): number;
  /** Seconds of robot move + load, and of unload + move back (with a drive: plus the rewind from its head). */
  mountSeconds(): number;
  unmountSeconds(drive?: string): number;
  /**
   * Seconds before a robot could start a move asked for now (0: one is
   * free). A load decided while every robot is busy only queues behind
   * them, so the scheduler decides it when one frees, knowing more.
   * A driver that cannot tell returns 0.
   */
  robotWaitSeconds(): number;
  close(): Promise<void>;
}
