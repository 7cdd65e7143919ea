import test from 'ava';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { locateSeconds, seedCartridge, SimLibrary, syncSeconds, transferSeconds } from '../../src/library/index.js';
import { bytes, chunks, header, near, simEnv, type SimEnv } from './simEnv.js';

const MiB = 1 << 20;

/** Loads and formats L00000L9 in st0. */
async function mounted(env: SimEnv) {
  await env.lib.load('st0', 'L00000L9');
  await env.lib.format('st0');
  return env.lib.open('st0');
}

test('bytes round-trip through a TapeVolume, each step charged per the timing model', async (t) => {
  const env = await simEnv(t);
  const { lib, timing } = env;
  await lib.load('st0', 'L00000L9');
  near(t, await env.took(() => lib.format('st0')), syncSeconds(timing), 'format');
  const v = lib.open('st0');
  const cap = v.capacity;
  const data = bytes(10 * MiB + 123);
  const h = header('obj', data.length);
  t.is(v.addressFor(h), 'uuid-obj.1.source.0.0');
  let w: Awaited<ReturnType<typeof v.writeExtent>> | undefined;
  // The head is at EOD: no locate, only streaming.
  const sw = await env.took(async () => { w = await v.writeExtent(h, chunks(data, 65536), () => ({ xxh128: 'abc' })); });
  near(t, sw, transferSeconds(timing, data.length), 'write');
  t.deepEqual(w, { address: 'uuid-obj.1.source.0.0', position: 0, size: data.length });
  t.is(lib.drive('st0').position, data.length);
  near(t, await env.took(() => v.sync()), syncSeconds(timing), 'sync');
  t.is(await env.took(() => v.sync()), 0, 'nothing to sync');
  // Reading locates back to the extent, then streams it; the head stays at its end.
  let back = Buffer.alloc(0);
  const sr = await env.took(async () => { back = Buffer.concat(await v.readExtent(w!.address).toArray()); });
  t.true(back.equals(data));
  near(t, sr, locateSeconds(timing, cap, data.length, 0) + transferSeconds(timing, data.length), 'read');
  t.is(lib.drive('st0').position, data.length);
  t.deepEqual(await v.readHeader(w!.address), { ...h, checksums: { xxh128: 'abc' } });
  t.deepEqual(await v.space(), { total: cap, used: data.length, free: cap - data.length });
});

test('writes append at EOD, locating there from wherever the head is', async (t) => {
  const env = await simEnv(t);
  const { lib, timing } = env;
  const v = await mounted(env);
  const cap = v.capacity;
  const a = bytes(3 * MiB, 1);
  const b = bytes(5 * MiB, 2);
  const c = bytes(2 * MiB, 3);
  const wa = await v.writeExtent(header('a', a.length), chunks(a), () => ({}));
  const wb = await v.writeExtent(header('b', b.length), chunks(b), () => ({}));
  t.is(wa.position, 0);
  t.is(wb.position, a.length);
  await v.readExtent(wa.address).toArray();
  t.is(lib.drive('st0').position, a.length);
  const s = await env.took(() => v.writeExtent(header('c', c.length), chunks(c), () => ({})));
  near(t, s, locateSeconds(timing, cap, a.length, a.length + b.length) + transferSeconds(timing, c.length), 'write after a read');
  t.is(lib.cartridge('L00000L9').eod, a.length + b.length + c.length);
  const addresses: string[] = [];
  for await (const x of v.listExtents()) addresses.push(x);
  t.deepEqual(addresses, [wa.address, wb.address, 'uuid-c.1.source.0.0']);
  t.true(Buffer.concat(await v.readExtent(wb.address).toArray()).equals(b));
});

test('a ranged read locates to the range and leaves the head after it', async (t) => {
  const env = await simEnv(t);
  const { lib, timing } = env;
  const v = await mounted(env);
  const a = bytes(1 * MiB, 4);
  const b = bytes(6 * MiB, 5);
  await v.writeExtent(header('a', a.length), chunks(a), () => ({}));
  const wb = await v.writeExtent(header('b', b.length), chunks(b), () => ({}));
  const from = wb.position + 1000;
  const pos = lib.drive('st0').position;
  let got = Buffer.alloc(0);
  const s = await env.took(async () => { got = Buffer.concat(await v.readExtent(wb.address, { offset: 1000, length: 5 * MiB }).toArray()); });
  t.true(got.equals(b.subarray(1000, 1000 + 5 * MiB)));
  near(t, s, locateSeconds(timing, v.capacity, pos, from) + transferSeconds(timing, 5 * MiB), 'ranged read');
  t.is(lib.drive('st0').position, from + 5 * MiB);
  t.is((await v.readExtent(wb.address, { offset: b.length - 10 }).toArray()).reduce((n, x) => n + x.length, 0), 10);
  await t.throwsAsync(v.readExtent(wb.address, { offset: b.length + 1 }).toArray(), { code: 'EINVAL' });
  await t.throwsAsync(v.readExtent('no.such.extent').toArray(), { code: 'ENOENT' });
});

test('reading or writing needs the cartridge loaded', async (t) => {
  const env = await simEnv(t);
  const v = await mounted(env);
  const data = bytes(1000);
  const w = await v.writeExtent(header('a', data.length), chunks(data), () => ({}));
  await env.lib.unload('st0');
  await t.throwsAsync(v.readExtent(w.address).toArray(), { code: 'ENOMEDIUM' });
  await t.throwsAsync(v.writeExtent(header('b', 1), chunks(Buffer.alloc(1)), () => ({})), { code: 'ENOMEDIUM' });
  await t.throwsAsync(v.readHeader(w.address), { code: 'ENOMEDIUM' });
  await t.throwsAsync(v.sync(), { code: 'ENOMEDIUM' });
  t.throws(() => env.lib.open('st0'), { code: 'ENOMEDIUM' });
  // Loaded again, elsewhere: the same volume, with the data the unload synced.
  await env.lib.load('st3', 'L00000L9');
  t.is(env.lib.open('st3'), v);
  t.true(Buffer.concat(await v.readExtent(w.address).toArray()).equals(data));
});

test('a write that does not fit fails with ENOSPC and leaves EOD where it was', async (t) => {
  const env = await simEnv(t, { capacity_LTO9: '4M' });
  const v = await mounted(env);
  const a = bytes(3 * MiB);
  await v.writeExtent(header('a', a.length), chunks(a), () => ({}));
  const s = await env.took(() => t.throwsAsync(v.writeExtent(header('b', 2 * MiB), chunks(bytes(2 * MiB)), () => ({})), { code: 'ENOSPC' }));
  t.is(s, 0, 'refused before moving the tape');
  t.is(v.eod, 3 * MiB);
  t.deepEqual(await v.space(), { total: 4 * MiB, used: 3 * MiB, free: MiB });
  // A stream longer than its header announced also stops at the end of tape.
  await t.throwsAsync(v.writeExtent(header('c', 10), chunks(bytes(2 * MiB)), () => ({})), { code: 'ENOSPC' });
  const last = await v.writeExtent(header('d', 0), chunks(Buffer.alloc(0)), () => ({}));
  t.is(last.size, 0);
});

test('a blank cartridge must be formatted; format refuses a cartridge holding extents', async (t) => {
  const env = await simEnv(t);
  await env.lib.load('st0', 'L00000L9');
  const v = env.lib.open('st0');
  t.true(v.blank);
  await t.throwsAsync(v.writeExtent(header('a', 1), chunks(Buffer.alloc(1)), () => ({})), { code: 'EINVAL' });
  await env.catalog.addMedia([{ family: 'tape', name: 'L00000L9', model: 'LTO9', fsStatus: 'blank' }]);
  await env.lib.format('st0');
  t.false(v.blank);
  t.like(await env.catalog.getMedium('tape', 'L00000L9'), { fsStatus: 'empty', fsType: 'ltfs', sizeTotal: v.capacity, sizeFree: v.capacity });
  const w = await v.writeExtent(header('a', 100), chunks(bytes(100)), () => ({}));
  await t.throwsAsync(env.lib.format('st0'), { code: 'ENOTEMPTY' });
  // Once its extents are gone (repack), a format gives the space back.
  await v.deleteExtent(w.address);
  await env.lib.format('st0');
  t.is(v.eod, 0);
});

test('unsynced data is lost after a crash; synced data is kept', async (t) => {
  const env = await simEnv(t);
  const v = await mounted(env);
  const a = bytes(2 * MiB, 7);
  const b = bytes(1 * MiB, 8);
  const wa = await v.writeExtent(header('a', a.length), chunks(a), () => ({ md5: 'ma' }));
  await v.sync();
  const wb = await v.writeExtent(header('b', b.length), chunks(b), () => ({}));
  t.is(v.eod, a.length + b.length);
  const dir = join(env.root, 'library', 'cartridges', 'L00000L9');
  t.deepEqual((await readdir(dir)).sort(), ['data', 'index.json'], 'one data file, whatever the number of extents');
  t.is((await stat(join(dir, 'data'))).size, a.length + b.length);
  // Crash: a new library on the same catalog and directory, the old one never closed.
  const lib = await env.restart();
  const v2 = lib.open('st0');
  t.not(v2, v);
  t.is(v2.eod, a.length);
  t.deepEqual(await v2.readHeader(wa.address), { ...header('a', a.length), checksums: { md5: 'ma' } });
  t.true(Buffer.concat(await v2.readExtent(wa.address).toArray()).equals(a));
  await t.throwsAsync(v2.readHeader(wb.address), { code: 'ENOENT' });
  t.deepEqual((await readdir(dir)).sort(), ['data', 'index.json']);
  t.is((await stat(join(dir, 'data'))).size, a.length, 'the unindexed bytes are cut off');
  // The next write reuses the lost space.
  t.is((await v2.writeExtent(header('c', 10), chunks(bytes(10)), () => ({}))).position, a.length);
});

test('delete drops the extent from the index but keeps its bytes counted', async (t) => {
  const env = await simEnv(t);
  const v = await mounted(env);
  const a = bytes(MiB);
  const w = await v.writeExtent(header('a', a.length), chunks(a), () => ({}));
  await v.sync();
  await v.deleteExtent(w.address);
  await t.throwsAsync(v.deleteExtent(w.address), { code: 'ENOENT' });
  await v.sync();
  t.deepEqual(await v.space(), { total: v.capacity, used: MiB, free: v.capacity - MiB });
  const v2 = (await env.restart()).open('st0');
  t.is(v2.eod, MiB);
  const left: string[] = [];
  for await (const x of v2.listExtents()) left.push(x);
  t.deepEqual(left, []);
});

test('unload writes the index of unsynced data, charging the sync', async (t) => {
  const env = await simEnv(t);
  const { lib, timing } = env;
  const v = await mounted(env);
  const a = bytes(MiB);
  const w = await v.writeExtent(header('a', a.length), chunks(a), () => ({}));
  const s = await env.took(() => lib.unload('st0'));
  near(t, s, syncSeconds(timing) + lib.locateSeconds('L00000L9', a.length, 0) + timing.unloadS + timing.robotMoveS, 'unload');
  const lib2 = await env.restart();
  await lib2.load('st1', 'L00000L9');
  t.true(Buffer.concat(await lib2.open('st1').readExtent(w.address).toArray()).equals(a));
});

test('operations on one drive run one at a time, in order', async (t) => {
  const env = await simEnv(t);
  const { timing } = env;
  const v = await mounted(env);
  const a = bytes(4 * MiB, 1);
  const b = bytes(4 * MiB, 2);
  const t0 = env.clock.seconds();
  const [wa, wb] = await Promise.all([
    v.writeExtent(header('a', a.length), chunks(a), () => ({})),
    v.writeExtent(header('b', b.length), chunks(b), () => ({})),
  ]);
  t.is(wa.position, 0);
  t.is(wb.position, a.length);
  near(t, env.clock.seconds() - t0, transferSeconds(timing, a.length + b.length), 'two writes');
  // A read and a write issued together: the read locates and streams, then the write goes back to EOD.
  const [ra] = await Promise.all([v.readExtent(wa.address).toArray(), v.writeExtent(header('c', 1), chunks(bytes(1)), () => ({}))]);
  t.true(Buffer.concat(ra).equals(a));
});

test('seedCartridge lays out a synced volume the library opens as is', async (t) => {
  const env = await simEnv(t);
  const dir = join(env.root, 'seeded');
  const a = bytes(1000, 9);
  const ha = { ...header('a', a.length), checksums: { md5: 'x' } };
  const hb = { ...header('b', 5 * MiB), checksums: {} };
  const addrs = await seedCartridge(dir, 'L00001L9', [{ position: 50 * MiB, header: hb }, { position: 0, header: ha, data: a }]);
  t.deepEqual(addrs, ['uuid-b.1.source.0.0', 'uuid-a.1.source.0.0']);
  await t.throwsAsync(seedCartridge(dir, 'L00002L9', [{ position: 0, header: hb }, { position: MiB, header: ha }]), { code: 'EINVAL' });
  const lib = await SimLibrary.open({ config: env.config, catalog: env.catalog, clock: env.clock, dir });
  t.is(lib.cartridge('L00001L9').eod, 55 * MiB);
  await lib.load('st0', 'L00001L9');
  const v = lib.open('st0');
  t.true(Buffer.concat(await v.readExtent(addrs[1]!).toArray()).equals(a));
  const s = await env.took(async () => {
    const b = Buffer.concat(await v.readExtent(addrs[0]!).toArray());
    t.true(b.equals(Buffer.alloc(5 * MiB)));
  });
  near(t, s, lib.locateSeconds('L00001L9', a.length, 50 * MiB) + transferSeconds(env.timing, 5 * MiB), 'read of the far extent');
  t.deepEqual(await v.readHeader(addrs[1]!), ha);
});
