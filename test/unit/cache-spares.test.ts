/** The cache directory's spare files: creates take a file made ahead, renamed; the spares are refilled and removed at stop. */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CacheDir } from '../../src/cache/cacheDir.js';

const spares = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith('.spare-')).sort();

async function until(what: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

test('a create takes a spare under its name (replacing a leftover), the pool refills, and stop removes what is left', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deimos-spares-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = new CacheDir(root);
  await dir.init();
  // Without spares: a plain create.
  const plain = await dir.createOpen('a.1');
  await plain.close();
  t.deepEqual(await spares(root), []);

  dir.keepSpares(4);
  await until(async () => (await spares(root)).length === 4);
  const before = await spares(root);
  await writeFile(join(root, 'b.1'), 'leftover bytes');
  const fh = await dir.createOpen('b.1');
  const after = await spares(root);
  t.is(after.length, 3, 'one spare became b.1');
  t.true(after.every((n) => before.includes(n)));
  t.is((await stat(join(root, 'b.1'))).size, 0, 'the leftover of that name is replaced by an empty file');
  t.is((await stat(join(root, 'b.1'))).mode & 0o777, 0o600);
  await fh.write(Buffer.from('new'), 0, 3, 0);
  await fh.close();
  t.is(await readFile(join(root, 'b.1'), 'utf8'), 'new', 'the handle writes the file under its new name');

  // Taken below half: refilled.
  await (await dir.createOpen('c.1')).close();
  await (await dir.createOpen('d.1')).close();
  await until(async () => (await spares(root)).length === 4);

  await dir.dropSpares();
  t.deepEqual(await spares(root), []);
  t.deepEqual((await readdir(root)).sort(), ['a.1', 'b.1', 'c.1', 'd.1']);
  // After stop, creates make their own files again.
  await dir.createEmpty('e.1');
  t.deepEqual(await spares(root), []);
  t.is((await stat(join(root, 'e.1'))).size, 0);
});

test('spares left by a crash are leftovers: scan lists them for removal', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deimos-spares-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = new CacheDir(root);
  await dir.init();
  dir.keepSpares(2);
  await until(async () => (await spares(root)).length === 2);
  // (no stop: as if the service was killed)
  const { files, leftovers } = await new CacheDir(root).scan();
  t.deepEqual(leftovers.sort(), await spares(root));
  t.is(files.size, 0);
  await dir.dropSpares();
});
