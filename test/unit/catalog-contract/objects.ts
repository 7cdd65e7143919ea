import { addDirMedium, MEDIUM, putObject, type ContractTest } from './helpers.js';

export function objectsContract(ct: ContractTest): void {
  ct('getObject modes, by oid, uuid and version', async (t, cat) => {
    await addDirMedium(cat);
    const v1 = await putObject(cat, 'a', { size: 1 });
    const v2 = await putObject(cat, 'a', { size: 2, overwrite: true });
    await cat.deprecate('a');
    const g2 = await putObject(cat, 'a', { size: 3 });
    t.is((await cat.getObject({ oid: 'a' }))!.size, 3);
    t.is((await cat.getObject({ oid: 'a', mode: 'deprecated' }))!.size, 3, 'alive first');
    t.is((await cat.getObject({ oid: 'a', mode: 'deprecated-only' }))!.size, 2, 'newest deprecated');
    t.is((await cat.getObject({ uuid: v1.uuid, mode: 'deprecated' }))!.version, 2, 'newest version of the uuid');
    t.is(await cat.getObject({ uuid: v1.uuid }), null, 'that uuid has no alive version');
    t.is((await cat.getObject({ uuid: v1.uuid, version: 1, mode: 'deprecated' }))!.size, 1);
    t.is((await cat.getObject({ oid: 'a', version: 1, mode: 'deprecated' }))!.uuid, g2.uuid, 'alive generation first');
    t.is((await cat.getObject({ oid: 'a', version: 1, mode: 'deprecated-only' }))!.uuid, v1.uuid);
    t.deepEqual(await cat.getObject({ uuid: g2.uuid }), g2);
    t.is(await cat.getObject({ oid: 'b' }), null);
    t.is(await cat.getObject({ oid: 'a', version: 2 }), null);
    t.is(v2.version, 2);
    await t.throwsAsync(cat.getObject({}), { code: 'EINVAL' });
    await t.throwsAsync(cat.getObject({ oid: '/a' }), { code: 'EINVAL' });
  });

  ct('listObjects orders by oid then version and filters', async (t, cat) => {
    await addDirMedium(cat);
    await putObject(cat, 'b/x', { userMd: { p: '1', q: 'a' } });
    await putObject(cat, 'a', { userMd: { p: '1' } });
    await putObject(cat, 'b/x', { overwrite: true, userMd: { p: '2' } });
    await putObject(cat, 'c.txt', { userMd: { 'we.ird"key': 'v' } });
    await cat.deprecate('c.txt');
    const list = async (f: Parameters<typeof cat.listObjects>[0]) => (await cat.listObjects(f)).map((o) => `${o.oid}@${o.version}`);
    t.deepEqual(await list(undefined), ['a@1', 'b/x@2']);
    t.deepEqual(await list({ mode: 'deprecated' }), ['a@1', 'b/x@1', 'b/x@2', 'c.txt@1']);
    t.deepEqual(await list({ mode: 'deprecated-only' }), ['b/x@1', 'c.txt@1']);
    t.deepEqual(await list({ pattern: 'x' }), ['b/x@2']);
    t.deepEqual(await list({ pattern: '^b/', mode: 'deprecated' }), ['b/x@1', 'b/x@2']);
    t.deepEqual(await list({ pattern: '^b' }), ['b/x@2']);
    t.deepEqual(await list({ pattern: '\\.txt$', mode: 'deprecated' }), ['c.txt@1']);
    t.deepEqual(await list({ pattern: '^(a|c)', mode: 'deprecated' }), ['a@1', 'c.txt@1']);
    t.deepEqual(await list({ pattern: '^a|x$' }), ['a@1', 'b/x@2']);
    t.deepEqual(await list({ pattern: '^bb?/' }), ['b/x@2']);
    await t.throwsAsync(cat.listObjects({ pattern: '(' }), { code: 'EINVAL' });
    t.deepEqual(await list({ oids: ['b/x', 'zzz', 'a'] }), ['a@1', 'b/x@2']);
    t.deepEqual(await list({ metadata: { p: '1' }, mode: 'deprecated' }), ['a@1', 'b/x@1']);
    t.deepEqual(await list({ metadata: { p: '1', q: 'a' }, mode: 'deprecated' }), ['b/x@1']);
    t.deepEqual(await list({ metadata: { 'we.ird"key': 'v' }, mode: 'deprecated' }), ['c.txt@1']);
    t.deepEqual(await list({ mode: 'deprecated', limit: 2 }), ['a@1', 'b/x@1']);
    t.deepEqual(await list({ limit: 0 }), []);
    t.is(await cat.countObjects(), 2);
    t.is(await cat.countObjects('alive'), 2);
    t.is(await cat.countObjects('deprecated'), 4);
    t.is(await cat.countObjects('deprecated-only'), 2);
  });

  ct('deprecate and undelete', async (t, cat) => {
    await addDirMedium(cat);
    await t.throwsAsync(cat.deprecate('a'), { code: 'ENOENT' });
    const a = await putObject(cat, 'd/a', { size: 1 });
    const d = await cat.deprecate('d/a');
    t.is(d.uuid, a.uuid);
    t.true(d.deprecatedAt !== null);
    t.is(await cat.getObject({ oid: 'd/a' }), null);
    await t.throwsAsync(cat.deprecate('d/a'), { code: 'ENOENT' });
    const u = await cat.undelete('d/a');
    t.deepEqual(u, a);
    t.deepEqual(await cat.getObject({ oid: 'd/a' }), a);
    await t.throwsAsync(cat.undelete('d/a'), { code: 'EEXIST' });
    await t.throwsAsync(cat.undelete('nope'), { code: 'ENOENT' });
  });

  ct('undelete picks the newest deprecated version, or the given uuid\'s, and recreates parents', async (t, cat) => {
    await addDirMedium(cat);
    const g1 = await putObject(cat, 'd/a', { size: 1 });
    await putObject(cat, 'd/a', { size: 2, overwrite: true });
    await cat.deprecate('d/a');
    const g2 = await putObject(cat, 'd/a', { size: 3 });
    await cat.deprecate('d/a');
    t.is((await cat.undelete('d/a')).uuid, g2.uuid);
    await cat.deprecate('d/a');
    const back = await cat.undelete('d/a', g1.uuid);
    t.like(back, { uuid: g1.uuid, version: 2, size: 2 });
    await cat.deprecate('d/a');
    await t.throwsAsync(cat.undelete('d/a', 'no-such-uuid'), { code: 'ENOENT' });
    await cat.rmdir('d');
    t.is(await cat.lookup('d'), null);
    await cat.undelete('d/a');
    t.is((await cat.lookup('d'))?.type, 'dir');
  });

  ct('undelete refuses a path now taken by a directory', async (t, cat) => {
    await addDirMedium(cat);
    await putObject(cat, 'a');
    await cat.deprecate('a');
    await cat.mkdir('a', { mode: 0o40755, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 });
    await t.throwsAsync(cat.undelete('a'), { code: 'EISDIR' });
  });

  ct('hardDelete removes every version, their copies, and orphans extents', async (t, cat) => {
    await addDirMedium(cat);
    const g1 = await putObject(cat, 'a', { size: 10 });
    await putObject(cat, 'a', { size: 20, overwrite: true });
    await cat.deprecate('a');
    const g2 = await putObject(cat, 'a', { size: 30 });
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 60, nbObj: 3 });
    const onlyG1 = await cat.hardDelete('a', g1.uuid);
    t.deepEqual(onlyG1.map((e) => [e.version, e.state]).sort(), [[1, 'orphan'], [2, 'orphan']]);
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 30, nbObj: 1 });
    t.deepEqual(await cat.listCopies(g1.uuid, 1), []);
    t.is(await cat.getObject({ uuid: g1.uuid, mode: 'deprecated' }), null);
    t.deepEqual(await cat.getObject({ oid: 'a' }), g2);
    const rest = await cat.hardDelete('a');
    t.is(rest.length, 1);
    t.is(await cat.countObjects('deprecated'), 0);
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 0, nbObj: 0 });
    await t.throwsAsync(cat.hardDelete('a'), { code: 'ENOENT' });
    t.is((await cat.listExtents({ state: 'orphan' })).length, 3);
    await cat.removeExtents([...onlyG1, ...rest].map((e) => e.id));
    t.deepEqual(await cat.listExtents({}), []);
  });

  ct('renameObject moves every version and creates parents', async (t, cat) => {
    await addDirMedium(cat);
    const v1 = await putObject(cat, 'a', { size: 1 });
    await putObject(cat, 'a', { size: 2, overwrite: true });
    await putObject(cat, 'taken');
    const r = await cat.renameObject('a', 'n/e/w');
    t.like(r, { oid: 'n/e/w', uuid: v1.uuid, version: 2, ino: v1.ino });
    t.is(await cat.getObject({ oid: 'a', mode: 'deprecated' }), null);
    t.is((await cat.getObject({ uuid: v1.uuid, version: 1, mode: 'deprecated' }))!.oid, 'n/e/w');
    t.is((await cat.lookup('n/e'))?.type, 'dir');
    await t.throwsAsync(cat.renameObject('a', 'b'), { code: 'ENOENT' });
    await t.throwsAsync(cat.renameObject('n/e/w', 'taken'), { code: 'EEXIST' });
    await t.throwsAsync(cat.renameObject('n/e/w', 'n'), { code: 'EISDIR' });
    await t.throwsAsync(cat.renameObject('n/e/w', 'taken/x'), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.renameObject('n/e/w', '../x'), { code: 'EINVAL' });
    t.deepEqual((await cat.listObjects()).map((o) => o.oid), ['n/e/w', 'taken']);
  });

  ct('setObjectAttrs and setUserMd change the alive version', async (t, cat) => {
    await addDirMedium(cat);
    await putObject(cat, 'a', { userMd: { x: '1' } });
    const r = await cat.setObjectAttrs('a', { mode: 0o100600, mtime: 5 });
    t.like(r, { mode: 0o100600, mtime: 5, uid: 1000 });
    t.like(await cat.getObject({ oid: 'a' }), { mode: 0o100600, mtime: 5 });
    const m = await cat.setUserMd('a', { y: '2' });
    t.deepEqual(m.userMd, { y: '2' });
    t.deepEqual((await cat.getObject({ oid: 'a' }))!.userMd, { y: '2' });
    await t.throwsAsync(cat.setUserMd('a', { y: 2 } as unknown as Record<string, string>), { code: 'EINVAL' });
    await t.throwsAsync(cat.setObjectAttrs('nope', { mode: 0 }), { code: 'ENOENT' });
    await t.throwsAsync(cat.setUserMd('nope', {}), { code: 'ENOENT' });
  });

  ct('extents: filters, state changes and removal keep media usage right', async (t, cat) => {
    await addDirMedium(cat);
    await cat.addMedia([{ family: 'dir', name: 'm2', sizeTotal: 100 }]);
    const a = await putObject(cat, 'a', { size: 10, media: [MEDIUM, 'm2'] });
    await putObject(cat, 'b', { size: 5 });
    t.is((await cat.listExtents({ medium: MEDIUM })).length, 2);
    t.is((await cat.listExtents({ medium: 'm2', family: 'dir' })).length, 1);
    t.is((await cat.listExtents({ uuid: a.uuid, version: 1, copyName: 'source' })).length, 2);
    t.is((await cat.listExtents({ family: 'tape' })).length, 0);
    const [e0, e1] = await cat.listExtents({ uuid: a.uuid });
    t.deepEqual([e0!.layoutIndex, e1!.layoutIndex], [0, 1]);
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 15, nbObj: 2 });
    await cat.setExtentState([e0!.id], 'orphan');
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 5, nbObj: 1 });
    await cat.setExtentState([e0!.id], 'orphan');
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 5, nbObj: 1 }, 'no change, no accounting');
    await cat.setExtentState([e0!.id, e0!.id], 'sync');
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 15, nbObj: 2 });
    await t.throwsAsync(cat.setExtentState([e0!.id, 123456], 'orphan'), { code: 'ENOENT' });
    t.is((await cat.listExtents({ uuid: a.uuid }))[0]!.state, 'sync', 'all-or-nothing');
    // Removing a sync extent gives its usage back; removing an orphan one does not count twice.
    await cat.removeExtents([e1!.id]);
    t.like(await cat.getMedium('dir', 'm2'), { sizeUsed: 0, nbObj: 0 });
    await cat.setExtentState([e0!.id], 'orphan');
    await cat.removeExtents([e0!.id, e0!.id, 99999]);
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 5, nbObj: 1 });
    t.deepEqual(await cat.listExtents({ uuid: a.uuid }), []);
    t.is((await cat.listExtents({ state: 'sync' })).length, 1);
  });
}
