/**
 * The catalog box's public face: the interface and value types, and
 * openCatalog() that picks an engine.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Catalog } from './interface.js';
import { SqliteCatalog, type SqliteCatalogOptions } from './sqlite.js';

export * from './interface.js';
export { isAlive, validateOid, validatePath, parentOf, pidAlive } from './base.js';
export { SqliteCatalog, type SqliteCatalogOptions, type BulkObject } from './sqlite.js';
export { LATEST_VERSION as CATALOG_SCHEMA_VERSION } from './migrations.js';

export type OpenCatalogOptions = SqliteCatalogOptions;

/**
 * Opens the catalog at `path` (a file name, or `sqlite://FILE`), creating
 * the file and its directory and bringing its schema up to date.
 */
export async function openCatalog(path: string, opts: OpenCatalogOptions = {}): Promise<Catalog> {
  const file = path.startsWith('sqlite://') ? path.slice('sqlite://'.length) : path;
  if (file !== ':memory:') await mkdir(dirname(file), { recursive: true });
  return new SqliteCatalog(file, opts);
}
