/**
 * The catalog contract: every engine must pass it. Call
 * runCatalogContract(name, makeCatalog) from an engine's test file; each test
 * gets a fresh, empty catalog and uses only the Catalog interface.
 */
import test from 'ava';
import { cacheContract } from './catalog-contract/cache.js';
import type { ContractTest, MakeCatalog } from './catalog-contract/helpers.js';
import { mediaContract } from './catalog-contract/media.js';
import { miscContract } from './catalog-contract/misc.js';
import { namespaceContract } from './catalog-contract/namespace.js';
import { objectsContract } from './catalog-contract/objects.js';
import { putContract } from './catalog-contract/put.js';

export type { MakeCatalog } from './catalog-contract/helpers.js';

export function runCatalogContract(name: string, makeCatalog: MakeCatalog): void {
  const ct: ContractTest = (title, fn) => {
    test(`${name}: ${title}`, async (t) => {
      const cat = await makeCatalog();
      try {
        await fn(t, cat);
      } finally {
        await cat.close();
      }
    });
  };
  mediaContract(ct);
  putContract(ct);
  objectsContract(ct);
  namespaceContract(ct);
  miscContract(ct);
  cacheContract(ct);
}
