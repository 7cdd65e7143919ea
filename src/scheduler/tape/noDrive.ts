import { DeimosError } from '../../core/errors.js';
import { accepts, type DriveSlot } from './state.js';

/**
 * A request that no drive may ever serve fails at once, with the one line
 * an operator needs: which drive to add or unlock. Waiting would hang the
 * caller (a get, a FUSE read) until someone notices.
 */

export type DriveUse = 'read' | 'write' | 'format';

/**
 * Some added, unlocked, working drive takes `model` cartridges (null: any
 * model), or, given its label, already holds this one.
 */
export function canServe(drives: readonly DriveSlot[], model: string | null, label?: string): boolean {
  return drives.some((d) => d.usable && ((label !== undefined && d.loaded === label) || accepts(d.model, model)));
}

export function noDriveError(drives: readonly DriveSlot[], use: DriveUse, model: string | null): DeimosError {
  const what = model ? `${model} cartridges` : 'cartridges';
  const fit = drives.filter((d) => accepts(d.model, model) && !d.failed);
  // An added but locked drive is the operator's choice to undo; one never
  // added is the usual case of a new installation.
  const locked = fit.find((d) => d.added && d.locked);
  if (locked) return new DeimosError('ENODEV', `no drive added and unlocked that can ${use} ${what}`, `unlock one: deimos drive unlock ${locked.name}`);
  const missing = fit.find((d) => !d.added);
  if (missing) return new DeimosError('ENODEV', `no drive added and unlocked that can ${use} ${what}`, `add one: deimos drive add --unlock ${missing.name}`);
  if (drives.some((d) => accepts(d.model, model))) {
    return new DeimosError('ENODEV', `every drive that can ${use} ${what} is failed`,
      "see 'deimos logs dump --errors'; 'deimos drive unlock --force NAME' puts a repaired drive back");
  }
  return new DeimosError('ENODEV', `the library has no drive that can ${use} ${what}`, 'an LTO drive takes its own generation and the one before');
}
