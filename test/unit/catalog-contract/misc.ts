import type { Catalog } from '../../../src/catalog/index.js';
import { addDirMedium, putObject, type ContractTest } from './helpers.js';

export function miscContract(ct: ContractTest): void {
  ct('oids are normalized relative paths', async (t, cat) => {
    await addDirMedium(cat);
    const bad = ['', '/a', 'a/', 'a//b', './a', 'a/./b', 'a/..', '..', 'a\0b', 'x'.repeat(256), ('abcdefgh/'.repeat(455) + 'x').slice(0, 4096)];
    for (const oid of bad) {
      await t.throwsAsync(cat.beginPut({ oid, overwrite: false, owner: process.pid }), { code: 'EINVAL' }, `oid ${JSON.stringify(oid.slice(0, 20))}`);
    }
    const err = await t.throwsAsync(cat.beginPut({ oid: 'a//b', overwrite: false, owner: process.pid }));
    t.regex(err!.message, /a\/\/b/);
    t.truthy((err as { hint?: string }).hint);
    // Limits are in UTF-8 bytes: 85 three-byte characters fit in 255, 86 do not.
    await t.throwsAsync(cat.beginPut({ oid: '€'.repeat(86), overwrite: false, owner: process.pid }), { code: 'EINVAL' });
    for (const oid of ['a', '.hidden/x..y', 'é/€/' + 'x'.repeat(255), '€'.repeat(85), 'a b/c-d_e']) {
      t.is((await putObject(cat, oid)).oid, oid);
    }
    const longest = Array.from({ length: 16 }, () => 'y'.repeat(254)).join('/') + '/' + 'z'.repeat(15);
    t.is(Buffer.byteLength(longest), 4095);
    t.is((await putObject(cat, longest)).oid, longest);
    await t.throwsAsync(cat.beginPut({ oid: longest + 'z', overwrite: false, owner: process.pid }), { code: 'EINVAL' });
    await t.throwsAsync(cat.lookup('a/'), { code: 'EINVAL' });
  });

  ct('logs: add, filter, clear', async (t, cat) => {
    await cat.addLog({ time: 100, kind: 'drive', device: 'd1', medium: 'T1', cause: 'load', errno: 0, message: 'loaded' });
    await cat.addLog({ time: 200, kind: 'drive', device: 'd1', medium: 'T2', cause: 'load', errno: 5, message: 'EIO' });
    await cat.addLog({ time: 300, kind: 'medium', device: null, medium: 'T2', cause: 'read', errno: 61, message: 'no data' });
    await cat.addLog({ kind: 'library', device: null, medium: null, cause: 'scan', errno: 0, message: 'now' });
    const ids = async (f?: Parameters<Catalog['listLogs']>[0]): Promise<string[]> => (await cat.listLogs(f)).map((l) => l.message);
    t.deepEqual(await ids(), ['loaded', 'EIO', 'no data', 'now']);
    t.true((await cat.listLogs({ kind: 'library' }))[0]!.time > 1_000_000, 'time defaults to now');
    t.deepEqual(await ids({ kind: 'drive' }), ['loaded', 'EIO']);
    t.deepEqual(await ids({ device: 'd1', errorsOnly: true }), ['EIO']);
    t.deepEqual(await ids({ medium: 'T2' }), ['EIO', 'no data']);
    t.deepEqual(await ids({ since: 200, until: 300 }), ['EIO', 'no data']);
    const l = (await cat.listLogs({ medium: 'T1' }))[0]!;
    t.like(l, { time: 100, kind: 'drive', device: 'd1', medium: 'T1', cause: 'load', errno: 0 });
    t.true(Number.isInteger(l.id));
    t.is(await cat.clearLogs({ errorsOnly: true }), 2);
    t.deepEqual(await ids(), ['loaded', 'now']);
    t.is(await cat.clearLogs(), 2);
    t.deepEqual(await ids(), []);
  });

  ct('state is a key/value store', async (t, cat) => {
    t.is(await cat.getState('sim.clock'), null);
    await cat.setState('sim.clock', '12');
    await cat.setState('other', '');
    await cat.setState('sim.clock', '13');
    t.is(await cat.getState('sim.clock'), '13');
    t.is(await cat.getState('other'), '');
  });

  ct('a closed catalog refuses calls', async (t, cat) => {
    await cat.close();
    await t.throwsAsync(cat.getState('x'), { code: 'EBADF' });
  });
}
