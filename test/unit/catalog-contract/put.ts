import {
  addDirMedium, copyDesc, deadPid, fileAttrs, MEDIUM, pendingExtents, putObject, T0, type ContractTest,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function putContract(ct: ContractTest): void {
  ct('a put creates the object, its copy, sync extents and parent directories', async (t, cat) => {
    await addDirMedium(cat);
    await cat.addMedia([{ family: 'dir', name: 'm2', sizeTotal: 1000, sizeFree: 1000, fsStatus: 'empty' }]);
    const o = await putObject(cat, 'proj/run1/a.bam', { size: 300, userMd: { k: 'v' }, media: [MEDIUM, 'm2'], grouping: 'g1' });
    t.like(o, { oid: 'proj/run1/a.bam', version: 1, size: 300, userMd: { k: 'v' }, grouping: 'g1', deprecatedAt: null, mode: 0o100644, uid: 1000 });
    t.regex(o.uuid, UUID);
    t.true(o.ino > 1);
    t.deepEqual(await cat.getObject({ oid: 'proj/run1/a.bam' }), o);
    const copies = await cat.listCopies(o.uuid, 1);
    t.is(copies.length, 1);
    t.like(copies[0], { copyName: 'source', family: 'dir', status: 'complete', layout: { name: 'raid1', params: { repl_count: '2' } } });
    const ext = await cat.listExtents({ uuid: o.uuid });
    t.deepEqual(ext.map((e) => [e.state, e.medium, e.position, e.checksums.xxh128]), [['sync', MEDIUM, 0, 'x0'], ['sync', 'm2', 10, 'x1']]);
    t.like(await cat.getMedium('dir', 'm2'), { sizeUsed: 300, sizeFree: 700, nbObj: 1, fsStatus: 'used' });
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 300, nbObj: 1, fsStatus: 'used' });
    const dir = await cat.lookup('proj/run1');
    t.is(dir?.type, 'dir');
    t.like(dir?.row, { mode: 0o40755, uid: 1000, gid: 100, ctime: T0, mtime: T0 });
    t.is((await cat.lookup('proj'))?.type, 'dir');
    t.deepEqual(await cat.listReservations(), []);
  });

  ct('free space of a medium does not go below zero', async (t, cat) => {
    await cat.addMedia([{ family: 'dir', name: 'tiny', sizeTotal: 10, sizeFree: 10 }]);
    await putObject(cat, 'big', { size: 50, media: ['tiny'] });
    t.like(await cat.getMedium('dir', 'tiny'), { sizeUsed: 50, sizeFree: 0 });
  });

  ct('putting an existing oid needs overwrite, which makes the next version of the same uuid', async (t, cat) => {
    await addDirMedium(cat);
    const v1 = await putObject(cat, 'a');
    const err = await t.throwsAsync(cat.beginPut({ oid: 'a', overwrite: false, owner: process.pid }), { code: 'EEXIST' });
    t.is(err!.message, "object 'a' already exists");
    t.regex((err as { hint?: string }).hint ?? '', /--overwrite/);
    const v2 = await putObject(cat, 'a', { overwrite: true, size: 7 });
    t.is(v2.uuid, v1.uuid);
    t.is(v2.version, 2);
    t.is(v2.ino, v1.ino);
    t.like(await cat.getObject({ oid: 'a' }), { version: 2, size: 7 });
    const old = await cat.getObject({ uuid: v1.uuid, version: 1, mode: 'deprecated' });
    t.true(old!.deprecatedAt !== null);
    // overwrite of a missing object is a plain put.
    const n = await putObject(cat, 'b', { overwrite: true });
    t.is(n.version, 1);
  });

  ct('delete then put again makes a new uuid and a new inode', async (t, cat) => {
    await addDirMedium(cat);
    const a = await putObject(cat, 'a');
    await cat.deprecate('a');
    const b = await putObject(cat, 'a');
    t.not(b.uuid, a.uuid);
    t.is(b.version, 1);
    t.not(b.ino, a.ino);
  });

  ct('beginPut refuses directories, symlinks and paths below files', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('d', fileAttrs({ mode: 0o40755 }));
    await cat.symlink('l', 'target', fileAttrs({ mode: 0o120777 }));
    await putObject(cat, 'f');
    const begin = (oid: string) => cat.beginPut({ oid, overwrite: true, owner: process.pid });
    await t.throwsAsync(begin('d'), { code: 'EISDIR' });
    await t.throwsAsync(begin('l'), { code: 'EEXIST' });
    await t.throwsAsync(begin('f/x'), { code: 'ENOTDIR' });
    await t.throwsAsync(begin('l/x/y'), { code: 'ENOTDIR' });
    await t.throwsAsync(begin('a//b'), { code: 'EINVAL' });
    t.deepEqual(await cat.listReservations(), []);
  });

  ct('a reservation locks the oid while its owner runs', async (t, cat) => {
    await addDirMedium(cat);
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    t.like(res, { oid: 'x', version: 1, owner: process.pid });
    const err = await t.throwsAsync(cat.beginPut({ oid: 'x', overwrite: true, owner: process.pid }), { code: 'EBUSY' });
    t.is(err!.message, `a put of 'x' is in progress (pid ${process.pid})`);
    t.deepEqual(await cat.listReservations(), [res]);
    t.is(await cat.getObject({ oid: 'x' }), null, 'nothing visible before commit');
  });

  ct('a stale reservation is taken over and its pending extents become orphan', async (t, cat) => {
    await addDirMedium(cat);
    const dead = deadPid();
    const stale = await cat.beginPut({ oid: 'x', overwrite: false, owner: dead });
    const [pe] = await pendingExtents(cat, stale, 10, [MEDIUM]);
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    t.not(res.uuid, stale.uuid);
    t.is((await cat.listExtents({ uuid: stale.uuid }))[0]!.state, 'orphan');
    t.is((await cat.listExtents({ uuid: stale.uuid }))[0]!.id, pe!.id);
    t.deepEqual(await cat.listReservations(), [res]);
    await t.throwsAsync(pendingExtents(cat, stale, 10, [MEDIUM]), { code: 'ESTALE' });
    await t.throwsAsync(cat.commitPut({
      reservation: stale, size: 10, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc('source', 1),
      extents: [{ id: pe!.id, position: 0, size: 10, checksums: {} }],
    }), { code: 'ESTALE' });
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 0, nbObj: 0 });
  });

  ct('abortPut orphans pending extents and drops the reservation', async (t, cat) => {
    await addDirMedium(cat);
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    const pending = await pendingExtents(cat, res, 10, [MEDIUM]);
    t.is(pending[0]!.state, 'pending');
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 0, nbObj: 0 }, 'pending extents are not usage');
    const orphans = await cat.abortPut(res);
    t.deepEqual(orphans.map((e) => [e.id, e.state]), [[pending[0]!.id, 'orphan']]);
    t.deepEqual(await cat.listReservations(), []);
    await t.throwsAsync(cat.abortPut(res), { code: 'ESTALE' });
    await cat.removeExtents(orphans.map((e) => e.id));
    t.deepEqual(await cat.listExtents({ uuid: res.uuid }), []);
    // The oid is free again.
    await putObject(cat, 'x');
    t.truthy(await cat.getObject({ oid: 'x' }));
  });

  ct('commitPut checks extents and orphans pending ones it was not given', async (t, cat) => {
    await addDirMedium(cat);
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    const [failed, good] = await pendingExtents(cat, res, 10, [MEDIUM, MEDIUM]);
    const commit = (ids: number[], copyName = 'source') => cat.commitPut({
      reservation: res, size: 10, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc(copyName, 1),
      extents: ids.map((id) => ({ id, position: 5, size: 10, checksums: { md5: 'm' } })),
    });
    await t.throwsAsync(commit([9999]), { code: 'EINVAL' });
    await t.throwsAsync(commit([good!.id], 'other'), { code: 'EINVAL' });
    t.is(await cat.getObject({ oid: 'x' }), null, 'a failed commit changes nothing');
    await commit([good!.id]);
    const states = (await cat.listExtents({ uuid: res.uuid })).map((e) => [e.id, e.state, e.position]);
    t.deepEqual(states.sort(), [[failed!.id, 'orphan', 0], [good!.id, 'sync', 5]].sort());
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 10, nbObj: 1 });
  });

  ct('commitPut fails with EEXIST when another object took the oid meanwhile', async (t, cat) => {
    await addDirMedium(cat);
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    const ext = await pendingExtents(cat, res, 10, [MEDIUM]);
    await putObject(cat, 'y');
    await cat.renameObject('y', 'x');
    await t.throwsAsync(cat.commitPut({
      reservation: res, size: 10, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc('source', 1),
      extents: [{ id: ext[0]!.id, position: 0, size: 10, checksums: {} }],
    }), { code: 'EEXIST' });
  });

  ct('addPendingExtents wants the reservation\'s version and a known medium', async (t, cat) => {
    await addDirMedium(cat);
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    await t.throwsAsync(pendingExtents(cat, { ...res, version: 2 }, 1, [MEDIUM]), { code: 'ESTALE' });
    await t.throwsAsync(cat.addPendingExtents(res, [{
      uuid: res.uuid, version: 9, copyName: 'source', layoutIndex: 0, splitIndex: 0, family: 'dir', medium: MEDIUM,
      address: 'a', position: 0, size: 1, offset: 0, length: 1, checksums: {},
    }]), { code: 'EINVAL' });
    await t.throwsAsync(pendingExtents(cat, res, 1, ['nope']), { code: 'ENOENT' });
    const [e] = await pendingExtents(cat, res, 1, [MEDIUM]);
    t.like(e, { state: 'pending', uuid: res.uuid, version: 1, medium: MEDIUM, copyName: 'source' });
    t.true(Number.isInteger(e!.id));
  });

  ct('copyOf adds a copy to an existing version', async (t, cat) => {
    await addDirMedium(cat);
    await cat.addMedia([{ family: 'dir', name: 'm2' }]);
    const o = await putObject(cat, 'x', { size: 40 });
    await t.throwsAsync(cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid, copyOf: { uuid: o.uuid, version: 7 } }), { code: 'ENOENT' });
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid, copyOf: { uuid: o.uuid, version: 1 } });
    t.like(res, { uuid: o.uuid, version: 1 });
    await t.throwsAsync(cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid, copyOf: { uuid: o.uuid, version: 1 } }), { code: 'EBUSY' });
    const [e] = await pendingExtents(cat, res, 40, ['m2'], 'tape-copy');
    const row = await cat.commitPut({
      reservation: res, size: 40, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc('tape-copy', 1),
      extents: [{ id: e!.id, position: 0, size: 40, checksums: {} }],
    });
    t.deepEqual(row, o, 'the object row does not change');
    t.deepEqual(await cat.getObject({ oid: 'x' }), o);
    t.deepEqual((await cat.listCopies(o.uuid, 1)).map((c) => c.copyName), ['source', 'tape-copy']);
    t.like(await cat.getMedium('dir', 'm2'), { sizeUsed: 40, nbObj: 1 });
    // A second copy with an existing name is refused.
    const again = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid, copyOf: { uuid: o.uuid, version: 1 } });
    const [e2] = await pendingExtents(cat, again, 40, ['m2'], 'source');
    await t.throwsAsync(cat.commitPut({
      reservation: again, size: 40, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc('source', 1),
      extents: [{ id: e2!.id, position: 0, size: 40, checksums: {} }],
    }), { code: 'EEXIST' });
  });

  ct('deleteCopy keeps the last copy and orphans the extents of the others', async (t, cat) => {
    await addDirMedium(cat);
    const o = await putObject(cat, 'x', { size: 40 });
    await t.throwsAsync(cat.deleteCopy(o.uuid, 1, 'source'), { code: 'EBUSY', message: /last copy/ });
    await t.throwsAsync(cat.deleteCopy(o.uuid, 1, 'nope'), { code: 'ENOENT' });
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid, copyOf: { uuid: o.uuid, version: 1 } });
    const [e] = await pendingExtents(cat, res, 40, [MEDIUM], 'c2');
    await cat.commitPut({
      reservation: res, size: 40, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc('c2', 1),
      extents: [{ id: e!.id, position: 0, size: 40, checksums: {} }],
    });
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 80, nbObj: 2 });
    const orphans = await cat.deleteCopy(o.uuid, 1, 'source');
    t.is(orphans.length, 1);
    t.is(orphans[0]!.state, 'orphan');
    t.is(orphans[0]!.copyName, 'source');
    t.deepEqual((await cat.listCopies(o.uuid, 1)).map((c) => c.copyName), ['c2']);
    t.like(await cat.getMedium('dir', MEDIUM), { sizeUsed: 40, nbObj: 1 });
  });
}
