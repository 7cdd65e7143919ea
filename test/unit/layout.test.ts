import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { xxhash128 } from 'hash-wasm';
import type { ExtentRow, LayoutDesc } from '../../src/catalog/interface.js';
import type { DeimosError } from '../../src/core/errors.js';
import { readObject, writeObject, xorBlocks } from '../../src/layout/index.js';
import { openPosixMedium } from '../../src/media/index.js';
import { bufferSource, get, makeEnv, put, type Env } from './layoutEnv.js';

const BLOCK = 64 * 1024;
const SIZES = [0, 1, 2, 3, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7, 1_000_003];
const raid1 = (n: number): LayoutDesc => ({ name: 'raid1', params: { repl_count: String(n) } });
const raid4: LayoutDesc = { name: 'raid4', params: {} };

async function damage(x: ExtentRow, how: 'delete' | 'corrupt'): Promise<void> {
  const file = join(x.medium, x.address);
  if (how === 'delete') return unlink(file);
  // Flip one payload byte in the middle: the file stays well-formed, only its checksum betrays it.
  const fh = await open(file, 'r+');
  const b = Buffer.alloc(1);
  const at = Math.floor(x.size / 2);
  await fh.read(b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  await fh.write(b, 0, 1, at);
  await fh.close();
}

async function withEnv(opts: Parameters<typeof makeEnv>[0], fn: (env: Env) => Promise<void>): Promise<void> {
  const env = await makeEnv(opts);
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

for (const n of [1, 2, 3]) {
  test(`raid1 repl_count=${n} round-trips objects of every size`, (t) => withEnv({ media: 3 }, async (env) => {
    for (const size of SIZES) {
      const data = randomBytes(size);
      const s = await put(env, `o${size}`, data, raid1(n));
      t.is(s.extents.length, n, `size ${size}: one extent per replica`);
      t.is(new Set(s.extents.map((x) => x.medium)).size, n, 'replicas on distinct media');
      t.deepEqual(s.layout, raid1(n));
      const { data: back, report } = await get(env, s);
      t.true(back.equals(data), `size ${size}`);
      t.deepEqual(report, { bad: [], reconstructed: false });
    }
  }));
}

for (const how of ['delete', 'corrupt'] as const) {
  test(`raid1: a ${how === 'delete' ? 'deleted' : 'corrupted'} replica is reported and another is read`, (t) => withEnv({ media: 3 }, async (env) => {
    const data = randomBytes(3 * BLOCK + 7);
    const s = await put(env, 'a', data, raid1(3));
    const victim = s.extents.find((x) => x.layoutIndex === 0)!;
    await damage(victim, how);
    const { data: back, report } = await get(env, s);
    t.true(back.equals(data));
    t.is(report.bad.length, 1);
    t.like(report.bad[0], { extentId: victim.id, medium: victim.medium, address: victim.address, reason: how === 'delete' ? 'missing' : 'corrupt' });
  }));
}

test('raid1: every replica bad is EIO naming each extent', (t) => withEnv({ media: 2 }, async (env) => {
  const s = await put(env, 'a', randomBytes(1000), raid1(2));
  await damage(s.extents[0]!, 'delete');
  await damage(s.extents[1]!, 'corrupt');
  const e = await t.throwsAsync<DeimosError>(get(env, s));
  t.is(e?.code, 'EIO');
  t.regex(e!.message, /cannot be rebuilt/);
  t.regex(e!.message, new RegExp(`extent ${s.extents[0]!.id} .* missing`));
  t.regex(e!.message, new RegExp(`extent ${s.extents[1]!.id} .* corrupt`));
}));

test('raid4 round-trips objects of every size (odd lengths: shorter second half)', (t) => withEnv({ media: 3 }, async (env) => {
  for (const size of SIZES) {
    const data = randomBytes(size);
    const s = await put(env, `o${size}`, data, raid4);
    t.deepEqual(s.extents.map((x) => x.layoutIndex), [0, 1, 2]);
    t.is(new Set(s.extents.map((x) => x.medium)).size, 3);
    const h0 = Math.ceil(size / 2);
    t.deepEqual(s.extents.map((x) => x.size), [h0, size - h0, h0]);
    const { data: back, report } = await get(env, s);
    t.true(back.equals(data), `size ${size}`);
    t.deepEqual(report, { bad: [], reconstructed: false });
  }
}));

test('raid4 parity is the XOR of the halves, zero-padded', (t) => withEnv({ media: 3 }, async (env) => {
  const data = randomBytes(2 * BLOCK + 3);
  const s = await put(env, 'p', data, raid4);
  const payload = async (x: ExtentRow) => (await readFile(join(x.medium, x.address))).subarray(0, x.size);
  const [a, b, p] = await Promise.all(s.extents.map(payload));
  t.true(p!.equals(xorBlocks(a!, b!)));
  t.true(Buffer.concat([a!, b!]).equals(data));
}));

for (const index of [0, 1, 2]) {
  for (const how of ['delete', 'corrupt'] as const) {
    test(`raid4: extent ${index} ${how === 'delete' ? 'deleted' : 'corrupted'}, the object still reads right`, (t) => withEnv({ media: 3 }, async (env) => {
      for (const size of [1, 2, 2 * BLOCK + 1, 1_000_003]) {
        const data = randomBytes(size);
        const s = await put(env, `o${size}`, data, raid4);
        const victim = s.extents.find((x) => x.layoutIndex === index)!;
        if (victim.size === 0) continue;
        await damage(victim, how);
        const { data: back, report } = await get(env, s);
        t.true(back.equals(data), `size ${size}`);
        if (index < 2) {
          t.true(report.reconstructed);
          t.is(report.bad.length, 1);
          t.like(report.bad[0], { extentId: victim.id, reason: how === 'delete' ? 'missing' : 'corrupt' });
        } else {
          // Parity is not read while both halves verify.
          t.deepEqual(report, { bad: [], reconstructed: false });
        }
      }
    }));
  }
}

for (const lost of [[0, 1], [0, 2], [1, 2]]) {
  test(`raid4: extents ${lost.join(' and ')} lost is EIO`, (t) => withEnv({ media: 3 }, async (env) => {
    const s = await put(env, 'a', randomBytes(3 * BLOCK + 1), raid4);
    for (const i of lost) await damage(s.extents.find((x) => x.layoutIndex === i)!, i === 1 ? 'corrupt' : 'delete');
    const e = await t.throwsAsync<DeimosError>(get(env, s));
    t.is(e?.code, 'EIO');
    t.regex(e!.message, /cannot be rebuilt/);
  }));
}

test('splits: an object larger than any medium is cut across media, best fit first', (t) => withEnv({ media: 3, sizes: [100_000, 150_000, 300_000] }, async (env) => {
  const data = randomBytes(400_000);
  const s = await put(env, 'big', data, raid1(1));
  t.deepEqual(s.extents.map((x) => [x.splitIndex, x.medium, x.offset, x.length]), [
    [0, env.media[2], 0, 300_000],
    [1, env.media[0], 300_000, 100_000],
  ]);
  t.true((await get(env, s)).data.equals(data));
}));

test('splits: raid1 x2 splits on distinct media per split, and reads back', (t) => withEnv({ media: 4, sizes: [200_000, 200_000, 200_000, 200_000] }, async (env) => {
  const a = randomBytes(300_000);
  const s = await put(env, 'r1', a, raid1(2));
  t.deepEqual(s.extents.map((x) => [x.splitIndex, x.offset, x.length]), [[0, 0, 200_000], [0, 0, 200_000], [1, 200_000, 100_000], [1, 200_000, 100_000]]);
  t.is(new Set(s.extents.map((x) => x.medium)).size, 4);
  t.true((await get(env, s)).data.equals(a));
  await damage(s.extents.find((x) => x.splitIndex === 1 && x.layoutIndex === 0)!, 'corrupt');
  const r = await get(env, s);
  t.true(r.data.equals(a));
  t.is(r.report.bad.length, 1);
}));

test('splits: raid4 splits when the rooms run short, and rebuilds inside a split', (t) => withEnv({ media: 6, sizes: Array(6).fill(60_000) }, async (env) => {
  const b = randomBytes(200_001);
  const s = await put(env, 'r4', b, raid4);
  t.deepEqual(s.extents.map((x) => [x.splitIndex, x.layoutIndex, x.size]), [
    [0, 0, 60_000], [0, 1, 60_000], [0, 2, 60_000], [1, 0, 40_001], [1, 1, 40_000], [1, 2, 40_001],
  ]);
  t.true((await get(env, s)).data.equals(b));
  await damage(s.extents.find((x) => x.splitIndex === 1 && x.layoutIndex === 1)!, 'corrupt');
  await damage(s.extents.find((x) => x.splitIndex === 0 && x.layoutIndex === 0)!, 'delete');
  const r = await get(env, s);
  t.true(r.data.equals(b));
  t.true(r.report.reconstructed);
  t.deepEqual(r.report.bad.map((x) => x.reason).sort(), ['corrupt', 'missing']);
}));

test('no room for the rest of an object is ENOSPC, and the pool is left clean', (t) => withEnv({ media: 2, sizes: [100_000, 100_000] }, async (env) => {
  const e = await t.throwsAsync<DeimosError>(put(env, 'huge', randomBytes(250_000), raid1(1)));
  t.is(e?.code, 'ENOSPC');
  t.regex(e!.message, /need 1 unlocked dir media/);
  const pending = await env.catalog.listExtents({ state: 'pending' });
  t.is(pending.length, 0, 'the aborted put left no pending extent');
  // Orphans of the abort no longer count: after purging them the space is usable again.
  const orphans = await env.catalog.listExtents({ state: 'orphan' });
  t.is(orphans.length, 2);
  for (const o of orphans) await (await env.pool.openForDelete('dir', o.medium))!.deleteExtent(o.address);
  await env.catalog.removeExtents(orphans.map((o) => o.id));
  const data = randomBytes(150_000);
  t.true((await get(env, await put(env, 'fits', data, raid1(1)))).data.equals(data));
}));

test('too few media is ENOSPC with a hint', (t) => withEnv({ media: 2 }, async (env) => {
  const e = await t.throwsAsync<DeimosError>(put(env, 'a', randomBytes(10), raid1(3)));
  t.is(e?.code, 'ENOSPC');
  t.regex(e!.message, /need 3 unlocked dir media with free space, found 2/);
  t.regex(e!.hint!, /deimos dir add PATH --unlock/);
  await env.catalog.updateMedium('dir', env.media[0]!, { admStatus: 'locked' });
  const e2 = await t.throwsAsync<DeimosError>(put(env, 'b', randomBytes(10), raid1(2)));
  t.regex(e2!.message, /found 1 .*locked/);
}));

test('tags restrict the media a put may use', (t) => withEnv({ media: 3, tags: [['fast'], [], ['fast']] }, async (env) => {
  const grant = await env.pool.allocWrite({ family: 'dir', tags: ['fast'], count: 2, size: 10 });
  t.deepEqual(grant.slots.map((s) => s.io.name).sort(), [env.media[0], env.media[2]].sort());
  await grant.complete({ ok: false, error: new Error('test') });
  await t.throwsAsync(env.pool.allocWrite({ family: 'dir', tags: ['fast'], count: 3, size: 10 }), { code: 'ENOSPC' } as never);
}));

test('md5 and xxh128 checksums are recorded and verified', (t) => withEnv({ media: 1, checksums: ['md5', 'xxh128'] }, async (env) => {
  const data = randomBytes(777_777);
  const s = await put(env, 'sums', data, raid1(1));
  t.deepEqual(s.extents[0]!.checksums, { md5: createHash('md5').update(data).digest('hex'), xxh128: await xxhash128(data) });
  const header = await (await openPosixMedium(env.media[0]!)).readHeader(s.extents[0]!.address);
  t.deepEqual(header.checksums, s.extents[0]!.checksums);
  t.like(header, { oid: 'sums', uuid: s.uuid, version: s.version, copyName: 'source', size: data.length, layoutIndex: 0, splitIndex: 0 });
  await damage(s.extents[0]!, 'corrupt');
  t.is((await t.throwsAsync<DeimosError>(get(env, s)))?.code, 'EIO');
}));

test('dir pool refreshes catalog space from statfs and counts I/O', (t) => withEnv({ media: 2, sizes: [0, 1_000_000] }, async (env) => {
  await put(env, 'a', randomBytes(1000), raid1(2));
  const [m0, m1] = await env.catalog.listMedia({ family: 'dir' });
  t.true(m0!.sizeTotal > 1_000_000, 'unmeasured medium gets its file system size');
  t.is(m1!.sizeTotal, 1_000_000, 'a smaller catalog capacity acts as a quota');
  const st = env.pool.status().counters;
  t.is(st.writes, 2);
  t.is(st.bytes_written, 2000);
}));

test('concurrent puts on the same media do not interfere', (t) => withEnv({ media: 3 }, async (env) => {
  const datas = Array.from({ length: 6 }, (_, i) => randomBytes(100_000 + i));
  const stored = await Promise.all(datas.map((d, i) => put(env, `c${i}`, d, i % 2 ? raid4 : raid1(2))));
  for (let i = 0; i < datas.length; i++) t.true((await get(env, stored[i]!)).data.equals(datas[i]!));
}));

test('a medium failing mid-put fails the put with its own error and leaves no extent file', (t) => withEnv({ media: 2 }, async (env) => {
  const res = await env.catalog.beginPut({ oid: 'f', overwrite: false, owner: process.pid });
  const header = { oid: 'f', uuid: res.uuid, version: res.version, copyName: 'source' };
  // Files where medium d1's fan-out directories must go: its mkdir fails, the other replica must be abandoned.
  for (let i = 0; i < 256; i++) await writeFile(join(env.media[1]!, i.toString(16).padStart(2, '0')), 'in the way');
  const e = await t.throwsAsync<DeimosError>(writeObject(env.ctx, {
    header, layout: raid1(2), family: 'dir', tags: [], grouping: null, source: bufferSource(randomBytes(300_000)),
    onPending: (x) => env.catalog.addPendingExtents(res, x),
  }));
  t.true(e?.code === 'ENOTDIR' || e?.code === 'EEXIST', `got ${e?.code}: ${e?.message}`);
  t.regex(e!.message, new RegExp(env.media[1]!));
  const left: string[] = [];
  for (const m of env.media) for await (const a of (await openPosixMedium(m)).listExtents()) left.push(a);
  t.deepEqual(left, []);
  const orphans = await env.catalog.abortPut(res);
  t.is(orphans.length, 2, 'both replicas were recorded pending before any byte was written');
  await env.pool.drain();
}));

test('a locked medium is unreadable: raid4 rebuilds around it, raid1 reads another replica', (t) => withEnv({ media: 3 }, async (env) => {
  const data = randomBytes(3 * BLOCK + 5);
  const s4 = await put(env, 'r4', data, raid4);
  const s1 = await put(env, 'r1', data, raid1(2));
  const m0 = s4.extents.find((x) => x.layoutIndex === 0)!.medium;
  await env.catalog.updateMedium('dir', m0, { admStatus: 'locked' });
  const r4 = await get(env, s4);
  t.true(r4.data.equals(data) && r4.report.reconstructed);
  t.like(r4.report.bad[0], { medium: m0, reason: 'unreadable' });
  const r1 = await get(env, s1);
  t.true(r1.data.equals(data));
}));

test('a failing sink fails the read with its own error, not as a bad extent', (t) => withEnv({ media: 3 }, async (env) => {
  const data = randomBytes(5 * BLOCK);
  for (const layout of [raid1(2), raid4]) {
    const s = await put(env, `s-${layout.name}`, data, layout);
    if (layout.name === 'raid4') await damage(s.extents[0]!, 'delete'); // the rebuild path writes to the sink too
    let writes = 0;
    const failFrom = layout.name === 'raid4' ? 2 : 1;
    const sink = { async write() { if (++writes >= failFrom) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' }); } };
    await t.throwsAsync(readObject(env.ctx, { extents: s.extents, layout: s.layout, size: s.size, sink }), { message: 'disk full' });
  }
}));

test('raid1 hands source buffers back only when every writer is done with them', (t) => withEnv({ media: 3 }, async (env) => {
  for (const chunk of [10_000, 1 << 20, 3 << 20]) {
    const data = randomBytes(7 * chunk + 13);
    const free: Buffer[] = [];
    let recycled = 0;
    // Reuses recycled buffers and scribbles over them first: a writer still reading one would store garbage.
    const source = {
      size: data.length,
      async *read(offset: number, length: number) {
        for (let p = offset; p < offset + length; p += chunk) {
          const n = Math.min(chunk, offset + length - p);
          const buf = (free.pop() ?? Buffer.alloc(chunk)).subarray(0, n);
          data.copy(buf, 0, p, p + n);
          yield buf;
        }
      },
      recycle(buf: Buffer) {
        recycled++;
        const whole = Buffer.from(buf.buffer, buf.byteOffset, chunk);
        whole.fill(0xee);
        free.push(whole);
      },
    };
    const s = await put(env, `rc${chunk}`, data, raid1(3), source);
    t.is(recycled, 8, `chunk ${chunk}: every chunk came back once`);
    for (const x of s.extents) {
      const raw = await readFile(join(x.medium, x.address));
      t.true(raw.subarray(0, x.size).equals(data), `chunk ${chunk}: replica ${x.layoutIndex} intact`);
    }
  }
}));
