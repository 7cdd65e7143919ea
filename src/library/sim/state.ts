import type { Catalog, LibraryElement } from '../../catalog/interface.js';
import type { Inventory } from './inventory.js';

/**
 * What survives a restart of the sim: which cartridge sits in which slot or
 * drive, each drive's head position, where a loaded cartridge came from,
 * and the error counts of components the catalog does not know. Saved as one
 * JSON value (one atomic write) after each move; the library element table
 * is written as well, as a view for status commands.
 */
export const STATE_KEY = 'library.sim';

export interface DrivePlace {
  loaded: string | null;
  position: number;
  /** Slot the loaded cartridge came from: it goes back there. */
  home: number | null;
}

export interface SimState {
  version: 1;
  slots: (string | null)[];
  drives: Record<string, DrivePlace>;
  errors: { drives: Record<string, number>; media: Record<string, number> };
}

export async function loadState(catalog: Catalog): Promise<SimState | null> {
  const text = await catalog.getState(STATE_KEY);
  if (text === null) return null;
  const s = JSON.parse(text) as SimState;
  return s.version === 1 ? s : null;
}

/**
 * Places the configured cartridges from the saved state. Cartridges the
 * config no longer lists disappear; new ones take their own slot (i for the
 * i-th label) or the first free one; a label never appears twice.
 */
export function placeCartridges(inv: Inventory, saved: SimState | null): { slots: (string | null)[]; drives: Map<string, DrivePlace> } {
  const known = new Set(inv.cartridges.map((c) => c.label));
  const placed = new Set<string>();
  const take = (label: string | null | undefined): string | null => {
    if (!label || !known.has(label) || placed.has(label)) return null;
    placed.add(label);
    return label;
  };
  const drives = new Map<string, DrivePlace>();
  for (const d of inv.drives) {
    const s = saved?.drives[d.name];
    const loaded = take(s?.loaded);
    drives.set(d.name, loaded ? { loaded, position: s!.position, home: s!.home } : { loaded: null, position: 0, home: null });
  }
  const slots: (string | null)[] = Array.from({ length: Math.max(inv.cartridges.length, saved?.slots.length ?? 0) }, (_, i) => take(saved?.slots[i]));
  inv.cartridges.forEach((c, i) => {
    if (placed.has(c.label)) return;
    const slot = slots[i] === null ? i : slots.indexOf(null);
    slots[slot < 0 ? slots.length : slot] = take(c.label);
  });
  return { slots, drives };
}

/** The element table of the catalog: slots, then drives numbered in config order. */
export function elementsOf(state: SimState, driveOrder: string[]): LibraryElement[] {
  return [
    ...state.slots.map((medium, address): LibraryElement => ({ kind: 'slot', address, medium })),
    ...driveOrder.map((name, address): LibraryElement => ({ kind: 'drive', address, medium: state.drives[name]?.loaded ?? null })),
  ];
}

/**
 * Serialises saves and coalesces bursts: a save requested while another
 * runs is done once afterwards, from the state as it is then, so every
 * caller's change is on disk when its promise resolves.
 */
export class StateWriter {
  private chain: Promise<unknown> = Promise.resolve();
  private queued: Promise<void> | null = null;

  constructor(
    private readonly catalog: Catalog,
    private readonly snapshot: () => SimState,
    private readonly driveOrder: string[],
  ) {}

  save(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.chain.then(async () => {
      this.queued = null;
      const s = this.snapshot();
      await this.catalog.setState(STATE_KEY, JSON.stringify(s));
      await this.catalog.setLibraryElements(elementsOf(s, this.driveOrder));
    });
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }
}
