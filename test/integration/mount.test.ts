/**
 * The mount for real: `deimos mount --foreground` in a child process over
 * the sim tape library (scaled real clock), the shared file-system suite
 * through it, and real tools (cp -a, rsync -aHX, tar, find, du, diff,
 * touch, setfattr/getfattr) on a tree with nested and empty directories,
 * symlinks, odd names, empty and large files. Needs root and /dev/fuse:
 * a mount that cannot come up fails the tests.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TmpStore } from '../helpers/cli.js';
import { runFsSuite } from '../helpers/fsSuite.js';
import { libraryStore, mountChild, sh, type Mounted } from '../helpers/mountEnv.js';
import { nodeOser } from '../helpers/nodeOser.js';

let s: TmpStore;
let m: Mounted;
let src: string;

test.before(async () => {
  s = await libraryStore();
  // Other users reach the mount (allow_other) only through a path they can traverse.
  await chmod(s.root, 0o755);
  m = await mountChild(s, 'mnt', ['-o', 'allow_other']);
  src = join(s.root, 'src');
  await makeTree(src);
});

test.after.always(async () => {
  const code = await m?.stop();
  if (code !== 0 && m) console.error(`deimos mount exited ${code}:\n${m.log().slice(-4000)}`);
  await s?.cleanup();
});

runFsSuite(test, 'mount', () => nodeOser(m.mnt, async (p) => { await s.ok(['flush', '--wait', p]); }));

const LONG = 'L'.repeat(251) + '.txt';

/** The tree the tools copy: nesting, empty directories, symlinks, odd names, empty and large files, xattrs, old times. */
async function makeTree(root: string): Promise<void> {
  for (const d of ['a/b/c', 'empty', 'a/empty2', 'sp ace/ünï 名前', 'many']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'a/b/c/deep.txt'), 'deep\n');
  await writeFile(join(root, 'zero'), '');
  await writeFile(join(root, 'big.bin'), randomBytes(24 << 20));
  await writeFile(join(root, 'sp ace/ünï 名前/file with spaces.txt'), 'odd\n');
  await writeFile(join(root, LONG), 'long name\n');
  for (let i = 0; i < 60; i++) await writeFile(join(root, `many/f${i}`), randomBytes(i * 97));
  await symlink('b/c/deep.txt', join(root, 'a/link'));
  await symlink('../nowhere', join(root, 'a/dangling'));
  await symlink('a/b', join(root, 'dirlink'));
  await sh(`chmod 600 '${root}/zero' && chmod 755 '${root}/many/f1' && chmod 444 '${root}/many/f2' && chmod 700 '${root}/a/empty2'`);
  await sh(`setfattr -n user.color -v blue '${root}/a/b/c/deep.txt' && setfattr -n user.project -v 'apollo 11' '${root}/big.bin'`);
  // Directories and symlinks get times in the past: rsync compares times to the second and leaves a
  // directory made in the same second as its source with the time of its making (ext4 too).
  await sh(`find '${root}' \\( -type d -o -type l \\) -exec touch -h -d '2005-06-07 08:09:10.123456789' {} +`);
  await utimes(join(root, 'many/f3'), new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'));
  await sh(`touch -h -d '2002-01-01 00:00:00.5' '${root}/a/link' && touch -d '2003-03-03' '${root}/empty'`);
}

interface Node { type: string; size: number; mode: number; mtimeMs: number; hash?: string; target?: string }

async function tree(root: string): Promise<Map<string, Node>> {
  const out = new Map<string, Node>();
  const walk = async (rel: string) => {
    for (const name of await readdir(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = await lstat(p);
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file';
      const n: Node = { type, size: type === 'dir' ? 0 : st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      if (type === 'file') n.hash = createHash('sha256').update(await readFile(p)).digest('hex');
      if (type === 'link') n.target = await readlink(p);
      out.set(r, n);
      if (type === 'dir') await walk(r);
    }
  };
  await walk('');
  return out;
}

/** Same entries, types, sizes, modes, bytes and targets; times to the millisecond (the catalog's precision). */
async function sameTree(t: import('ava').ExecutionContext, a: string, b: string, opts: { times?: boolean } = {}): Promise<void> {
  const ta = await tree(a);
  const tb = await tree(b);
  t.deepEqual([...tb.keys()].sort(), [...ta.keys()].sort());
  for (const [k, x] of ta) {
    const y = tb.get(k);
    if (!y) continue;
    const { mtimeMs: mx, ...rx } = x;
    const { mtimeMs: my, ...ry } = y;
    t.deepEqual(ry, rx, k);
    if (opts.times !== false) t.true(Math.abs(mx - my) < 1, `${k}: mtime ${my} vs ${mx}`);
  }
}

test.serial('cp -a copies the tree exactly; diff -r, find and du agree', async (t) => {
  await sh(`cp -a '${src}' '${m.mnt}/cpa'`);
  await sameTree(t, src, join(m.mnt, 'cpa'));
  await sh(`diff -r --no-dereference '${src}' '${m.mnt}/cpa'`);
  const find = (root: string) => sh(`cd '${root}' && find . -printf '%y %s %m %p\\n' | grep -v '^d' | sort`);
  t.is(await find(join(m.mnt, 'cpa')), await find(src));
  const du = (root: string) => sh(`cd '${root}' && find . -type f -print0 | du -b --files0-from=- | sort -k2`);
  t.is(await du(join(m.mnt, 'cpa')), await du(src));
  const blocks = Number((await sh(`du -sk '${m.mnt}/cpa/big.bin'`)).split('\t')[0]);
  t.true(blocks >= 24 * 1024, `du sees the blocks of a large file (${blocks} KiB)`);
  t.is((await sh(`getfattr --only-values -n user.project '${m.mnt}/cpa/big.bin'`)), 'apollo 11');
});

test.serial('rsync -aHX twice: the second run transfers nothing', async (t) => {
  await sh(`rsync -aHX '${src}/' '${m.mnt}/rs/'`);
  await sameTree(t, src, join(m.mnt, 'rs'));
  const second = await sh(`rsync -aHX --stats '${src}/' '${m.mnt}/rs/'`);
  t.regex(second, /Number of regular files transferred: 0\b/);
  t.is(await sh(`getfattr --only-values -n user.color '${m.mnt}/rs/a/b/c/deep.txt'`), 'blue');
  // A changed source file goes over with rsync's temp-file-then-rename onto the existing one.
  await writeFile(join(src, 'many/f5'), 'changed contents\n');
  const third = await sh(`rsync -aHX --stats '${src}/' '${m.mnt}/rs/'`);
  t.regex(third, /Number of regular files transferred: 1\b/);
  t.is(await readFile(join(m.mnt, 'rs/many/f5'), 'utf8'), 'changed contents\n');
  await sh(`diff -r --no-dereference '${src}' '${m.mnt}/rs'`);
});

test.serial('tar x into the mount and tar c out of it round-trip the tree', async (t) => {
  // The POSIX format keeps sub-second times (GNU's keeps seconds).
  await sh(`mkdir '${m.mnt}/tx' && tar -C '${src}' --format=posix --xattrs -cf - . | tar -C '${m.mnt}/tx' --xattrs -xpf -`);
  await sameTree(t, src, join(m.mnt, 'tx'));
  const out = join(s.root, 'untar');
  await sh(`mkdir '${out}' && tar -C '${m.mnt}/tx' --format=posix --sparse -cf - . | tar -C '${out}' -xpf -`);
  await sameTree(t, src, out);
  await sh(`diff -r --no-dereference '${src}' '${out}'`);
});

test.serial('touch -m, touch -a and cp -p keep exact times; a read moves atime (relatime), an open alone does not', async (t) => {
  const f = join(m.mnt, 'times.txt');
  await writeFile(f, 'x');
  await sh(`touch -m -d '2010-05-06 07:08:09.123456789' '${f}'`);
  await sh(`touch -a -d '2011-01-01 00:00:00.250' '${f}'`);
  t.is(await sh(`stat -c '%y|%x' '${f}'`), '2010-05-06 07:08:09.123000000 +0000|2011-01-01 00:00:00.250000000 +0000\n');
  await sh(`cp -p '${src}/many/f3' '${m.mnt}/f3copy'`);
  t.is(await sh(`stat -c '%y' '${m.mnt}/f3copy'`), '2001-02-03 04:05:06.789000000 +0000\n');
  // atime older than mtime: the next read moves it (in the background, after the release).
  await sh(`touch -a -d '2009-01-01 00:00:00' '${f}'`);
  await sh(`: < '${f}'`);
  await new Promise((r) => setTimeout(r, 300));
  t.is(await sh(`stat -c '%x' '${f}'`), '2009-01-01 00:00:00.000000000 +0000\n', 'opened and closed without a read');
  await sh(`cat '${f}' > /dev/null`);
  let atime = '';
  for (let i = 0; i < 50 && !atime.startsWith(String(new Date().getUTCFullYear())); i++) {
    await new Promise((r) => setTimeout(r, 100));
    atime = await sh(`stat -c '%x' '${f}'`);
  }
  t.true(atime.startsWith(String(new Date().getUTCFullYear())), `atime after a read: ${atime}`);
  t.is(await sh(`stat -c '%y' '${f}'`), '2010-05-06 07:08:09.123000000 +0000\n', 'mtime untouched');
}, );

test.serial('a directory shows new times after each name it gains or loses, in one step and across two', async (t) => {
  const a = join(m.mnt, 'dtimes/a');
  const b = join(m.mnt, 'dtimes/b');
  await mkdir(a, { recursive: true });
  await mkdir(b);
  const OLD = '978307200';
  const mtime = async (d: string) => (await sh(`stat -c %Y '${d}'`)).trim();
  const steps: [string, string, string[]][] = [
    ['create', `touch '${a}/f'`, [a]],
    ['mkdir', `mkdir '${a}/sub'`, [a]],
    ['symlink', `ln -s f '${a}/l'`, [a]],
    ['rename within', `mv '${a}/f' '${a}/g'`, [a]],
    ['rename across', `mv '${a}/g' '${b}/g'`, [a, b]],
    ['unlink', `rm '${b}/g'`, [b]],
    ['rmdir', `rmdir '${a}/sub'`, [a]],
  ];
  for (const [what, cmd, dirs] of steps) {
    await sh(`touch -d @${OLD} '${a}' '${b}'`);
    // Seen first, so the kernel and the addon hold the old times.
    for (const d of dirs) t.is(await mtime(d), OLD, `${what}: before`);
    await sh(cmd);
    for (const d of dirs) t.not(await mtime(d), OLD, `${what}: ${d}`);
  }
});

test.serial('unlink then deimos undelete; versions of a file after an overwrite', async (t) => {
  const f = join(m.mnt, 'doc.txt');
  await writeFile(f, 'first\n');
  await s.ok(['flush', '--wait', f]);
  await writeFile(f, 'second\n');
  t.deepEqual((await readdir(join(m.mnt, '.deimos/versions/doc.txt'))).sort(), ['1', '2']);
  t.is(await sh(`ls '${m.mnt}/.deimos/versions/doc.txt'`), '1\n2\n');
  t.is(await readFile(join(m.mnt, '.deimos/versions/doc.txt/1'), 'utf8'), 'first\n');
  t.false((await readdir(m.mnt)).includes('.deimos'), 'hidden from the root listing');
  await sh(`rm '${f}'`);
  await t.throwsAsync(lstat(f), { code: 'ENOENT' });
  await s.ok(['undelete', 'doc.txt']);
  t.is(await readFile(f, 'utf8'), 'second\n');
  await t.throwsAsync(sh(`echo x > '${m.mnt}/.deimos/versions/doc.txt/1'`));
});

test.serial('data on the direct path: fsync records what was written around JS; a flush of the open file, then more writes, make the next version', async (t) => {
  const f = join(m.mnt, 'direct.bin');
  const a = randomBytes(3 << 20);
  const b = randomBytes(1 << 20);
  const fh = await open(f, 'w');
  try {
    // The first write goes through JS and opens the direct path; the others go around JS.
    for (let off = 0; off < a.length; off += 128 << 10) await fh.write(a, off, 128 << 10, off);
    await fh.sync();
    const size = async () => JSON.parse(await s.ok(['object', 'list', '--pattern', '^direct\\.bin$', '-o', 'size', '-f', 'json']))[0].size;
    t.is(await size(), a.length, 'fsync committed the size the direct writes made');
    await s.ok(['flush', '--wait', f]);
    t.is(await sh(`getfattr --only-values -n user.deimos.state '${f}'`), 'online');
    // Archived while open: the next write makes version 2, it does not change version 1's bytes.
    for (let off = 0; off < b.length; off += 128 << 10) await fh.write(b, off, 128 << 10, a.length + off);
  } finally {
    await fh.close();
  }
  t.true((await readFile(f)).equals(Buffer.concat([a, b])));
  t.is(await sh(`getfattr --only-values -n user.deimos.version '${f}'`), '2');
  t.true((await readFile(join(m.mnt, '.deimos/versions/direct.bin/1'))).equals(a));
  await s.ok(['flush', '--wait', f]);
  t.true((await readFile(f)).equals(Buffer.concat([a, b])));
});

test.serial('reads spliced from the cache file: sizes around pages and requests, reads across the end, a file growing while read', async (t) => {
  for (const size of [1, 4095, 4097, (128 << 10) + 17, (5 << 20) + 3]) {
    const f = join(m.mnt, `splice-${size}.bin`);
    const data = randomBytes(size);
    await writeFile(f, data);
    t.true((await readFile(f)).equals(data), `whole file of ${size} bytes`);
    const fh = await open(f, 'r');
    try {
      for (const [pos, len] of [[0, 1], [size - 1, 10], [Math.floor(size / 3), 200_000], [size, 5], [size + 4096, 5]]) {
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, pos);
        const want = data.subarray(Math.min(pos, size), Math.min(pos + len, size));
        t.true(buf.subarray(0, bytesRead).equals(want), `${size} bytes, read of ${len} at ${pos}`);
      }
    } finally {
      await fh.close();
    }
  }
  const f = join(m.mnt, 'splice-growing.bin');
  const a = randomBytes(300_001);
  const b = randomBytes(200_003);
  const w = await open(f, 'w');
  try {
    await w.write(a, 0, a.length, 0);
    const r = await open(f, 'r');
    try {
      t.true((await r.readFile()).equals(a));
      await w.write(b, 0, b.length, a.length);
      const buf = Buffer.alloc(b.length);
      const { bytesRead } = await r.read(buf, 0, b.length, a.length);
      t.true(buf.subarray(0, bytesRead).equals(b.subarray(0, bytesRead)), 'bytes written after the reader opened');
    } finally {
      await r.close();
    }
  } finally {
    await w.close();
  }
  t.true((await readFile(f)).equals(Buffer.concat([a, b])));
});

test.serial('xattrs: user metadata with setfattr/getfattr and deimos getmd; deimos status attributes', async (t) => {
  const f = join(m.mnt, 'md.txt');
  await writeFile(f, 'metadata\n');
  await sh(`setfattr -n user.owner -v alice '${f}' && setfattr -n user.run -v 7 '${f}'`);
  t.is(await sh(`getfattr -d --absolute-names '${f}' | grep '^user' | sort`), 'user.owner="alice"\nuser.run="7"\n');
  t.is((await s.ok(['getmd', 'md.txt'])).trim(), 'owner=alice,run=7');
  await sh(`setfattr -x user.run '${f}'`);
  t.is((await s.ok(['getmd', 'md.txt'])).trim(), 'owner=alice');
  t.is(await sh(`getfattr --only-values -n user.deimos.version '${f}'`), '1');
  t.regex(await sh(`getfattr --only-values -n user.deimos.state '${f}'`), /^(dirty|flushing|online)$/);
  await t.throwsAsync(sh(`setfattr -n trusted.x -v 1 '${f}'`), { message: /not supported/i });
  await sh(`setfattr -n user.deimos.flush -v 1 '${f}'`);
  await s.ok(['flush', '--wait', join(m.mnt, 'md.txt')]);
  t.is(await sh(`getfattr --only-values -n user.deimos.state '${f}'`), 'online');
  t.regex(await sh(`getfattr --only-values -n user.deimos.media '${f}'`), /^L\d{5}L9$/);
  t.is(await sh(`getfattr --only-values -n user.deimos.copies '${f}'`), 'source');
  t.is(await sh(`ls '${m.mnt}/.deimos/copies/md.txt'`), 'source\n');
  t.is(await readFile(join(m.mnt, '.deimos/copies/md.txt/source'), 'utf8'), 'metadata\n');
});

test.serial('an offline file: right size, blocks, staged on open; deimos stage -r queues a tree', async (t) => {
  const f = join(m.mnt, 'cold.bin');
  const data = randomBytes(3 << 20);
  await writeFile(f, data);
  await s.ok(['flush', '--wait', f]);
  await sh(`setfattr -n user.deimos.release -v 1 '${f}'`);
  t.is(await sh(`getfattr --only-values -n user.deimos.state '${f}'`), 'offline');
  const st = await lstat(f);
  t.is(st.size, data.length);
  t.is(st.blocks, Math.ceil(data.length / 512));
  t.deepEqual(await readFile(f), data, 'the open waited for the recall');
  t.is(await sh(`getfattr --only-values -n user.deimos.state '${f}'`), 'online');
  await sh(`setfattr -n user.deimos.release -v 1 '${f}'`);
  const tarred = await sh(`tar -C '${m.mnt}' --sparse -cf - cold.bin | tar -xOf -`, {}).then(() => true);
  t.true(tarred);
  await sh(`setfattr -n user.deimos.release -v 1 '${f}'`);
  t.regex(await s.ok(['stage', '-r', m.mnt]), /queued for staging/);
  await s.ok(['status']);
});

test.serial('another user: files it makes are its own, it cannot give them away', async (t) => {
  await sh(`mkdir -m 1777 '${m.mnt}/pub'`);
  const as = (cmd: string) => sh(`setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "${cmd}"`);
  await as(`echo mine > '${m.mnt}/pub/nobody.txt' && mkdir '${m.mnt}/pub/nd'`);
  t.is(await sh(`stat -c '%u:%g' '${m.mnt}/pub/nobody.txt' '${m.mnt}/pub/nd'`), '65534:65534\n65534:65534\n');
  await t.throwsAsync(as(`chown 0 '${m.mnt}/pub/nobody.txt'`), { message: /not permitted/ });
  await as(`chmod 600 '${m.mnt}/pub/nobody.txt'`);
  await t.throwsAsync(as(`cat '${m.mnt}/cpa/zero'`), { message: /Permission denied/ }, 'the kernel enforces the stored modes');
  await t.throwsAsync(as(`cat '${m.mnt}/.deimos/versions/cpa/zero/1'`), { message: /Permission denied/ }, 'versions keep the modes of their file');
  await t.throwsAsync(as(`touch '${m.mnt}/.deimos/versions/x'`), { message: /Read-only file system|Permission denied/ }, '/.deimos is read-only');
  await t.throwsAsync(as(`mkdir '${m.mnt}/.deimos/x'`), { message: /Read-only file system|Permission denied/ });
  await sh(`chown 1234:1234 '${m.mnt}/pub/nobody.txt'`);
  t.is(await sh(`stat -c '%u:%g' '${m.mnt}/pub/nobody.txt'`), '1234:1234\n');
  await t.throwsAsync(sh(`ln '${m.mnt}/pub/nobody.txt' '${m.mnt}/pub/hard'`), { message: /not permitted/ });
});

test.serial('df shows the library capacity', async (t) => {
  const out = await sh(`df -B1 --output=size,avail '${m.mnt}' | tail -1`);
  const [size, avail] = out.trim().split(/\s+/).map(Number);
  t.true(size! >= 4 * 1.9e9 && size! <= 4 * 2.2e9, `size ${size}`);
  t.true(avail! > 0 && avail! <= size!);
});

test('deimos mount detaches; umount, fusermount -u and SIGTERM stop it cleanly; dirty files survive restarts and a killed service; flush and stage work unmounted', async (t) => {
  const s2 = await libraryStore({ DEIMOS_CACHE_FLUSH_AGE_MS: '600000' });
  const mnt = join(s2.root, 'mnt');
  const lock = join(s2.home, 'service.lock');
  const mounted = async () => (await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${mnt} `);
  const waitFor = async (what: string, cond: () => Promise<boolean>) => {
    for (let i = 0; i < 600 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 50));
    t.true(await cond(), what);
  };
  const ownerGone = async () => { try { await lstat(lock); return false; } catch { return true; } };
  try {
    await mkdir(mnt);
    t.is((await s2.run(['mount', join(s2.root, 'nope')])).code, 2, 'no such mount point');
    const unmounted = await s2.run(['stage', 'x']);
    t.is(unmounted.code, 2, 'stage of nothing');
    t.regex(unmounted.stderr, /'x' does not exist/);
    t.regex(await s2.ok(['mount', mnt]), /mounted on/);
    t.true(await mounted());
    t.is((await s2.run(['mount', mnt])).code, 16, 'already mounted');
    await writeFile(join(mnt, 'dirty.txt'), 'not on tape yet\n');
    t.is(await sh(`getfattr --only-values -n user.deimos.state '${mnt}/dirty.txt'`), 'dirty');
    await s2.ok(['status']);

    await s2.ok(['umount', mnt]);
    t.false(await mounted());
    t.true(await ownerGone(), 'the service stopped');
    t.is((await s2.run(['locate', 'dirty.txt'])).stdout, '', 'only in the cache');
    // With no mount, flush opens the cache itself (and waits).
    await s2.ok(['flush']);
    t.regex(await s2.ok(['locate', 'dirty.txt']), /L\d{5}L9/);

    await s2.ok(['mount', mnt]);
    t.is(await readFile(join(mnt, 'dirty.txt'), 'utf8'), 'not on tape yet\n');
    // Recovered dirty files are flushed at start.
    t.regex(await sh(`getfattr --only-values -n user.deimos.state '${mnt}/dirty.txt'`), /^(dirty|flushing|online)$/);
    await writeFile(join(mnt, 'second.txt'), 'written before a crash\n');
    // Closes and fsyncs commit differently (lazily / synced): neither loses anything to a killed service.
    const src = join(s2.root, 'src');
    for (let i = 0; i < 30; i++) {
      await mkdir(join(src, `d${i % 4}`), { recursive: true });
      await writeFile(join(src, `d${i % 4}`, `f${i}`), randomBytes(i * 97));
    }
    await sh(`tar -C '${s2.root}' -cf '${s2.root}/src.tar' src && tar -C '${mnt}' -xf '${s2.root}/src.tar'`);
    await writeFile(join(s2.root, 'big'), randomBytes(3 << 20));
    await sh(`dd if='${s2.root}/big' of='${mnt}/synced.bin' bs=64k conv=fsync status=none`);

    // A killed service leaves "Transport endpoint is not connected"; the next mount clears it.
    process.kill(Number(await readFile(lock, 'utf8')), 'SIGKILL');
    await waitFor('stale mount', async () => lstat(join(mnt, 'dirty.txt')).then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ENOTCONN'));
    await s2.ok(['mount', mnt]);
    t.is(await readFile(join(mnt, 'second.txt'), 'utf8'), 'written before a crash\n');
    t.is(await sh(`diff -r '${src}' '${mnt}/src' && echo same`), 'same\n', 'every file tar closed');
    t.true((await readFile(join(mnt, 'synced.bin'))).equals(await readFile(join(s2.root, 'big'))), 'the fsynced file');
    await s2.ok(['flush', '--wait']);
    t.is(await sh(`getfattr --only-values -n user.deimos.state '${mnt}/dirty.txt'`), 'online');

    await sh(`fusermount -u '${mnt}'`);
    await waitFor('the service stops after fusermount -u', ownerGone);

    const fg = await mountChild(s2, 'mnt');
    t.is(await readFile(join(mnt, 'second.txt'), 'utf8'), 'written before a crash\n');
    await s2.ok(['flush', '--wait', join(mnt, 'second.txt')]);
    await sh(`setfattr -n user.deimos.release -v 1 '${mnt}/second.txt'`);
    t.is(await sh(`getfattr --only-values -n user.deimos.state '${mnt}/second.txt'`), 'offline');
    t.is(await fg.stop(), 0, 'SIGTERM: clean exit');
    t.false(await mounted());
    t.regex(await s2.ok(['stage', 'second.txt']), /1 file staged/, 'with no mount, stage waits for the recall');
    const again = await mountChild(s2, 'mnt');
    t.is(await sh(`getfattr --only-values -n user.deimos.state '${mnt}/second.txt'`), 'online');
    t.is(await again.stop(), 0);
  } finally {
    await sh(`fusermount -uz '${mnt}'`).catch(() => undefined);
    const pid = await readFile(lock, 'utf8').then(Number, () => 0);
    if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await s2.cleanup();
  }
});
