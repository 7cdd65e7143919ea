import type { Config } from '../../core/config.js';
import { DeimosError } from '../../core/errors.js';
import { expandNodeset } from '../../core/nodeset.js';
import { parseSize } from '../../core/units.js';
import type { DriveModel } from '../interface.js';

/** The physical library the sim plays, as the [library] options describe it. */
export interface DriveSpec {
  name: string;
  model: DriveModel;
}

export interface CartridgeSpec {
  label: string;
  model: DriveModel;
  capacity: number;
}

export interface Inventory {
  drives: DriveSpec[];
  /** In the order of the option: cartridge i starts in slot i. */
  cartridges: CartridgeSpec[];
  robots: number;
  healthMax: number;
}

export function inventoryFromConfig(c: Config): Inventory {
  const driveNames = names(c.str('library', 'drives'));
  const models = driveModels(c.str('library', 'drive_model'), driveNames);
  const cartModel = parseModel(c.str('library', 'cartridge_model'), 'library.cartridge_model');
  const capacity = new Map<DriveModel, number>();
  const capacityOf = (m: DriveModel): number => {
    let n = capacity.get(m);
    if (n === undefined) {
      const v = c.maybe('library', `capacity_${m}`);
      if (v === undefined) throw new DeimosError('EINVAL', `no capacity is configured for ${m} cartridges`, `set library.capacity_${m}`);
      n = parseSize(v, `library.capacity_${m}`);
      capacity.set(m, n);
    }
    return n;
  };
  const cartridges = names(c.str('library', 'cartridges')).map((label) => {
    const model = modelOfLabel(label) ?? cartModel;
    return { label, model, capacity: capacityOf(model) };
  });
  const robots = c.num('library', 'robots');
  if (!Number.isInteger(robots) || robots < 1) {
    throw new DeimosError('EINVAL', `library.robots = ${robots} is invalid`, 'set it to 1 or more');
  }
  return { drives: driveNames.map((name) => ({ name, model: models(name) })), cartridges, robots, healthMax: c.num('library', 'health_max') };
}

/**
 * LTO rule: a drive writes its own generation and the one before (an LTO-9
 * drive takes LTO-8 and LTO-9 cartridges; an LTO-8 drive does not take LTO-9).
 */
export function accepts(drive: DriveModel, cartridge: DriveModel): boolean {
  const d = generation(drive);
  const m = generation(cartridge);
  return m === d || m === d - 1;
}

/** 'L00012L8' → LTO8: the LTO barcode suffix names the generation. */
export function modelOfLabel(label: string): DriveModel | null {
  const m = /L(\d)$/.exec(label);
  if (!m) return null;
  const model = `LTO${m[1]}`;
  return model === 'LTO8' || model === 'LTO9' ? model : null;
}

/**
 * Injected faults, 'st1,L00003L9:2,st[2-3]': a bare name fails every time,
 * 'name:count' fails its first count attempts. Returns name → attempts left.
 */
export function parseFaults(text: string, what: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of splitList(text)) {
    const m = /^(.+?)(?::(\d+))?$/.exec(item);
    if (!m) throw new DeimosError('EINVAL', `invalid ${what} entry '${item}'`, "write 'name' or 'name:count'");
    for (const name of expandNodeset(m[1]!)) out.set(name, m[2] === undefined ? Infinity : Number(m[2]));
  }
  return out;
}

/** Splits on commas outside brackets, so 'st[0,2]=LTO8,LTO9' keeps its range. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

function names(text: string): string[] {
  const out: string[] = [];
  for (const item of splitList(text)) for (const n of expandNodeset(item)) if (!out.includes(n)) out.push(n);
  return out;
}

/** 'LTO9', or 'st0=LTO8,st[1-3]=LTO9', where a bare model is the default of unnamed drives. */
function driveModels(text: string, drives: string[]): (name: string) => DriveModel {
  let fallback: DriveModel = 'LTO9';
  const byName = new Map<string, DriveModel>();
  for (const item of splitList(text)) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      fallback = parseModel(item, 'library.drive_model');
      continue;
    }
    const model = parseModel(item.slice(eq + 1).trim(), 'library.drive_model');
    for (const n of expandNodeset(item.slice(0, eq).trim())) {
      if (!drives.includes(n)) throw new DeimosError('EINVAL', `library.drive_model names drive ${n}, which library.drives does not list`, 'fix one of the two options');
      byName.set(n, model);
    }
  }
  return (name) => byName.get(name) ?? fallback;
}

function parseModel(text: string, what: string): DriveModel {
  const m = /^lto-?(\d+)$/i.exec(text.trim());
  const model = m ? `LTO${m[1]}` : '';
  if (model !== 'LTO8' && model !== 'LTO9') throw new DeimosError('EINVAL', `${what}: unknown model '${text}'`, 'use LTO8 or LTO9');
  return model;
}

function generation(m: DriveModel): number {
  return Number(m.slice(3));
}
