import test from 'ava';
import { randomBytes } from 'node:crypto';
import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpStore, withDirMedia, type TmpStore } from '../helpers/cli.js';

interface Ext { medium: string; address: string; layout_index: number }

async function extentsOf(s: TmpStore, oid: string): Promise<Ext[]> {
  return JSON.parse(await s.ok(['extent', 'list', oid, '-o', 'medium,address,layout_index', '-f', 'json']));
}

async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  await fh.write(b, 0, 1, at);
  await fh.close();
}

test('raid1 repl_count=2: each replica on another medium; survives a lost and a corrupt replica', async (t) => {
  const s = await tmpStore();
  try {
    await withDirMedia(s, 2);
    const data = randomBytes(1_000_003);
    await writeFile(join(s.root, 'src'), data);
    await s.ok(['put', '--layout', 'raid1', '--lyt-params', 'repl_count=2', 'src', 'r1']);
    const ex = await extentsOf(s, 'r1');
    t.is(ex.length, 2);
    t.not(ex[0]!.medium, ex[1]!.medium);

    await flipByte(join(ex[0]!.medium, ex[0]!.address), 12345);
    const r = await s.run(['get', 'r1', 'out1']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /corrupt/);
    t.deepEqual(await readFile(join(s.root, 'out1')), data);

    await unlink(join(ex[1]!.medium, ex[1]!.address));
    const lost = await s.run(['get', 'r1', 'out2']);
    t.is(lost.code, 5, lost.stderr); // EIO: one corrupt + one missing
    t.regex(lost.stderr, /missing|corrupt/);
    await t.throwsAsync(readFile(join(s.root, 'out2')));
  } finally {
    await s.cleanup();
  }
});

test('raid1 needs repl_count distinct media', async (t) => {
  const s = await tmpStore();
  try {
    await withDirMedia(s, 1);
    await writeFile(join(s.root, 'src'), 'x');
    const r = await s.run(['put', '--lyt-params', 'repl_count=2', 'src', 'o']);
    t.is(r.code, 28, r.stderr);
    t.is((await s.ok(['object', 'list'])).trim(), '');
  } finally {
    await s.cleanup();
  }
});

for (const victim of [0, 1, 2]) {
  test(`raid4: get succeeds with extent ${victim} missing, and with it corrupt`, async (t) => {
    const s = await tmpStore();
    try {
      await withDirMedia(s, 3);
      const data = randomBytes(777_777);
      await writeFile(join(s.root, 'src'), data);
      await s.ok(['put', '--layout', 'raid4', 'src', 'r4']);
      const ex = await extentsOf(s, 'r4');
      t.is(ex.length, 3);
      t.is(new Set(ex.map((e) => e.medium)).size, 3);
      const v = ex.find((e) => e.layout_index === victim)!;
      const path = join(v.medium, v.address);
      await flipByte(path, 100);
      const c = await s.run(['get', 'r4', 'corrupt.out']);
      t.is(c.code, 0, c.stderr);
      // Parity is read only when a data half is bad, so only data damage can be reported.
      if (victim < 2) t.regex(c.stderr, new RegExp(`${v.address}.*corrupt`));
      t.deepEqual(await readFile(join(s.root, 'corrupt.out')), data);
      await unlink(path);
      const m = await s.run(['get', 'r4', 'missing.out']);
      t.is(m.code, 0, m.stderr);
      if (victim < 2) t.regex(m.stderr, /missing/);
      t.deepEqual(await readFile(join(s.root, 'missing.out')), data);
      // A second loss is too much: a clear EIO and no output file.
      const other = ex.find((e) => e.layout_index !== victim)!;
      await unlink(join(other.medium, other.address));
      const two = await s.run(['get', 'r4', 'two.out']);
      t.is(two.code, 5);
      t.regex(two.stderr, /cannot be rebuilt|cannot/);
      await t.throwsAsync(readFile(join(s.root, 'two.out')));
    } finally {
      await s.cleanup();
    }
  });
}

test('copies: create, list, preferred order, delete refuses the last', async (t) => {
  const s = await tmpStore({ DEIMOS_COPY_GET_PREFERRED_ORDER: 'fast' });
  try {
    const [a] = await withDirMedia(s, 1, 'slow');
    const [b] = await withDirMedia(s, 1, 'fast');
    await writeFile(join(s.root, 'src'), 'copied bytes');
    await s.ok(['put', '--tags', 'slow', 'src', 'obj']);
    await s.ok(['copy', 'create', '--tags', 'fast', 'obj', 'fast']);
    const copies = JSON.parse(await s.ok(['copy', 'list', 'obj', '-o', 'copy_name', '-f', 'json']));
    t.deepEqual(copies.map((c: { copy_name: string }) => c.copy_name).sort(), ['fast', 'source']);
    const loc = await s.ok(['locate', 'obj']);
    t.true(loc.indexOf(b!) < loc.indexOf(a!), 'preferred copy first');
    await s.ok(['get', '--copy-name', 'fast', 'obj', 'o1']);
    t.is(await readFile(join(s.root, 'o1'), 'utf8'), 'copied bytes');
    await s.ok(['copy', 'delete', 'obj', 'source']);
    const last = await s.run(['copy', 'delete', 'obj', 'fast']);
    t.is(last.code, 16, last.stderr);
    t.regex(last.stderr, /last copy/);
  } finally {
    await s.cleanup();
  }
});
