/**
 * The Vfs run directly (no FUSE): the shared file-system suite, then what
 * only a direct caller can check: callers' identities, permissions,
 * utimens' special values, xattrs, handles and the control directory.
 */
import test from 'ava';
import type { DiskCache } from '../../src/cache/index.js';
import type { Catalog, SqliteCatalog } from '../../src/catalog/index.js';
import { O_EXCL, O_WRONLY, ROOT_CALLER, S_IFREG, Vfs, type Caller } from '../../src/fs/index.js';
import { AttrCache } from '../../src/fs/attrCache.js';
import { runFsSuite } from '../helpers/fsSuite.js';
import { vfsOser } from '../helpers/vfsOser.js';
import { openCacheEnv, sleepReal } from './cacheEnv.js';

/** The Vfs over the real disk cache, store and catalog, flushing to directory media. */
interface Env { vfs: Vfs; catalog: Catalog; cache: DiskCache; archive(p: string): Promise<void> }
const closers: (() => Promise<void>)[] = [];

async function makeEnv(): Promise<Env> {
  const env = await openCacheEnv();
  closers.push(() => env.close());
  const vfs = new Vfs({ catalog: env.catalog, cache: env.cache, log: env.log });
  await vfs.init();
  const archive = async (p: string) => {
    const row = await env.catalog.getObject({ oid: p });
    if (!row) throw new Error(`nothing to archive at ${p}`);
    await env.cache.flush([row], { wait: true });
  };
  return { vfs, catalog: env.catalog, cache: env.cache, archive };
}

test.after.always(async () => {
  for (const close of closers) await close();
});

let shared: Env;
test.before(async () => { shared = await makeEnv(); });
runFsSuite(test, 'vfs', () => vfsOser(shared.vfs, ROOT_CALLER, shared.archive));

const USER: Caller = { uid: 1000, gid: 1000, pid: 1 };
const OTHER: Caller = { uid: 1001, gid: 1001, pid: 1 };

async function file(vfs: Vfs, path: string, data: string, c: Caller = ROOT_CALLER): Promise<void> {
  const fd = await vfs.create(path, S_IFREG | 0o644, O_WRONLY, c);
  await vfs.write(fd, Buffer.from(data), data.length, 0);
  await vfs.release(fd);
}

test('namespace changes commit lazily; fsyncdir makes them durable', async (t) => {
  const { vfs, catalog } = await makeEnv();
  const sqlite = catalog as SqliteCatalog;
  await catalog.sync();
  await vfs.mkdir('/d', 0o755, ROOT_CALLER);
  await vfs.symlink('x', '/d/l', ROOT_CALLER);
  await vfs.rename('/d/l', '/d/m', ROOT_CALLER);
  await vfs.chmod('/d', 0o700, ROOT_CALLER);
  t.true(sqlite.syncPending, 'no sync per change');
  t.is((await vfs.getattr('/d')).mode & 0o7777, 0o700);
  await vfs.fsyncdir('/d');
  t.false(sqlite.syncPending);
});

test('new entries belong to their caller; setgid directories pass their group on', async (t) => {
  const { vfs } = await makeEnv();
  await vfs.mkdir('/home', 0o777, ROOT_CALLER);
  await file(vfs, '/home/u.txt', 'u', USER);
  await vfs.mkdir('/home/ud', 0o755, USER);
  await vfs.symlink('u.txt', '/home/ul', USER);
  for (const p of ['/home/u.txt', '/home/ud', '/home/ul']) {
    const s = await vfs.getattr(p);
    t.deepEqual([s.uid, s.gid], [1000, 1000], p);
  }
  await vfs.mkdir('/shared', 0o2775, ROOT_CALLER);
  await vfs.chown('/shared', 0, 500, ROOT_CALLER);
  await file(vfs, '/shared/f', 'x', USER);
  await vfs.mkdir('/shared/sub', 0o755, USER);
  t.is((await vfs.getattr('/shared/f')).gid, 500);
  t.is((await vfs.getattr('/shared/sub')).gid, 500);
  t.truthy((await vfs.getattr('/shared/sub')).mode & 0o2000, 'subdirectories stay setgid');
});

test('chown: only root gives files away; owners change the group; chmod and times need the owner', async (t) => {
  const { vfs } = await makeEnv();
  await file(vfs, '/f', 'x', USER);
  await t.throwsAsync(vfs.chown('/f', 0, -1, USER), { code: 'EPERM' });
  await vfs.chown('/f', -1, 1000, USER);
  await vfs.chown('/f', 0xffffffff, 77, USER);
  t.is((await vfs.getattr('/f')).gid, 77);
  await vfs.chown('/f', 1001, 1001, ROOT_CALLER);
  t.is((await vfs.getattr('/f')).uid, 1001);
  await t.throwsAsync(vfs.chmod('/f', 0o777, USER), { code: 'EPERM' });
  await t.throwsAsync(vfs.utimens('/f', 5, 5, USER), { code: 'EPERM' });
  await vfs.chmod('/f', 0o600, OTHER);
  t.is((await vfs.getattr('/f')).mode, S_IFREG | 0o600);
});

test('utimens honours UTIME_OMIT and UTIME_NOW', async (t) => {
  const { vfs } = await makeEnv();
  await file(vfs, '/f', 'x');
  await vfs.utimens('/f', 1_000_123, 2_000_456, ROOT_CALLER);
  await vfs.utimens('/f', 'omit', 3_000_789, ROOT_CALLER);
  let s = await vfs.getattr('/f');
  t.deepEqual([s.atime, s.mtime], [1_000_123, 3_000_789]);
  await vfs.utimens('/f', 4_000_000, 'omit', ROOT_CALLER);
  s = await vfs.getattr('/f');
  t.deepEqual([s.atime, s.mtime], [4_000_000, 3_000_789]);
  const before = Date.now();
  await vfs.utimens('/f', 'now', 'omit', ROOT_CALLER);
  s = await vfs.getattr('/f');
  t.true(s.atime >= before);
  t.is(s.mtime, 3_000_789);
  const ctime0 = s.ctime;
  await vfs.utimens('/f', 'omit', 'omit', ROOT_CALLER);
  t.is((await vfs.getattr('/f')).ctime, ctime0, 'both omitted changes nothing');
});

test('an open writer shows its size; times set before release survive it (cp -p, tar x)', async (t) => {
  const { vfs } = await makeEnv();
  const fd = await vfs.create('/f', S_IFREG | 0o644, O_WRONLY, ROOT_CALLER);
  await vfs.write(fd, Buffer.alloc(5000, 1), 5000, 0);
  t.is((await vfs.getattr('/f')).size, 5000);
  t.is((await vfs.getattr('/f')).blocks, 10);
  const mt = Date.UTC(2001, 0, 1, 0, 0, 0, 1);
  await vfs.utimens('/f', mt, mt, ROOT_CALLER);
  t.is((await vfs.getattr('/f')).mtime, mt);
  await vfs.release(fd);
  const s = await vfs.getattr('/f');
  t.is(s.size, 5000);
  t.is(s.mtime, mt, 'the close did not stamp its own time over the one set');
});

test('create with O_EXCL on an existing file is EEXIST; open of a directory is EISDIR', async (t) => {
  const { vfs } = await makeEnv();
  await file(vfs, '/f', 'x');
  await t.throwsAsync(vfs.create('/f', S_IFREG | 0o644, O_WRONLY | O_EXCL, ROOT_CALLER), { code: 'EEXIST' });
  await vfs.mkdir('/d', 0o755, ROOT_CALLER);
  await t.throwsAsync(vfs.open('/d', 0, ROOT_CALLER), { code: 'EISDIR' });
  await t.throwsAsync(vfs.mknod('/fifo', 0o010644, 0, ROOT_CALLER), { code: 'EPERM' });
  await vfs.mknod('/plain', S_IFREG | 0o600, 0, ROOT_CALLER);
  t.is((await vfs.getattr('/plain')).size, 0);
});

test('unlink deprecates: the catalog can undelete the file', async (t) => {
  const { vfs, catalog } = await makeEnv();
  await file(vfs, '/keep.txt', 'precious');
  const ino = (await vfs.getattr('/keep.txt')).ino;
  await vfs.unlink('/keep.txt', ROOT_CALLER);
  await t.throwsAsync(vfs.getattr('/keep.txt'), { code: 'ENOENT' });
  await catalog.undelete('keep.txt');
  vfs.invalidate();
  t.is((await vfs.getattr('/keep.txt')).ino, ino);
  t.is((await vfsOser(vfs).readFile('keep.txt')).toString(), 'precious');
});

test('xattrs: user.* is user metadata, user.deimos.* status and actions, other namespaces unsupported', async (t) => {
  const { vfs, catalog, cache } = await makeEnv();
  await file(vfs, '/f', 'x');
  await vfs.setxattr('/f', 'user.project', Buffer.from('apollo'), 0, ROOT_CALLER);
  t.deepEqual((await catalog.getObject({ oid: 'f' }))!.userMd, { project: 'apollo' });
  t.is((await vfs.getxattr('/f', 'user.project')).toString(), 'apollo');
  t.deepEqual(await vfs.listxattr('/f'), ['user.project']);
  await t.throwsAsync(vfs.setxattr('/f', 'user.project', Buffer.from('x'), 1, ROOT_CALLER), { code: 'EEXIST' });
  await t.throwsAsync(vfs.setxattr('/f', 'user.none', Buffer.from('x'), 2, ROOT_CALLER), { code: 'ENODATA' });
  t.is((await vfs.getxattr('/f', 'user.deimos.version')).toString(), '1');
  t.is((await vfs.getxattr('/f', 'user.deimos.state')).toString(), 'dirty');
  t.is((await vfs.getxattr('/f', 'user.deimos.copies')).toString(), '');
  await t.throwsAsync(vfs.setxattr('/f', 'user.deimos.state', Buffer.from('x'), 0, ROOT_CALLER), { code: 'EPERM' });
  await vfs.setxattr('/f', 'user.deimos.flush', Buffer.from('1'), 0, ROOT_CALLER);
  const state = async () => (await vfs.getxattr('/f', 'user.deimos.state')).toString();
  while (await state() !== 'online') await sleepReal(10);
  t.regex((await vfs.getxattr('/f', 'user.deimos.copies')).toString(), /^source$/);
  await vfs.setxattr('/f', 'user.deimos.release', Buffer.from('1'), 0, ROOT_CALLER);
  t.is(await state(), 'offline');
  await vfs.setxattr('/f', 'user.deimos.stage', Buffer.from('1'), 0, ROOT_CALLER);
  while (await state() !== 'online') await sleepReal(10);
  t.is(cache.stats().recalls, 1);
  await t.throwsAsync(vfs.getxattr('/f', 'trusted.x'), { code: 'ENOTSUP' });
  await t.throwsAsync(vfs.setxattr('/f', 'security.selinux', Buffer.from('x'), 0, ROOT_CALLER), { code: 'ENOTSUP' });
  await t.throwsAsync(vfs.getxattr('/f', 'user.missing'), { code: 'ENODATA' });
  await vfs.removexattr('/f', 'user.project', ROOT_CALLER);
  t.deepEqual(await vfs.listxattr('/f'), []);
  await t.throwsAsync(vfs.removexattr('/f', 'user.deimos.version', ROOT_CALLER), { code: 'EPERM' });
  await vfs.mkdir('/d', 0o755, ROOT_CALLER);
  t.deepEqual(await vfs.listxattr('/d'), []);
  await t.throwsAsync(vfs.setxattr('/d', 'user.a', Buffer.from('x'), 0, ROOT_CALLER), { code: 'ENOTSUP' });
  await t.throwsAsync(vfs.setxattr('/.deimos/versions/f/1', 'user.a', Buffer.from('x'), 0, ROOT_CALLER), { code: 'EROFS' });
  t.is((await vfs.getxattr('/.deimos/versions/f/1', 'user.deimos.version')).toString(), '1');
});

test('the control directory: reserved name, generations of a path, copies need a reader', async (t) => {
  const { vfs } = await makeEnv();
  await t.throwsAsync(vfs.mkdir('/.deimos', 0o755, ROOT_CALLER), { code: 'EROFS' });
  await t.throwsAsync(vfs.create('/.deimos/x', S_IFREG | 0o644, 0, ROOT_CALLER), { code: 'EROFS' });
  await t.throwsAsync(vfs.getattr('/.deimos/nothing'), { code: 'ENOENT' });
  await file(vfs, '/g', 'gen1');
  await vfs.unlink('/g', ROOT_CALLER);
  await file(vfs, '/g', 'gen2');
  const names = (await vfs.readdir('/.deimos/versions/g')).names.filter((n) => !n.startsWith('.')).sort();
  t.is(names.length, 2);
  t.true(names.includes('1'));
  t.regex(names.find((n) => n !== '1')!, /^1\.[0-9a-f]{8}$/);
  t.deepEqual((await vfs.readdir('/.deimos/copies/g')).names, ['.', '..']);
  t.true((await vfs.readdir('/.deimos/copies')).names.includes('g'));
  await t.throwsAsync(vfs.open('/.deimos/versions/g/1', O_WRONLY, ROOT_CALLER), { code: 'EROFS' });
});

test('statfs reports the media of the catalog', async (t) => {
  const { vfs, catalog } = await makeEnv();
  const dirs = await catalog.listMedia();
  const dirTotal = dirs.reduce((n, m) => n + m.sizeTotal, 0);
  const dirFree = dirs.reduce((n, m) => n + m.sizeFree, 0);
  await catalog.addMedia([{ family: 'tape', name: 'T1', admStatus: 'unlocked', sizeTotal: 18e12, sizeFree: 10e12 },
    { family: 'tape', name: 'T2', admStatus: 'unlocked', sizeTotal: 18e12, sizeFree: 18e12 }]);
  const s = await vfs.statfs();
  t.true(s.blocks < 2 ** 32);
  t.true(Math.abs(s.blocks * s.frsize - (36e12 + dirTotal)) < s.frsize);
  t.true(Math.abs(s.bavail * s.frsize - (28e12 + dirFree)) < s.frsize * 2);
  t.is(s.namemax, 255);
});

test('a directory\'s mtime and ctime move when a name in it is added or removed, not when a file in it changes', async (t) => {
  const { vfs } = await makeEnv();
  await vfs.mkdir('/d', 0o755, ROOT_CALLER);
  await vfs.mkdir('/e', 0o755, ROOT_CALLER);
  const old = 1_000_000;
  const reset = async () => {
    for (const p of ['/', '/d', '/e']) await vfs.utimens(p, old, old, ROOT_CALLER);
  };
  const moved = async (p: string) => (await vfs.getattr(p)).mtime > old && (await vfs.getattr(p)).ctime > old;
  const steps: [string, () => Promise<unknown>, string[], string[]][] = [
    ['create', () => file(vfs, '/d/f', 'x'), ['/d'], ['/', '/e']],
    ['write to an existing file', () => vfsOser(vfs).writeFile('d/f', Buffer.from('yy')), [], ['/', '/d', '/e']],
    ['chmod of a file', () => vfs.chmod('/d/f', 0o600, ROOT_CALLER), [], ['/d']],
    ['rename across directories', () => vfs.rename('/d/f', '/e/f', ROOT_CALLER), ['/d', '/e'], ['/']],
    ['rename in place', () => vfs.rename('/e/f', '/e/g', ROOT_CALLER), ['/e'], ['/', '/d']],
    ['symlink', () => vfs.symlink('g', '/e/l', ROOT_CALLER), ['/e'], ['/d']],
    ['unlink of a symlink', () => vfs.unlink('/e/l', ROOT_CALLER), ['/e'], ['/d']],
    ['unlink of a file', () => vfs.unlink('/e/g', ROOT_CALLER), ['/e'], ['/d']],
    ['mkdir', () => vfs.mkdir('/d/sub', 0o755, ROOT_CALLER), ['/d'], ['/', '/e']],
    ['rmdir', () => vfs.rmdir('/d/sub', ROOT_CALLER), ['/d'], ['/', '/e']],
    ['mkdir at the root', () => vfs.mkdir('/top', 0o755, ROOT_CALLER), ['/'], ['/d', '/e']],
  ];
  for (const [what, step, changed, kept] of steps) {
    await reset();
    await step();
    for (const p of changed) t.true(await moved(p), `${what}: ${p} changed`);
    for (const p of kept) t.is((await vfs.getattr(p)).mtime, old, `${what}: ${p} kept its mtime`);
  }
});

test('reads update atime as relatime does: once after a change, then once a day; an open alone does not', async (t) => {
  const { vfs } = await makeEnv();
  await file(vfs, '/r', 'data');
  const read = async (bytes = 1) => {
    const fd = await vfs.open('/r', 0, ROOT_CALLER);
    if (bytes > 0) t.is(await vfs.read(fd, Buffer.alloc(bytes), bytes, 0), bytes);
    await vfs.release(fd);
    await vfs.settled();
  };
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  await vfs.utimens('/r', now - 2 * day, now - day, ROOT_CALLER);
  await read(0);
  t.is((await vfs.getattr('/r')).atime, now - 2 * day, 'opened and closed without a read (as rsync does to chmod): kept, as on Linux');
  await read();
  t.true((await vfs.getattr('/r')).atime >= now, 'atime older than mtime: the read set it');
  // utimens moves ctime to now: an atime after it (and after mtime), less than a day old, is kept.
  await vfs.utimens('/r', now + 60_000, now - day, ROOT_CALLER);
  await read();
  t.is((await vfs.getattr('/r')).atime, now + 60_000, 'read since the last change, less than a day ago: kept');
  await vfs.utimens('/r', now - 2 * day, now - 3 * day, ROOT_CALLER);
  await read();
  t.true((await vfs.getattr('/r')).atime >= now, 'a day old: the read set it');
  t.is((await vfs.getattr('/r')).mtime, now - 3 * day, 'mtime untouched');
});

test('the attribute cache keeps what a background release committed only if its path did not change meanwhile', async (t) => {
  const { vfs, catalog } = await makeEnv();
  await file(vfs, '/a', 'x');
  const attrs = new AttrCache(catalog, { ttlMs: 60_000 });
  const committed = (await attrs.lookup('a'))!;
  // A release's close committed `committed`; an unlink of the file ran before the release stored it.
  const since = attrs.snapshot();
  await vfs.unlink('/a', ROOT_CALLER);
  attrs.invalidate('a');
  t.false(attrs.putIfUnchanged('a', committed, since));
  t.is(await attrs.lookup('a'), null, 'the unlinked file is not brought back');
  // Changes of other paths do not matter; a directory moved does.
  await file(vfs, '/b', 'y');
  const b = (await attrs.lookup('b'))!;
  const since2 = attrs.snapshot();
  attrs.invalidate('c');
  t.true(attrs.putIfUnchanged('b', b, since2));
  const since3 = attrs.snapshot();
  attrs.invalidateTree('d');
  t.false(attrs.putIfUnchanged('b', b, since3));
});

test('missing paths are cached too, until a change of the path through the Vfs or an invalidate', async (t) => {
  const { vfs, catalog } = await makeEnv();
  await t.throwsAsync(vfs.getattr('/late'), { code: 'ENOENT' });
  await file(vfs, '/late', 'made through the Vfs');
  t.is((await vfs.getattr('/late')).size, 'made through the Vfs'.length);
  const attrs = new AttrCache(catalog, { ttlMs: 60_000 });
  t.is(await attrs.lookup('behind'), null);
  await file(vfs, '/behind', 'x');
  t.is(await attrs.lookup('behind'), null, 'a change behind the cache is unseen until invalidated (or the TTL)');
  attrs.invalidate('behind');
  t.not(await attrs.lookup('behind'), null);
});

test('libfuse workers poll for answers only with a core to spare ([fuse] spin_us, empty by default)', async (t) => {
  const { spinDefault } = await import('../../src/fs/mount.js');
  const { Config } = await import('../../src/core/index.js');
  t.is(spinDefault(1), 0);
  t.is(spinDefault(2), 0);
  t.is(spinDefault(4), 50);
  t.is(new Config({ file: null, env: {} }).str('fuse', 'spin_us'), '');
  t.is(new Config({ file: null, env: { DEIMOS_FUSE_SPIN_US: '25' } }).num('fuse', 'spin_us'), 25, 'the addon\'s own variable sets it');
});
