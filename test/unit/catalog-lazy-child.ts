/**
 * Makes 50 lazy commits (durable: false) and tells its parent, which kills
 * it with SIGKILL and checks that they are all in the catalog: a lazy commit
 * is in the WAL (in the kernel) when the call returns.
 * Usage: node catalog-lazy-child.js CATALOG_FILE
 */
import { openCatalog } from '../../src/catalog/index.js';

async function main(): Promise<void> {
  const cat = await openCatalog(process.argv[2]!);
  for (let i = 0; i < 50; i++) await cat.mkdir(`d${i}`, { mode: 0o40755, uid: 0, gid: 0, atime: i, mtime: i, ctime: i }, { durable: false });
  process.send!(50);
  // Stay alive, the catalog open, until killed.
  setInterval(() => undefined, 1000);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
