/** Versions written through the disk cache (createVersion, setObjectSize) and the cache's entries. */
import { randomUUID } from 'node:crypto';
import type { CacheEntryInput } from '../../../src/catalog/index.js';
import { addDirMedium, copyDesc, deadPid, fileAttrs, MEDIUM, pendingExtents, putObject, T0, type ContractTest } from './helpers.js';

function entry(uuid: string, version: number, over: Partial<CacheEntryInput> = {}): CacheEntryInput {
  return {
    uuid, version, state: 'clean', size: 10, file: `${uuid}.${version}`, dirtySince: null, lastAccess: T0, flushAttempts: 0, flushAfter: null,
    ...over,
  };
}

export function cacheContract(ct: ContractTest): void {
  ct('createVersion makes an alive version with no copy, its parents and a dirty cache entry', async (t, cat) => {
    const o = await cat.createVersion({ oid: 'p/q/a', overwrite: false, attrs: fileAttrs(), userMd: { k: 'v' }, cache: { file: 'f1' } });
    t.like(o, { oid: 'p/q/a', version: 1, size: 0, userMd: { k: 'v' }, deprecatedAt: null, mode: 0o100644, uid: 1000 });
    t.deepEqual(await cat.getObject({ oid: 'p/q/a' }), o);
    t.deepEqual(await cat.listCopies(o.uuid, 1), []);
    t.is((await cat.lookup('p/q'))?.type, 'dir');
    t.like(await cat.getCacheEntry(o.uuid, 1), { oid: 'p/q/a', state: 'dirty', size: 0, file: 'f1', flushAttempts: 0, flushAfter: null });
    t.true((await cat.getCacheEntry(o.uuid, 1))!.dirtySince !== null);
    // Without a cache option no entry is made.
    const b = await cat.createVersion({ oid: 'b', overwrite: false, attrs: fileAttrs(), size: 5 });
    t.is(b.size, 5);
    t.is(await cat.getCacheEntry(b.uuid, 1), null);
    // A commit that need not be durable yet is visible at once all the same.
    const c = await cat.createVersion({ oid: 'c', overwrite: false, attrs: fileAttrs(), durable: false, cache: { file: 'fc' } });
    t.like(await cat.getObject({ oid: 'c' }), { uuid: c.uuid, version: 1 });
    t.like(await cat.setObjectSize(c.uuid, 1, 3, T0), { size: 3 });
  });

  ct('createVersion follows the oid rules of a put', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('d', fileAttrs({ mode: 0o40755 }));
    await cat.symlink('l', 'target', fileAttrs({ mode: 0o120777 }));
    await putObject(cat, 'f');
    const create = (oid: string, overwrite = false) => cat.createVersion({ oid, overwrite, attrs: fileAttrs() });
    await t.throwsAsync(create('d', true), { code: 'EISDIR' });
    await t.throwsAsync(create('l', true), { code: 'EEXIST' });
    await t.throwsAsync(create('f/x', true), { code: 'ENOTDIR' });
    await t.throwsAsync(create('a//b'), { code: 'EINVAL' });
    await t.throwsAsync(create('f'), { code: 'EEXIST' });
    // A put in progress on the oid locks it; a stale one is taken over.
    const res = await cat.beginPut({ oid: 'x', overwrite: false, owner: process.pid });
    await t.throwsAsync(create('x'), { code: 'EBUSY' });
    await cat.abortPut(res);
    await cat.beginPut({ oid: 'y', overwrite: false, owner: deadPid() });
    t.is((await create('y')).version, 1);
    t.deepEqual(await cat.listReservations(), []);
  });

  ct('createVersion with overwrite makes the next version of the same uuid and inode', async (t, cat) => {
    await addDirMedium(cat);
    const v1 = await putObject(cat, 'a');
    const v2 = await cat.createVersion({ oid: 'a', overwrite: true, attrs: fileAttrs({ mtime: T0 + 5 }), size: 100, cache: { file: 'x' } });
    t.like(v2, { uuid: v1.uuid, version: 2, ino: v1.ino, size: 100, mtime: T0 + 5 });
    t.not((await cat.getObject({ uuid: v1.uuid, version: 1, mode: 'deprecated' }))!.deprecatedAt, null);
    t.deepEqual(await cat.getObject({ oid: 'a' }), v2);
    // The old version comes back with undelete once the new one is deleted.
    await cat.deprecate('a');
    t.like(await cat.undelete('a'), { version: 2 });
  });

  ct('createVersion checks the identity the caller expects', async (t, cat) => {
    await addDirMedium(cat);
    const u = randomUUID();
    const o = await cat.createVersion({ oid: 'n', overwrite: false, attrs: fileAttrs(), expect: { uuid: u, version: 1 } });
    t.is(o.uuid, u);
    await t.throwsAsync(cat.createVersion({ oid: 'm', overwrite: false, attrs: fileAttrs(), expect: { uuid: u, version: 1 } }), { code: 'ESTALE' });
    await t.throwsAsync(cat.createVersion({ oid: 'm', overwrite: false, attrs: fileAttrs(), expect: { uuid: randomUUID(), version: 2 } }), { code: 'ESTALE' });
    await t.throwsAsync(cat.createVersion({ oid: 'n', overwrite: true, attrs: fileAttrs(), expect: { uuid: u, version: 3 } }), { code: 'ESTALE' });
    await t.throwsAsync(cat.createVersion({ oid: 'n', overwrite: true, attrs: fileAttrs(), expect: { uuid: randomUUID(), version: 2 } }), { code: 'ESTALE' });
    t.like(await cat.getObject({ oid: 'n' }), { uuid: u, version: 1 }, 'a refused createVersion changes nothing');
    t.like(await cat.createVersion({ oid: 'n', overwrite: true, attrs: fileAttrs(), expect: { uuid: u, version: 2 } }), { uuid: u, version: 2 });
  });

  ct('setObjectSize commits attributes set while the file was open with the size', async (t, cat) => {
    const o = await cat.createVersion({ oid: 'a', overwrite: false, attrs: fileAttrs(), cache: { file: 'fa' } });
    const r = await cat.setObjectSize(o.uuid, 1, 7, T0 + 5, { durable: false, attrs: { mode: 0o100600, mtime: T0 - 1000, atime: T0 - 2000 } });
    t.like(r, { size: 7, mode: 0o100600, mtime: T0 - 1000, atime: T0 - 2000 });
    t.deepEqual(await cat.getObject({ oid: 'a' }), r);
    t.like(await cat.getCacheEntry(o.uuid, 1), { size: 7 });
    // Without attrs, the close's mtime stays.
    t.like(await cat.setObjectSize(o.uuid, 1, 8, T0 + 9), { size: 8, mtime: T0 + 9, mode: 0o100600 });
  });

  ct('setObjectSize changes a version with no copy and its cache entry, not an archived one', async (t, cat) => {
    await addDirMedium(cat);
    const o = await cat.createVersion({ oid: 'a', overwrite: false, attrs: fileAttrs(), cache: { file: 'f' } });
    const r = await cat.setObjectSize(o.uuid, 1, 1234, T0 + 60_000);
    t.like(r, { size: 1234, mtime: T0 + 60_000, ctime: T0 + 60_000 });
    t.like(await cat.getObject({ oid: 'a' }), { size: 1234, mtime: T0 + 60_000 });
    t.like(await cat.getCacheEntry(o.uuid, 1), { size: 1234, state: 'dirty' });
    await t.throwsAsync(cat.setObjectSize(o.uuid, 1, -1, T0), { code: 'EINVAL' });
    await t.throwsAsync(cat.setObjectSize(o.uuid, 9, 1, T0), { code: 'ENOENT' });
    // A deprecated version still being written can change too.
    await cat.deprecate('a');
    t.is((await cat.setObjectSize(o.uuid, 1, 10, T0)).size, 10);
    // Once it has a copy, it cannot.
    const res = await cat.beginPut({ oid: 'a', overwrite: false, owner: process.pid, copyOf: { uuid: o.uuid, version: 1 } });
    const [e] = await pendingExtents(cat, res, 10, [MEDIUM]);
    await cat.commitPut({
      reservation: res, size: 10, userMd: {}, attrs: fileAttrs(), grouping: null, copy: copyDesc('source', 1),
      extents: [{ id: e!.id, position: 0, size: 10, checksums: {} }],
    });
    await t.throwsAsync(cat.setObjectSize(o.uuid, 1, 11, T0), { code: 'EBUSY' });
    t.like(await cat.getObject({ uuid: o.uuid, version: 1, mode: 'deprecated' }), { size: 10 });
  });

  ct('cache entries: upsert, get, list by state, delete', async (t, cat) => {
    await addDirMedium(cat);
    const a = await putObject(cat, 'a');
    const b = await putObject(cat, 'b');
    await cat.upsertCacheEntries([entry(a.uuid, 1), entry(b.uuid, 1, { state: 'staging', size: 0 })]);
    t.deepEqual(await cat.getCacheEntry(a.uuid, 1), { ...entry(a.uuid, 1), oid: 'a' });
    await cat.upsertCacheEntries([entry(b.uuid, 1, { state: 'dirty', dirtySince: T0 + 1, flushAttempts: 2, flushAfter: T0 + 9, lastAccess: T0 + 3 })]);
    t.like(await cat.getCacheEntry(b.uuid, 1), { state: 'dirty', dirtySince: T0 + 1, flushAttempts: 2, flushAfter: T0 + 9, lastAccess: T0 + 3 });
    t.deepEqual((await cat.listCacheEntries({ states: ['dirty', 'flushing'] })).map((e) => e.oid), ['b']);
    t.deepEqual((await cat.listCacheEntries({ states: ['clean'] })).map((e) => e.oid), ['a']);
    t.is((await cat.listCacheEntries()).length, 2);
    // The oid of an entry follows a rename of its object.
    await cat.renameObject('a', 'z');
    t.is((await cat.getCacheEntry(a.uuid, 1))!.oid, 'z');
    t.is(await cat.deleteCacheEntries([{ uuid: a.uuid, version: 1 }, { uuid: a.uuid, version: 7 }]), 1);
    t.is(await cat.getCacheEntry(a.uuid, 1), null);
    await t.throwsAsync(cat.upsertCacheEntries([entry(randomUUID(), 1)]), { code: 'ENOENT' });
    await t.throwsAsync(cat.upsertCacheEntries([entry(b.uuid, 1, { state: 'bogus' as never })]), { code: 'EINVAL' });
    await t.throwsAsync(cat.upsertCacheEntries([entry(b.uuid, 1, { file: '../x' })]), { code: 'EINVAL' });
    await t.throwsAsync(cat.listCacheEntries({ states: ['bogus' as never] }), { code: 'EINVAL' });
    // Entries go with their version.
    await cat.hardDelete('b');
    t.deepEqual(await cat.listCacheEntries(), []);
  });
}
