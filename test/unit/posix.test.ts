import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DeimosError } from '../../src/core/errors.js';
import { EXTENT_FOOTER_LEN, EXTENT_MAGIC, LABEL_FILE, PosixMedium, formatPosixMedium, openPosixMedium, readLabel } from '../../src/media/index.js';
import type { ExtentHeader } from '../../src/media/index.js';
import { ChunkPool, hashGrowing } from '../../src/media/readBack.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'deimos-posix-'));
}

function headerFor(size: number, over: Partial<ExtentHeader> = {}): Omit<ExtentHeader, 'checksums'> {
  return {
    oid: 'proj/run1/a.bam', uuid: 'u-1234', version: 2, copyName: 'source', layout: { name: 'raid1', params: { repl_count: '2' } },
    layoutIndex: 1, splitIndex: 0, offset: 0, length: size, size, ...over,
  };
}

async function* chunks(data: Buffer, size = 7777): AsyncIterable<Buffer> {
  for (let p = 0; p < data.length; p += size) yield data.subarray(p, p + size);
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of stream) parts.push(b);
  return Buffer.concat(parts);
}

async function medium(opts: { fsync?: boolean } = {}): Promise<{ dir: string; m: PosixMedium }> {
  const dir = await tempDir();
  await formatPosixMedium(dir, 'm1');
  return { dir, m: await openPosixMedium(dir, { name: 'm1', ...opts }) };
}

test('format writes a label; same name again is a no-op, another is refused unless forced', async (t) => {
  const dir = await tempDir();
  const label = await formatPosixMedium(dir, 'disk-a');
  t.like(JSON.parse(await readFile(join(dir, LABEL_FILE), 'utf8')), { name: 'disk-a', family: 'dir', fsType: 'posix' });
  t.deepEqual(await formatPosixMedium(dir, 'disk-a'), label);
  const e = await t.throwsAsync<DeimosError>(formatPosixMedium(dir, 'disk-b'));
  t.is(e?.code, 'EEXIST');
  t.regex(e!.message, /disk-a/);
  await formatPosixMedium(dir, 'disk-b', { force: true });
  t.is((await readLabel(dir))?.name, 'disk-b');
  t.deepEqual((await readdir(dir)).filter((n) => n !== LABEL_FILE), [], 'no temp file left by the atomic write');
  await rm(dir, { recursive: true });
});

test('format and open give clear errors naming the path', async (t) => {
  const dir = await tempDir();
  const missing = join(dir, 'nope');
  const e1 = await t.throwsAsync<DeimosError>(formatPosixMedium(missing, 'x'));
  t.is(e1?.code, 'ENOENT');
  t.true(e1!.message.includes(missing));
  await writeFile(join(dir, 'file'), 'x');
  const e2 = await t.throwsAsync<DeimosError>(formatPosixMedium(join(dir, 'file'), 'x'));
  t.is(e2?.code, 'ENOTDIR');
  const e3 = await t.throwsAsync<DeimosError>(openPosixMedium(dir));
  t.is(e3?.code, 'ENOMEDIUM');
  await formatPosixMedium(dir, 'a');
  const e4 = await t.throwsAsync<DeimosError>(openPosixMedium(dir, { name: 'b' }));
  t.is(e4?.code, 'EMEDIUMTYPE');
  await rm(dir, { recursive: true });
});

test('an extent round-trips: payload, then a trailer with the whole header, then the footer', async (t) => {
  const { dir, m } = await medium({ fsync: true });
  const data = randomBytes(100_000);
  const h = headerFor(data.length);
  const address = m.addressFor(h);
  t.regex(address, /^[0-9a-f]{2}\/[0-9a-f]{2}\/u-1234\.2\.source\.1\.0$/);
  t.is(new PosixMedium(dir, 'other').addressFor(h), address, 'addresses depend on the header only');
  t.regex(m.addressFor({ ...h, attempt: '0a1b' }), /\/u-1234\.2\.source\.1\.0\.0a1b$/);
  t.not(m.addressFor({ ...h, attempt: '0a1b' }), m.addressFor({ ...h, attempt: '0a1c' }), 'a retried put never reuses an address');
  const w = await m.writeExtent(h, chunks(data), () => ({ xxh128: 'ab'.repeat(16) }));
  t.deepEqual(w, { address, position: 0, size: data.length });
  t.deepEqual(await collect(m.readExtent(address)), data);
  t.deepEqual(await collect(m.readExtent(address, { offset: 99_990 })), data.subarray(99_990), 'never reads into the trailer');
  t.deepEqual(await collect(m.readExtent(address, { offset: 10, length: 20 })), data.subarray(10, 30));

  const raw = await readFile(join(dir, address));
  t.deepEqual(raw.subarray(0, data.length), data);
  t.deepEqual(raw.subarray(raw.length - EXTENT_MAGIC.length), EXTENT_MAGIC);
  const trailerLen = raw.readUInt32LE(raw.length - EXTENT_FOOTER_LEN);
  t.is(raw.length, data.length + trailerLen + EXTENT_FOOTER_LEN);
  await rm(dir, { recursive: true });
});

test('headers are readable from the extent file alone', async (t) => {
  const { dir, m } = await medium();
  const h = headerFor(5, { copyName: 'weird/copy.name', splitIndex: 3, offset: 1 << 20 });
  const { address } = await m.writeExtent(h, chunks(Buffer.from('hello')), () => ({ md5: '5d41402abc4b2a76b9719d911017c592' }));
  // A fresh medium object, as a catalog rebuild would open it: nothing but the directory.
  const fresh = await openPosixMedium(dir);
  const listed: string[] = [];
  for await (const a of fresh.listExtents()) listed.push(a);
  t.deepEqual(listed, [address]);
  t.deepEqual(await fresh.readHeader(address), { ...h, checksums: { md5: '5d41402abc4b2a76b9719d911017c592' } });
  await rm(dir, { recursive: true });
});

test('an empty extent is a valid extent', async (t) => {
  const { dir, m } = await medium();
  const { address, size } = await m.writeExtent(headerFor(0), chunks(Buffer.alloc(0)), () => ({}));
  t.is(size, 0);
  t.is((await collect(m.readExtent(address))).length, 0);
  t.is((await m.readHeader(address)).size, 0);
  await rm(dir, { recursive: true });
});

test('a missing extent is ENOENT naming the medium and the address', async (t) => {
  const { dir, m } = await medium();
  const address = m.addressFor(headerFor(1));
  const e = await t.throwsAsync<DeimosError>(collect(m.readExtent(address)));
  t.is(e?.code, 'ENOENT');
  t.true(e!.message.includes('m1') && e!.message.includes(address));
  const e2 = await t.throwsAsync<DeimosError>(m.readHeader(address));
  t.is(e2?.code, 'ENOENT');
  await m.deleteExtent(address);
  t.pass('deleting a missing extent is not an error');
  await rm(dir, { recursive: true });
});

test('a truncated extent file is reported damaged (EBADMSG), never read as payload', async (t) => {
  const { dir, m } = await medium();
  const { address } = await m.writeExtent(headerFor(1000), chunks(randomBytes(1000)), () => ({}));
  await truncate(join(dir, address), 500);
  t.is((await t.throwsAsync<DeimosError>(m.readHeader(address)))?.code, 'EBADMSG');
  t.is((await t.throwsAsync<DeimosError>(collect(m.readExtent(address))))?.code, 'EBADMSG');
  await rm(dir, { recursive: true });
});

test('openPayload reads the payload positionally, never the trailer, and errs like readExtent', async (t) => {
  const { dir, m } = await medium();
  const data = randomBytes(300_000);
  const { address } = await m.writeExtent(headerFor(data.length), chunks(data), () => ({}));
  const r = await m.openPayload(address);
  t.is(r.size, data.length);
  const buf = Buffer.alloc(128 << 10);
  const parts: Buffer[] = [];
  for (let pos = 0, n; (n = await r.read(buf, pos)) > 0; pos += n) parts.push(Buffer.from(buf.subarray(0, n)));
  t.deepEqual(Buffer.concat(parts), data);
  t.is(await r.read(buf, data.length), 0, 'the end of the payload, though the trailer follows');
  await r.close();

  t.is((await t.throwsAsync<DeimosError>(m.openPayload(m.addressFor(headerFor(1, { splitIndex: 9 })))))?.code, 'ENOENT');
  await truncate(join(dir, address), 500);
  t.is((await t.throwsAsync<DeimosError>(m.openPayload(address)))?.code, 'EBADMSG');
  await rm(dir, { recursive: true });
});

test('copyExtent copies a file inside the kernel and checksums the bytes as stored', async (t) => {
  const { dir, m } = await medium({ fsync: true });
  const data = randomBytes(5 << 20);
  const src = join(dir, 'source.bin');
  await writeFile(src, data, { mode: 0o600 });
  const h = headerFor(data.length);
  const hashed: Buffer[] = [];
  const w = await m.copyExtent(h, src, (b) => hashed.push(Buffer.from(b)), () => ({ xxh128: 'cd'.repeat(16) }));
  t.deepEqual(w, { address: m.addressFor(h), position: 0, size: data.length });
  t.deepEqual(Buffer.concat(hashed), data, 'the stored copy is what was hashed');
  t.deepEqual(await collect(m.readExtent(w.address)), data);
  t.deepEqual((await m.readHeader(w.address)).checksums, { xxh128: 'cd'.repeat(16) });
  t.is((await stat(join(dir, w.address))).mode & 0o777, 0o644, 'an extent file, whatever the source mode');

  // A source that does not hold the announced size: EIO, nothing left on the medium.
  const e = await t.throwsAsync<DeimosError>(m.copyExtent(headerFor(data.length + 1, { splitIndex: 1 }), src, () => undefined, () => ({})));
  t.is(e?.code, 'EIO');
  const left: string[] = [];
  for await (const a of m.listExtents()) left.push(a);
  t.deepEqual(left, [w.address]);
  t.deepEqual(await m.cleanTemp(), [], 'no temporary file either');

  // Longer than announced, or missing: the put fails, nothing is left.
  t.is((await t.throwsAsync<DeimosError>(m.copyExtent(headerFor(data.length - 1, { splitIndex: 2 }), src, () => undefined, () => ({}))))?.code, 'EIO');
  t.is((await t.throwsAsync<DeimosError>(m.copyExtent(headerFor(10, { splitIndex: 3 }), join(dir, 'nope'), () => undefined, () => ({}))))?.code, 'ENOENT');
  t.deepEqual(await m.cleanTemp(), []);
  await rm(dir, { recursive: true });
});

test('hashGrowing follows a file as a slow writer fills it, and fails if it stops short', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'growing');
  const data = randomBytes(3 << 20);
  const fh = await open(file, 'w+');
  const writer = (async () => {
    for (let p = 0; p < data.length; p += 300_000) {
      await new Promise((r) => setTimeout(r, 3));
      await fh.write(data, p, Math.min(300_000, data.length - p), p);
    }
  })();
  const hashed: Buffer[] = [];
  const seen: number[] = [];
  await hashGrowing(fh, data.length, writer, (b) => hashed.push(Buffer.from(b)), { progress: (n) => seen.push(n) });
  t.deepEqual(Buffer.concat(hashed), data);
  t.true(seen.length > 1, 'hashed in several steps, behind the writer');
  t.is(seen.at(-1), data.length);

  const short = await t.throwsAsync(hashGrowing(fh, data.length + 5, Promise.resolve(), () => undefined));
  t.is((short as NodeJS.ErrnoException).code, 'EIO');
  const boom = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
  const failed = await t.throwsAsync(hashGrowing(fh, data.length + 5, Promise.reject(boom), () => undefined));
  t.is(failed, boom, "a failed writer's own error");
  await fh.close();
  await rm(dir, { recursive: true });
});

test('read-back buffers come back to their pool, for the next operation, and no more than it keeps', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'f');
  const data = randomBytes(300_000);
  await writeFile(file, data);
  const pool = new ChunkPool(64 << 10, 2);
  const taken: Buffer[] = [];
  const take = pool.take.bind(pool);
  pool.take = () => { const b = take(); taken.push(b); return b; };
  const fh = await open(file, 'r');
  for (let i = 0; i < 2; i++) {
    const hashed: Buffer[] = [];
    await hashGrowing(fh, data.length, Promise.resolve(), (b) => hashed.push(Buffer.from(b)), { pool });
    t.deepEqual(Buffer.concat(hashed), data);
  }
  // A failed read-back gives its buffer back too.
  await t.throwsAsync(hashGrowing(fh, data.length + 1, Promise.resolve(), () => undefined, { pool }), { code: 'EIO' });
  t.is(taken.length, 3);
  t.true(taken.every((b) => b === taken[0]), 'one buffer, reused');
  const extra = [pool.take(), pool.take(), pool.take()];
  for (const b of extra) pool.give(b);
  t.is([pool.take(), pool.take(), pool.take()].filter((b) => extra.includes(b)).length, 2, 'keeps two');
  await fh.close();
  await rm(dir, { recursive: true });
});

test('copyPayloadTo copies the payload only into a new file, and hashes the payload it copies', async (t) => {
  const { dir, m } = await medium();
  const data = randomBytes(3 << 20);
  const { address } = await m.writeExtent(headerFor(data.length), chunks(data, 1 << 20), () => ({}));
  const dest = join(dir, 'dest.bin');
  const hashed: Buffer[] = [];
  t.is(await m.copyPayloadTo(address, dest, (b) => hashed.push(Buffer.from(b))), data.length);
  t.deepEqual(await readFile(dest), data, 'no trailer');
  t.deepEqual(Buffer.concat(hashed), data);
  t.is((await t.throwsAsync<NodeJS.ErrnoException>(m.copyPayloadTo(address, dest, () => undefined)))?.code, 'EEXIST', 'never over an existing file');
  const other = join(dir, 'other.bin');
  t.is((await t.throwsAsync<DeimosError>(m.copyPayloadTo(m.addressFor(headerFor(1, { splitIndex: 5 })), other, () => undefined)))?.code, 'ENOENT');
  await truncate(join(dir, address), 100);
  t.is((await t.throwsAsync<DeimosError>(m.copyPayloadTo(address, other, () => undefined)))?.code, 'EBADMSG');
  await rm(dir, { recursive: true });
});

test('a write that fails or gets the wrong size leaves nothing behind', async (t) => {
  const { dir, m } = await medium();
  async function* failing(): AsyncIterable<Buffer> {
    yield Buffer.alloc(10);
    throw new Error('source broke');
  }
  await t.throwsAsync(m.writeExtent(headerFor(20), failing(), () => ({})), { message: /source broke/ });
  const short = await t.throwsAsync<DeimosError>(m.writeExtent(headerFor(20), chunks(Buffer.alloc(10)), () => ({})));
  t.is(short?.code, 'EIO');
  const long = await t.throwsAsync<DeimosError>(m.writeExtent(headerFor(5), chunks(Buffer.alloc(10)), () => ({})));
  t.is(long?.code, 'EIO');
  const fanout = dirname(join(dir, m.addressFor(headerFor(20))));
  t.deepEqual(await readdir(fanout), []);
  await rm(dir, { recursive: true });
});

test('crash safety: a temp file left by a crash is ignored by listExtents and removed by cleanTemp', async (t) => {
  const { dir, m } = await medium();
  const { address } = await m.writeExtent(headerFor(3), chunks(Buffer.from('abc')), () => ({}));
  // What a crash between open and rename leaves: a temp name in the final directory.
  const crashed = join(dir, '12', '34', '.tmp.u-9.1.source.0.0.4242.deadbeef');
  await mkdir(dirname(crashed), { recursive: true });
  await writeFile(crashed, Buffer.alloc(100));
  const listed: string[] = [];
  for await (const a of m.listExtents()) listed.push(a);
  t.deepEqual(listed, [address]);
  t.deepEqual(await m.cleanTemp({ olderThanMs: 60_000 }), [], 'recent temp files are spared');
  t.deepEqual(await m.cleanTemp(), ['12/34/.tmp.u-9.1.source.0.0.4242.deadbeef']);
  await t.throwsAsync(stat(crashed), { code: 'ENOENT' });
  t.deepEqual(await collect(m.readExtent(address)), Buffer.from('abc'));
  await rm(dir, { recursive: true });
});

test('an interrupted writer never exposes a partial extent under its final name', async (t) => {
  const { dir, m } = await medium();
  const h = headerFor(2 << 20);
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  async function* slow(): AsyncIterable<Buffer> {
    yield Buffer.alloc(1 << 20, 1);
    await gate;
    yield Buffer.alloc(1 << 20, 2);
  }
  const writing = m.writeExtent(h, slow(), () => ({}));
  await new Promise((r) => setTimeout(r, 50));
  await t.throwsAsync(stat(join(dir, m.addressFor(h))), { code: 'ENOENT' });
  release();
  await writing;
  t.is((await stat(join(dir, m.addressFor(h)))).size > 2 << 20, true);
  await rm(dir, { recursive: true });
});

test('space() reports the file system of the directory; addresses are validated', async (t) => {
  const { dir, m } = await medium();
  const s = await m.space();
  t.true(s.total > 0 && s.free > 0 && s.used >= 0 && s.free <= s.total);
  t.throws(() => m.readExtent('../../etc/passwd'), { code: 'EINVAL' } as never);
  await rm(dir, { recursive: true });
});
