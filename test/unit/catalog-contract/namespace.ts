import type { Catalog, NsEntry } from '../../../src/catalog/index.js';
import { addDirMedium, dirAttrs, fileAttrs, putObject, T0, type ContractTest } from './helpers.js';

const name = (e: NsEntry): string => (e.type === 'file' ? e.row.oid : e.row.path);
const children = async (cat: Catalog, p: string): Promise<string[]> => (await cat.readdir(p)).map((e) => `${e.type}:${name(e)}`);

export function namespaceContract(ct: ContractTest): void {
  ct('the root exists with inode 1 and can get attributes', async (t, cat) => {
    const root = await cat.lookup('');
    t.deepEqual(root, { type: 'dir', row: { path: '', ino: 1, mode: 0o40755, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 } });
    t.deepEqual(await cat.readdir(''), []);
    const e = await cat.setEntryAttrs('', { uid: 7, mtime: 9 });
    t.like(e.row, { path: '', ino: 1, uid: 7, mtime: 9, mode: 0o40755 });
    t.like((await cat.lookup(''))!.row, { uid: 7 });
    t.deepEqual(await cat.readdir(''), [], 'the root is not its own child');
    await t.throwsAsync(cat.rmdir(''), { code: 'EBUSY' });
  });

  ct('mkdir needs a parent directory unless parents is set', async (t, cat) => {
    await addDirMedium(cat);
    const a = await cat.mkdir('a', dirAttrs());
    t.like(a, { path: 'a', mode: 0o40750, uid: 1000, ctime: T0 });
    t.true(a.ino > 1);
    await t.throwsAsync(cat.mkdir('a', dirAttrs()), { code: 'EEXIST' });
    await t.throwsAsync(cat.mkdir('x/y', dirAttrs()), { code: 'ENOENT' });
    await putObject(cat, 'f');
    await t.throwsAsync(cat.mkdir('f', dirAttrs()), { code: 'EEXIST' });
    await t.throwsAsync(cat.mkdir('f/y', dirAttrs()), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.mkdir('f/y/z', dirAttrs(), { parents: true }), { code: 'ENOTDIR' });
    const deep = await cat.mkdir('p/q/r', dirAttrs({ uid: 5 }), { parents: true });
    t.is(deep.path, 'p/q/r');
    t.like((await cat.lookup('p/q'))!.row, { uid: 5 });
    t.deepEqual(await cat.mkdir('p/q', dirAttrs({ uid: 6 }), { parents: true }), (await cat.lookup('p/q'))!.row, 'mkdir -p of an existing dir');
    await t.throwsAsync(cat.mkdir('a/../b', dirAttrs()), { code: 'EINVAL' });
  });

  ct('readdir lists direct children: dirs, alive objects, symlinks', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('d', dirAttrs());
    await cat.mkdir('d/sub', dirAttrs());
    await putObject(cat, 'd/file');
    await putObject(cat, 'd/gone');
    await cat.deprecate('d/gone');
    await putObject(cat, 'd/sub/deeper');
    await cat.symlink('d/link', '../elsewhere', fileAttrs({ mode: 0o120777 }));
    await putObject(cat, 'top');
    t.deepEqual(await children(cat, 'd'), ['file:d/file', 'symlink:d/link', 'dir:d/sub']);
    t.deepEqual(await children(cat, ''), ['dir:d', 'file:top']);
    t.deepEqual(await children(cat, 'd/sub'), ['file:d/sub/deeper']);
    await t.throwsAsync(cat.readdir('top'), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.readdir('d/link'), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.readdir('nope'), { code: 'ENOENT' });
    const link = await cat.lookup('d/link');
    t.like(link, { type: 'symlink', row: { path: 'd/link', target: '../elsewhere', mode: 0o120777 } });
    t.is((await cat.lookup('d/file'))?.type, 'file');
    t.is(await cat.lookup('d/gone'), null);
    t.is(await cat.lookup('nope'), null);
  });

  ct('rmdir: ENOTEMPTY, ENOENT, ENOTDIR', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('a', dirAttrs());
    await cat.mkdir('a/b', dirAttrs());
    await t.throwsAsync(cat.rmdir('a'), { code: 'ENOTEMPTY' });
    await cat.rmdir('a/b');
    await putObject(cat, 'a/f');
    await t.throwsAsync(cat.rmdir('a'), { code: 'ENOTEMPTY' });
    await cat.deprecate('a/f');
    await cat.symlink('a/l', 't', fileAttrs());
    await t.throwsAsync(cat.rmdir('a'), { code: 'ENOTEMPTY' });
    await cat.unlinkSymlink('a/l');
    await cat.rmdir('a');
    t.is(await cat.lookup('a'), null);
    await t.throwsAsync(cat.rmdir('a'), { code: 'ENOENT' });
    await putObject(cat, 'f');
    await t.throwsAsync(cat.rmdir('f'), { code: 'ENOTDIR' });
  });

  ct('symlinks: create, refuse taken names, unlink', async (t, cat) => {
    await addDirMedium(cat);
    await putObject(cat, 'f');
    const l = await cat.symlink('l', 'f', fileAttrs({ mode: 0o120777 }));
    t.like(l, { path: 'l', target: 'f', mode: 0o120777 });
    await t.throwsAsync(cat.symlink('l', 'x', fileAttrs()), { code: 'EEXIST' });
    await t.throwsAsync(cat.symlink('f', 'x', fileAttrs()), { code: 'EEXIST' });
    await t.throwsAsync(cat.symlink('no/l', 'x', fileAttrs()), { code: 'ENOENT' });
    await t.throwsAsync(cat.symlink('f/l', 'x', fileAttrs()), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.symlink('m', '', fileAttrs()), { code: 'EINVAL' });
    await t.throwsAsync(cat.mkdir('l', dirAttrs()), { code: 'EEXIST' });
    await cat.mkdir('d', dirAttrs());
    await t.throwsAsync(cat.unlinkSymlink('d'), { code: 'EISDIR' });
    await t.throwsAsync(cat.unlinkSymlink('f'), { code: 'ENOENT' });
    await cat.unlinkSymlink('l');
    t.is(await cat.lookup('l'), null);
    await t.throwsAsync(cat.unlinkSymlink('l'), { code: 'ENOENT' });
  });

  ct('setEntryAttrs works on directories, objects and symlinks', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('d', dirAttrs());
    await putObject(cat, 'd/f');
    await cat.symlink('d/l', 'f', fileAttrs());
    t.like((await cat.setEntryAttrs('d', { mode: 0o40700 })).row, { mode: 0o40700 });
    t.like((await cat.setEntryAttrs('d/f', { uid: 3, atime: 11 })).row, { uid: 3, atime: 11 });
    t.like((await cat.getObject({ oid: 'd/f' }))!, { uid: 3, atime: 11 });
    t.like((await cat.setEntryAttrs('d/l', { gid: 4 })).row, { gid: 4, target: 'f' });
    t.like((await cat.setEntryAttrs('d', {})).row, { mode: 0o40700 });
    await t.throwsAsync(cat.setEntryAttrs('nope', { uid: 1 }), { code: 'ENOENT' });
  });

  ct('inode numbers are unique across entry types and never reused', async (t, cat) => {
    await addDirMedium(cat);
    const inos = new Set<number>([1]);
    const add = (n: number): void => {
      t.false(inos.has(n), `inode ${n} reused`);
      inos.add(n);
    };
    add((await cat.mkdir('d', dirAttrs())).ino);
    add((await putObject(cat, 'f')).ino);
    add((await cat.symlink('l', 't', fileAttrs())).ino);
    await cat.rmdir('d');
    add((await cat.mkdir('d', dirAttrs())).ino);
    await cat.unlinkSymlink('l');
    add((await cat.symlink('l', 't', fileAttrs())).ino);
    add((await putObject(cat, 'p/q')).ino);
    add((await cat.lookup('p'))!.row.ino);
  });

  ct('rename a file: onto a missing name, a file (deprecated) or a symlink', async (t, cat) => {
    await addDirMedium(cat);
    const a = await putObject(cat, 'a', { size: 1 });
    await putObject(cat, 'a', { size: 2, overwrite: true });
    await cat.mkdir('d', dirAttrs());
    await cat.rename('a', 'd/a');
    t.is(await cat.lookup('a'), null);
    t.like((await cat.lookup('d/a'))!.row, { uuid: a.uuid, version: 2 });
    t.is((await cat.getObject({ uuid: a.uuid, version: 1, mode: 'deprecated' }))!.oid, 'd/a', 'all versions move');
    const b = await putObject(cat, 'b');
    await cat.rename('d/a', 'b');
    t.is((await cat.getObject({ oid: 'b' }))!.uuid, a.uuid);
    const replaced = await cat.getObject({ uuid: b.uuid, mode: 'deprecated' });
    t.true(replaced!.deprecatedAt !== null, 'the replaced file is deprecated');
    await cat.symlink('s', 'x', fileAttrs());
    await cat.rename('b', 's');
    t.is((await cat.lookup('s'))?.type, 'file');
    // A symlink onto a file: the file is deprecated, the symlink takes its name.
    await cat.symlink('s2', 'y', fileAttrs());
    await cat.rename('s2', 's');
    t.like(await cat.lookup('s'), { type: 'symlink', row: { target: 'y' } });
    t.is(await cat.getObject({ oid: 's' }), null);
    t.deepEqual(await children(cat, ''), ['dir:d', 'symlink:s']);
  });

  ct('rename errors follow POSIX', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('d', dirAttrs());
    await cat.mkdir('d/sub', dirAttrs());
    await cat.mkdir('e', dirAttrs());
    await putObject(cat, 'e/f');
    await putObject(cat, 'f');
    await t.throwsAsync(cat.rename('nope', 'x'), { code: 'ENOENT' });
    await t.throwsAsync(cat.rename('f', 'no/x'), { code: 'ENOENT' });
    await t.throwsAsync(cat.rename('f', 'f/x'), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.rename('f', 'd'), { code: 'EISDIR' });
    await t.throwsAsync(cat.rename('d', 'f'), { code: 'ENOTDIR' });
    await t.throwsAsync(cat.rename('d', 'd/sub/x'), { code: 'EINVAL' });
    await t.throwsAsync(cat.rename('d', 'e'), { code: 'ENOTEMPTY' });
    await t.throwsAsync(cat.rename('', 'x'), { code: 'EINVAL' });
    await cat.rename('f', 'f');
    t.truthy(await cat.getObject({ oid: 'f' }));
  });

  ct('rename a directory moves everything below it', async (t, cat) => {
    await addDirMedium(cat);
    await cat.mkdir('src', dirAttrs());
    const x = await putObject(cat, 'src/x', { size: 1 });
    await putObject(cat, 'src/x', { size: 2, overwrite: true });
    await putObject(cat, 'src/a/b/c');
    await putObject(cat, 'src/gone');
    await cat.deprecate('src/gone');
    await cat.symlink('src/a/l', 't', fileAttrs());
    await putObject(cat, 'src2/keep');
    await putObject(cat, 'srcx');
    await cat.mkdir('empty', dirAttrs());
    const srcIno = (await cat.lookup('src'))!.row.ino;
    await cat.rename('src', 'empty');
    t.is(await cat.lookup('src'), null);
    t.is((await cat.lookup('empty'))!.row.ino, srcIno, 'the directory keeps its inode');
    t.deepEqual(await children(cat, 'empty'), ['dir:empty/a', 'file:empty/x']);
    t.deepEqual(await children(cat, 'empty/a'), ['dir:empty/a/b', 'symlink:empty/a/l']);
    t.deepEqual(await children(cat, 'empty/a/b'), ['file:empty/a/b/c']);
    t.is((await cat.getObject({ uuid: x.uuid, version: 1, mode: 'deprecated' }))!.oid, 'empty/x');
    t.truthy(await cat.getObject({ oid: 'empty/gone', mode: 'deprecated-only' }));
    t.truthy(await cat.getObject({ oid: 'src2/keep' }), 'a sibling with the same prefix stays');
    t.truthy(await cat.getObject({ oid: 'srcx' }));
    await cat.mkdir('n', dirAttrs());
    await cat.rename('empty', 'n/moved');
    t.deepEqual((await cat.listObjects()).map((o) => o.oid), ['n/moved/a/b/c', 'n/moved/x', 'src2/keep', 'srcx']);
    t.deepEqual(await children(cat, ''), ['dir:n', 'dir:src2', 'file:srcx']);
  });

  ct('an object cannot become the parent of another', async (t, cat) => {
    await addDirMedium(cat);
    await putObject(cat, 'a/b');
    await t.throwsAsync(putObject(cat, 'a'), { code: 'EISDIR' });
    await t.throwsAsync(putObject(cat, 'a/b/c'), { code: 'ENOTDIR' });
  });
}
