import type { Catalog } from '../catalog/interface.js';
import type { Clock } from '../clock/interface.js';
import type { Config } from '../core/config.js';
import { DeimosError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Library } from './interface.js';
import { SimLibrary } from './sim/library.js';

export type { Library, DriveModel, DriveState, CartridgeInfo, SlotState } from './interface.js';
export { SimLibrary, type SimLibraryOptions } from './sim/library.js';
export { accepts as driveAccepts, modelOfLabel } from './sim/inventory.js';
export { addLibraryDrives, driveRow, type NewDriveRow } from './driveRows.js';
export { seedCartridge, cartridgeDir, type SeedExtent } from './sim/seed.js';
export {
  timingFromConfig, pointAt, locateSeconds, transferSeconds, mountSeconds, unmountSeconds, syncSeconds,
  type TapeTiming, type TapePoint,
} from './timing.js';

/** The library of library.driver; `dir` holds the sim's cartridges. */
export async function createLibrary(opts: { config: Config; catalog: Catalog; clock: Clock; dir: string; log?: Logger }): Promise<Library> {
  const driver = opts.config.str('library', 'driver');
  if (driver !== 'sim') throw new DeimosError('EINVAL', `unknown library driver '${driver}'`, 'set library.driver to sim');
  return SimLibrary.open(opts);
}
