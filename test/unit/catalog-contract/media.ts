import { addDirMedium, MEDIUM, putObject, type ContractTest } from './helpers.js';

export function mediaContract(ct: ContractTest): void {
  ct('addMedia applies defaults per family', async (t, cat) => {
    await cat.addMedia([{ family: 'dir', name: '/srv/d1' }, { family: 'tape', name: 'T00001L9', model: 'LTO9', sizeTotal: 500 }]);
    const d = await cat.getMedium('dir', '/srv/d1');
    t.like(d, {
      family: 'dir', name: '/srv/d1', model: null, admStatus: 'locked', fsStatus: 'blank', fsType: 'posix', tags: [],
      sizeTotal: 0, sizeUsed: 0, sizeFree: 0, nbObj: 0, nbLoad: 0, nbErrors: 0, lastLoad: null,
      putAccess: true, getAccess: true, deleteAccess: true,
    });
    t.like(await cat.getMedium('tape', 'T00001L9'), { fsType: 'ltfs', model: 'LTO9', sizeTotal: 500 });
    t.is(typeof d!.createdAt, 'number');
    t.is(await cat.getMedium('tape', '/srv/d1'), null);
  });

  ct('addMedia is all-or-nothing and names the existing medium', async (t, cat) => {
    await cat.addMedia([{ family: 'tape', name: 'A' }]);
    const err = await t.throwsAsync(cat.addMedia([{ family: 'tape', name: 'B' }, { family: 'tape', name: 'A' }]), { code: 'EEXIST' });
    t.regex(err!.message, /'A'/);
    t.is(await cat.getMedium('tape', 'B'), null);
    await t.throwsAsync(cat.addMedia([{ family: 'tape', name: 'C' }, { family: 'tape', name: 'C' }]), { code: 'EEXIST' });
    t.is(await cat.getMedium('tape', 'C'), null);
    // Same name in another family is another medium.
    await cat.addMedia([{ family: 'dir', name: 'A' }]);
    t.is((await cat.listMedia()).length, 2);
  });

  ct('listMedia filters by family, names and all tags', async (t, cat) => {
    await cat.addMedia([
      { family: 'tape', name: 'T1', tags: ['fast', 'blue'] },
      { family: 'tape', name: 'T2', tags: ['fast'] },
      { family: 'dir', name: 'D1', tags: ['blue', 'fast', 'x'] },
    ]);
    const names = (rows: { name: string }[]): string[] => rows.map((r) => r.name);
    t.deepEqual(names(await cat.listMedia()), ['D1', 'T1', 'T2']);
    t.deepEqual(names(await cat.listMedia({ family: 'tape' })), ['T1', 'T2']);
    t.deepEqual(names(await cat.listMedia({ names: ['T2', 'D1', 'nope'] })), ['D1', 'T2']);
    t.deepEqual(names(await cat.listMedia({ tags: ['fast', 'blue'] })), ['D1', 'T1']);
    t.deepEqual(names(await cat.listMedia({ family: 'tape', tags: ['blue'] })), ['T1']);
    t.deepEqual(names(await cat.listMedia({ tags: [] })), ['D1', 'T1', 'T2']);
  });

  ct('updateMedium patches fields and refuses unknown media', async (t, cat) => {
    await cat.addMedia([{ family: 'tape', name: 'T1' }]);
    const m = await cat.updateMedium('tape', 'T1', {
      admStatus: 'unlocked', fsStatus: 'empty', tags: ['a'], putAccess: false, nbLoad: 3, lastLoad: 42, sizeTotal: 1000,
    });
    t.like(m, { admStatus: 'unlocked', fsStatus: 'empty', tags: ['a'], putAccess: false, getAccess: true, nbLoad: 3, lastLoad: 42, sizeTotal: 1000 });
    t.deepEqual(await cat.getMedium('tape', 'T1'), m);
    await t.throwsAsync(cat.updateMedium('tape', 'T9', { admStatus: 'failed' }), { code: 'ENOENT' });
  });

  ct('deleteMedia refuses media holding data and unknown media', async (t, cat) => {
    await addDirMedium(cat);
    await cat.addMedia([{ family: 'dir', name: 'empty' }]);
    await putObject(cat, 'f');
    await t.throwsAsync(cat.deleteMedia('dir', [MEDIUM]), { code: 'EBUSY' });
    await t.throwsAsync(cat.deleteMedia('dir', ['empty', 'nope']), { code: 'ENOENT' });
    t.truthy(await cat.getMedium('dir', 'empty'), 'all-or-nothing');
    await cat.deleteMedia('dir', ['empty']);
    t.is(await cat.getMedium('dir', 'empty'), null);
    // Once the object is gone for good, the medium can go.
    const orphans = await cat.hardDelete('f');
    await cat.removeExtents(orphans.map((e) => e.id));
    await cat.deleteMedia('dir', [MEDIUM]);
    t.deepEqual(await cat.listMedia(), []);
  });

  ct('drives: add, get, list, update, delete', async (t, cat) => {
    await cat.addDrives([
      { name: 'd1', serial: 'S1', model: 'ULT3580-TD9', path: '/dev/nst0', admStatus: 'unlocked' },
      { name: 'd0', serial: 'S0', model: 'ULT3580-TD8', path: '/dev/nst1', admStatus: 'locked' },
    ]);
    t.like(await cat.getDrive('d1'), { serial: 'S1', loaded: null, nbErrors: 0, admStatus: 'unlocked' });
    t.is(await cat.getDrive('nope'), null);
    t.deepEqual((await cat.listDrives()).map((d) => d.name), ['d0', 'd1']);
    await t.throwsAsync(cat.addDrives([{ name: 'd2', serial: 'S2', model: 'm', path: 'p', admStatus: 'locked' },
      { name: 'd1', serial: 'S1', model: 'm', path: 'p', admStatus: 'locked' }]), { code: 'EEXIST' });
    t.is(await cat.getDrive('d2'), null);
    t.like(await cat.updateDrive('d1', { loaded: 'T1', nbErrors: 2 }), { loaded: 'T1', nbErrors: 2 });
    await t.throwsAsync(cat.updateDrive('nope', { loaded: null }), { code: 'ENOENT' });
    await t.throwsAsync(cat.deleteDrives(['d1']), { code: 'EBUSY' });
    await t.throwsAsync(cat.deleteDrives(['nope']), { code: 'ENOENT' });
    await cat.updateDrive('d1', { loaded: null });
    await cat.deleteDrives(['d1', 'd0']);
    t.deepEqual(await cat.listDrives(), []);
  });

  ct('library elements are replaced as a whole', async (t, cat) => {
    t.deepEqual(await cat.getLibraryElements(), []);
    await cat.setLibraryElements([
      { kind: 'slot', address: 1001, medium: 'T1' }, { kind: 'drive', address: 1, medium: null }, { kind: 'slot', address: 1000, medium: null },
    ]);
    t.deepEqual(await cat.getLibraryElements(), [
      { kind: 'drive', address: 1, medium: null }, { kind: 'slot', address: 1000, medium: null }, { kind: 'slot', address: 1001, medium: 'T1' },
    ]);
    await cat.setLibraryElements([{ kind: 'ie', address: 5, medium: 'X' }]);
    t.deepEqual(await cat.getLibraryElements(), [{ kind: 'ie', address: 5, medium: 'X' }]);
  });
}
