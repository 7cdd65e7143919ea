import test from 'ava';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpStore, withDirMedia, type TmpStore } from '../helpers/cli.js';

type Mode = 'in-process' | 'daemon';
const MODES: Mode[] = ['in-process', 'daemon'];

async function store(mode: Mode): Promise<TmpStore> {
  const s = await tmpStore();
  if (mode === 'daemon') await s.startDaemon();
  return s;
}

for (const mode of MODES) {
  test(`${mode}: put, list, get round trip with metadata`, async (t) => {
    const s = await store(mode);
    try {
      await withDirMedia(s, 1);
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await writeFile(join(s.root, 'a.bin'), data);
      await s.ok(['put', '-m', 'user=alice,run=7', 'a.bin', 'proj/run1/a.bin']);
      t.is((await s.ok(['object', 'list'])).trim(), 'proj/run1/a.bin');
      await s.ok(['get', 'proj/run1/a.bin', 'out.bin']);
      t.deepEqual(await readFile(join(s.root, 'out.bin')), data);
      t.deepEqual((await s.ok(['getmd', 'proj/run1/a.bin'])).trim().split(',').sort(), ['run=7', 'user=alice']);
      const json = JSON.parse(await s.ok(['object', 'list', '-o', 'all', '-f', 'json']));
      t.is(json[0].size, data.length);
      t.deepEqual(json[0].user_md, { user: 'alice', run: '7' });
    } finally {
      await s.cleanup();
    }
  });

  test(`${mode}: errors carry errno exit codes and one clear line`, async (t) => {
    const s = await store(mode);
    try {
      // No medium yet.
      await writeFile(join(s.root, 'f'), 'hello');
      const nospc = await s.run(['put', 'f', 'x']);
      t.is(nospc.code, 28, nospc.stderr);
      t.regex(nospc.stderr, /^deimos: .*dir add/m);
      t.is(nospc.stderr.trim().split('\n').length, 1);
      await withDirMedia(s, 1);
      const missing = await s.run(['put', 'nope', 'x']);
      t.is(missing.code, 2);
      t.regex(missing.stderr, /no such file '.*nope'/);
      await s.ok(['put', 'f', 'x']);
      const exists = await s.run(['put', 'f', 'x']);
      t.is(exists.code, 17);
      t.regex(exists.stderr, /already exists.*--overwrite/);
      const badLayout = await s.run(['put', '--layout', 'raid9', 'f', 'y']);
      t.is(badLayout.code, 22);
      const noObj = await s.run(['get', 'zzz', 'out']);
      t.is(noObj.code, 2);
      t.notRegex(noObj.stderr, /at .*\.js/); // no stack trace for a user's mistake
      const badOid = await s.run(['put', 'f', '/abs/../x']);
      t.is(badOid.code, 22);
      // Nothing half-written: failed puts left no object.
      t.is((await s.ok(['object', 'list'])).trim(), 'x');
    } finally {
      await s.cleanup();
    }
  });

  test(`${mode}: overwrite makes versions; get --version reads old ones`, async (t) => {
    const s = await store(mode);
    try {
      await withDirMedia(s, 1);
      await writeFile(join(s.root, 'v1'), 'one');
      await writeFile(join(s.root, 'v2'), 'two!');
      await s.ok(['put', 'v1', 'obj']);
      await s.ok(['put', '--overwrite', 'v2', 'obj']);
      const all = JSON.parse(await s.ok(['object', 'list', '--deprecated', '-o', 'oid,version,alive', '-f', 'json']));
      t.deepEqual(all.map((r: { version: number; alive: boolean }) => [r.version, r.alive]).sort(), [[1, false], [2, true]]);
      const depr = JSON.parse(await s.ok(['object', 'list', '--deprecated-only', '-o', 'version', '-f', 'json']));
      t.deepEqual(depr, [{ version: 1 }]);
      await s.ok(['get', '--version', '1', 'obj', 'o1']);
      await s.ok(['get', 'obj', 'o2']);
      t.is(await readFile(join(s.root, 'o1'), 'utf8'), 'one');
      t.is(await readFile(join(s.root, 'o2'), 'utf8'), 'two!');
    } finally {
      await s.cleanup();
    }
  });

  test(`${mode}: delete, undelete, delete --hard, rename, locate`, async (t) => {
    const s = await store(mode);
    try {
      const [d] = await withDirMedia(s, 1);
      await writeFile(join(s.root, 'f'), 'data');
      await s.ok(['put', 'f', 'a/b']);
      await s.ok(['delete', 'a/b']);
      t.is((await s.ok(['object', 'list'])).trim(), '');
      t.is((await s.run(['get', 'a/b', 'o'])).code, 2);
      await s.ok(['undelete', 'a/b']);
      await s.ok(['rename', 'a/b', 'a/c']);
      t.is((await s.ok(['object', 'list'])).trim(), 'a/c');
      t.is((await s.ok(['locate', 'a/c'])).includes(d!), true);
      const extents = JSON.parse(await s.ok(['extent', 'list', '-o', 'all', '-f', 'json']));
      t.is(extents.length, 1);
      t.is(extents[0].medium, d);
      t.truthy(extents[0].xxh128);
      await s.ok(['delete', '--hard', 'a/c']);
      t.is((await s.ok(['object', 'list', '--deprecated'])).trim(), '');
      t.deepEqual(JSON.parse(await s.ok(['extent', 'list', '-f', 'json', '--deprecated'])), []);
      // The medium is empty again and can be deleted.
      await s.ok(['dir', 'lock', d!]);
      await s.ok(['dir', 'delete', d!]);
      t.is((await s.ok(['dir', 'list'])).trim(), '');
    } finally {
      await s.cleanup();
    }
  });

  test(`${mode}: a get of a corrupt extent fails with EIO and leaves no destination, even once the kernel copy filled it`, async (t) => {
    const s = await store(mode);
    try {
      await withDirMedia(s, 1);
      // Several 4 MiB hash chunks; the byte flipped lies in the last one, so the
      // copy is complete before the checksum can tell.
      const data = randomBytes(9 * 1024 * 1024 + 5);
      await writeFile(join(s.root, 'src'), data);
      await s.ok(['put', 'src', 'c']);
      const [x] = JSON.parse(await s.ok(['extent', 'list', 'c', '-o', 'medium,address', '-f', 'json'])) as Array<{ medium: string; address: string }>;
      const fh = await open(join(x!.medium, x!.address), 'r+');
      await fh.write(Buffer.from([data[data.length - 3]! ^ 0xff]), 0, 1, data.length - 3);
      await fh.close();
      const r = await s.run(['get', 'c', 'out']);
      t.is(r.code, 5, r.stderr);
      t.regex(r.stderr, /cannot be rebuilt.*corrupt/);
      t.deepEqual((await readdir(s.root)).filter((n) => n.startsWith('out') || n.startsWith('.out')), []);
    } finally {
      await s.cleanup();
    }
  });
}

test('stdin put and --file lists', async (t) => {
  const s = await tmpStore();
  try {
    await withDirMedia(s, 1);
    await s.ok(['put', '-', 'from/stdin'], { input: 'piped bytes' });
    await s.ok(['get', 'from/stdin', 'p.out']);
    t.is(await readFile(join(s.root, 'p.out'), 'utf8'), 'piped bytes');
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) {
      await writeFile(join(s.root, `f${i}`), `content ${i}`);
      lines.push(`f${i} batch/f${i} idx=${i}`);
    }
    await writeFile(join(s.root, 'list'), lines.join('\n') + '\n');
    await s.ok(['put', '--file', 'list']);
    t.is((await s.ok(['object', 'list', '--pattern', '^batch/'])).trim().split('\n').length, 5);
    t.is((await s.ok(['object', 'list', '-m', 'idx=3'])).trim(), 'batch/f3');
    await writeFile(join(s.root, 'glist'), [0, 1, 2, 3, 4].map((i) => `batch/f${i} g${i}`).join('\n'));
    await s.ok(['get', '--file', 'glist']);
    for (let i = 0; i < 5; i++) t.is(await readFile(join(s.root, `g${i}`), 'utf8'), `content ${i}`);
  } finally {
    await s.cleanup();
  }
});

test('list output formats', async (t) => {
  const s = await tmpStore();
  try {
    const [d] = await withDirMedia(s, 1, 'fast,blue');
    const csv = await s.ok(['dir', 'list', '-o', 'name,adm_status,tags', '-f', 'csv']);
    t.is(csv, `name,adm_status,tags\n${d},unlocked,"fast,blue"\n`);
    const yaml = await s.ok(['dir', 'list', '-o', 'name,fs_status', '-f', 'yaml']);
    t.is(yaml, `- name: ${JSON.stringify(d)}\n  fs_status: "empty"\n`);
    const xml = await s.ok(['dir', 'list', '-o', 'name', '-f', 'xml']);
    t.regex(xml, new RegExp(`<item><name>${d}</name></item>`));
    const bad = await s.run(['dir', 'list', '-o', 'nosuch']);
    t.is(bad.code, 22);
    t.regex(bad.stderr, /unknown field 'nosuch'/);
  } finally {
    await s.cleanup();
  }
});
