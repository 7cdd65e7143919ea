import type { AdmStatus, Catalog, DriveRow } from '../catalog/interface.js';
import type { Library } from './interface.js';

export type NewDriveRow = Omit<DriveRow, 'createdAt' | 'nbErrors' | 'loaded'>;

/** The catalog row `deimos drive add` makes for one drive of the library. */
export function driveRow(lib: Library, name: string, admStatus: AdmStatus): NewDriveRow {
  const d = lib.drive(name);
  return { name, serial: `SIM-${name}`, model: d.model, path: `/dev/${name}`, admStatus };
}

/**
 * Adds, unlocked, every drive of the library that has no catalog row yet:
 * what an operator's `deimos drive add --unlock` does, for the replays,
 * benchmarks and tests that have no operator. The scheduler uses only
 * added drives.
 */
export async function addLibraryDrives(catalog: Catalog, lib: Library): Promise<void> {
  const known = new Set((await catalog.listDrives()).map((d) => d.name));
  const rows = (await lib.scan()).drives.filter((d) => !known.has(d.name)).map((d) => driveRow(lib, d.name, 'unlocked'));
  if (rows.length > 0) await catalog.addDrives(rows);
}
