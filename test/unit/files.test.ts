import test from 'ava';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeimosError } from '../../src/core/errors.js';
import { AtomicFile, openFileSource } from '../../src/store/index.js';

async function fileOf(data: Buffer): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'deimos-files-'));
  const path = join(dir, 'src');
  await writeFile(path, data);
  return { dir, path };
}

test('a file source yields the requested range in block-sized chunks, reading one ahead', async (t) => {
  const data = randomBytes(10_000);
  const { dir, path } = await fileOf(data);
  const src = await openFileSource(path, 4096);
  const got: Buffer[] = [];
  for await (const b of src.read(100, 9000)) {
    got.push(Buffer.from(b));
    src.recycle?.(b);
  }
  t.deepEqual(got.map((b) => b.length), [4096, 4096, 808]);
  t.deepEqual(Buffer.concat(got), data.subarray(100, 9100));
  for await (const _ of src.read(0, 0)) t.fail('an empty range yields nothing');
  await src.close();
  await rm(dir, { recursive: true });
});

test('a file that shrinks during its put is EIO; a consumer stopping early leaves no read behind', async (t) => {
  const data = randomBytes(20_000);
  const { dir, path } = await fileOf(data);
  const src = await openFileSource(path, 4096);
  const it = src.read(0, data.length)[Symbol.asyncIterator]();
  t.is((await it.next()).value.length, 4096);
  await truncate(path, 6000);
  const chunks: number[] = [];
  const e = await t.throwsAsync<DeimosError>(async () => {
    for (let r = await it.next(); !r.done; r = await it.next()) chunks.push(r.value.length);
  });
  t.is(e?.code, 'EIO');
  t.regex(e!.message, /shrank/);

  // Stop after one chunk: return() waits for the read already ahead, so closing the file is safe.
  await writeFile(path, data);
  const it2 = src.read(0, data.length)[Symbol.asyncIterator]();
  await it2.next();
  await it2.return?.(undefined);
  await src.close();
  await rm(dir, { recursive: true });
});

test('an atomic file adopts a replacement made elsewhere, and still appears only on commit', async (t) => {
  const data = randomBytes(50_000);
  const { dir, path } = await fileOf(data);
  const dest = join(dir, 'out');
  const f = await AtomicFile.create(dest);
  const first = f.tmp;
  await t.throwsAsync(f.replaceWith(async (p) => { await writeFile(p, 'partial'); throw new Error('copy failed'); }));
  t.is(f.tmp, first, 'a failed replacement leaves the current file');
  await f.replaceWith((p) => copyFile(path, p));
  t.not(f.tmp, first);
  t.deepEqual((await readdir(dir)).sort(), ['.out.deimos-' + f.tmp.split('.deimos-')[1], 'src'].sort(), 'the old temporary file is gone');
  await f.write(Buffer.from('HEAD'), 0);
  await f.truncate(40_000);
  await f.commit({ fsync: false });
  t.deepEqual(await readFile(dest), Buffer.concat([Buffer.from('HEAD'), data.subarray(4, 40_000)]));
  t.deepEqual((await readdir(dir)).sort(), ['out', 'src']);
  await rm(dir, { recursive: true });
});
