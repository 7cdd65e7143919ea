/** The cache directory's spare files: a new object's file is one made ahead, under its name already; the spares are refilled and removed at stop. */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CacheDir } from '../../src/cache/cacheDir.js';

const names = async (dir: string) => (await readdir(dir)).sort();

async function until(what: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

test('a new object takes a spare as it is (same inode, no rename), the pool refills, and stop removes what is left', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deimos-spares-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = new CacheDir(root);
  await dir.init();
  // Without spares: a file made at once.
  const plain = await dir.createNew();
  await plain.fh.close();
  t.is(plain.file, CacheDir.fileName(plain.uuid, 1));
  t.deepEqual(await names(root), [plain.file]);

  dir.keepSpares(4);
  await until(async () => (await names(root)).length === 5);
  const before = await names(root);
  t.true(before.every((n) => CacheDir.isCacheName(n) && n.endsWith('.1')), 'spares are named as first versions');
  const inodes = new Map(await Promise.all(before.map(async (n) => [(await stat(join(root, n))).ino, n] as const)));
  const made = await dir.createNew();
  t.is(made.file, CacheDir.fileName(made.uuid, 1));
  t.is(inodes.get((await stat(join(root, made.file))).ino), made.file, 'the spare itself, under the name it was made with');
  t.deepEqual(await names(root), before, 'nothing renamed, nothing made');
  t.is((await stat(join(root, made.file))).mode & 0o777, 0o600);
  await made.fh.write(Buffer.from('new'), 0, 3, 0);
  await made.fh.close();
  t.is(await readFile(join(root, made.file), 'utf8'), 'new');

  // Taken below half: refilled.
  const more = [await dir.createNew(), await dir.createNew()];
  for (const m of more) await m.fh.close();
  t.not(more[0]!.uuid, more[1]!.uuid);
  await until(async () => (await names(root)).length === 4 + 4);

  await dir.dropSpares();
  t.deepEqual(await names(root), [plain.file, made.file, ...more.map((m) => m.file)].sort());
  // After stop, new files are made at once again.
  const after = await dir.createNew();
  await after.fh.close();
  t.deepEqual(await names(root), [plain.file, made.file, ...more.map((m) => m.file), after.file].sort());
});
