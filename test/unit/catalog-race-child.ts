/**
 * Child process of the catalog race test: opens the shared catalog, waits for
 * 'go', tries one beginPut, reports, and stays alive (so that its reservation
 * is not stale) until told to exit.
 */
import { openCatalog } from '../../src/catalog/index.js';

const [file, oid] = process.argv.slice(2) as [string, string];
const cat = await openCatalog(file);
process.send!({ ready: true });
process.on('message', async (m: { go?: boolean; exit?: boolean }) => {
  if (m.go) {
    try {
      const res = await cat.beginPut({ oid, overwrite: false, owner: process.pid });
      process.send!({ ok: true, uuid: res.uuid });
    } catch (e) {
      process.send!({ ok: false, code: (e as { code?: string }).code, message: (e as Error).message });
    }
  }
  if (m.exit) {
    await cat.close();
    process.exit(0);
  }
});
