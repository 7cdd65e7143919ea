import test from 'ava';
import { errnoOf } from '../../src/core/errors.js';
import { locateSeconds, unmountSeconds } from '../../src/library/index.js';
import { bytes, chunks, header, near, simEnv } from './simEnv.js';

test('default inventory: 4 LTO-9 drives, cartridges in slots', async (t) => {
  const { lib } = await simEnv(t, { cartridges: 'L[00000-00039]L9' });
  const s = await lib.scan();
  t.deepEqual(s.drives.map((d) => [d.name, d.model, d.loaded, d.position, d.failed]), [
    ['st0', 'LTO9', null, 0, false], ['st1', 'LTO9', null, 0, false], ['st2', 'LTO9', null, 0, false], ['st3', 'LTO9', null, 0, false],
  ]);
  t.is(s.slots.length, 40);
  t.deepEqual(s.slots[39], { address: 39, label: 'L00039L9' });
  t.is(s.cartridges.length, 40);
  t.deepEqual(lib.cartridge('L00007L9'), { label: 'L00007L9', model: 'LTO9', capacity: 256 * 2 ** 20, eod: 0, failed: false, location: { slot: 7 } });
  t.throws(() => lib.drive('st9'), { code: 'ENOENT' });
  t.throws(() => lib.cartridge('X00000L9'), { code: 'ENOENT' });
});

test('load charges exactly robot_move_s + load_s, logs it, counts it on the medium', async (t) => {
  const env = await simEnv(t);
  const { lib, catalog } = env;
  await catalog.addMedia([{ family: 'tape', name: 'L00003L9', model: 'LTO9' }]);
  const s = await env.took(() => lib.load('st1', 'L00003L9'));
  t.is(s, 27);
  t.is(lib.mountSeconds(), 27);
  t.deepEqual(lib.drive('st1'), { name: 'st1', model: 'LTO9', loaded: 'L00003L9', position: 0, failed: false });
  t.deepEqual(lib.cartridge('L00003L9').location, { drive: 'st1' });
  t.is((await lib.scan()).slots[3]!.label, null);
  const logs = await catalog.listLogs({ device: 'st1' });
  t.is(logs.length, 1);
  t.like(logs[0], { kind: 'drive', medium: 'L00003L9', cause: 'load', errno: 0 });
  const m = await catalog.getMedium('tape', 'L00003L9');
  t.is(m?.nbLoad, 1);
  t.truthy(m?.lastLoad);
  t.is(lib.open('st1'), lib.open('st1'), 'open gives the same volume object');
});

test('unload rewinds, unloads and moves back home, charging unmountSeconds', async (t) => {
  const env = await simEnv(t);
  const { lib, timing } = env;
  await lib.load('st0', 'L00002L9');
  const v = lib.open('st0');
  await lib.format('st0');
  const data = bytes(3 << 20);
  await v.writeExtent(header('a', data.length), chunks(data), () => ({}));
  await v.sync();
  const pos = lib.drive('st0').position;
  t.is(pos, data.length);
  const cap = lib.cartridge('L00002L9').capacity;
  near(t, lib.unmountSeconds('st0'), unmountSeconds(timing, cap, pos));
  const s = await env.took(() => lib.unload('st0'));
  near(t, s, locateSeconds(timing, cap, pos, 0) + timing.unloadS + timing.robotMoveS, 'unload');
  t.deepEqual(lib.drive('st0'), { name: 'st0', model: 'LTO9', loaded: null, position: 0, failed: false });
  t.deepEqual(lib.cartridge('L00002L9').location, { slot: 2 });
  t.is(lib.unmountSeconds(), timing.unloadS + timing.robotMoveS);
  t.throws(() => lib.open('st0'), { code: 'ENOMEDIUM' });
  await t.throwsAsync(lib.unload('st0'), { code: 'ENOMEDIUM' });
});

test('a cartridge is never in two drives, a drive never holds two cartridges', async (t) => {
  const { lib } = await simEnv(t);
  await lib.load('st0', 'L00000L9');
  await t.throwsAsync(lib.load('st1', 'L00000L9'), { code: 'EBUSY' });
  await t.throwsAsync(lib.load('st0', 'L00001L9'), { code: 'EBUSY' });
  // Concurrent requests for one cartridge: exactly one wins, while the other sees it taken.
  const race = await Promise.allSettled([lib.load('st2', 'L00005L9'), lib.load('st3', 'L00005L9')]);
  t.deepEqual(race.map((r) => r.status), ['fulfilled', 'rejected']);
  t.is((race[1] as PromiseRejectedResult).reason.code, 'EBUSY');
  // Nor can a drive being loaded take another cartridge.
  const both = await Promise.allSettled([lib.load('st1', 'L00006L9'), lib.load('st1', 'L00007L9')]);
  t.deepEqual(both.map((r) => r.status), ['fulfilled', 'rejected']);
  const held = (await lib.scan()).drives.map((d) => d.loaded);
  t.deepEqual(held, ['L00000L9', 'L00006L9', 'L00005L9', null]);
  t.is(new Set(held.filter(Boolean)).size, 3);
});

test('an LTO-8 drive refuses LTO-9 cartridges; an LTO-9 drive takes LTO-8', async (t) => {
  const { lib } = await simEnv(t, { drive_model: 'st0=LTO8,LTO9', cartridges: 'L[00000-00001]L9,L[00000-00001]L8' });
  t.is(lib.drive('st0').model, 'LTO8');
  t.is(lib.drive('st1').model, 'LTO9');
  t.is(lib.cartridge('L00000L8').model, 'LTO8');
  t.is(lib.cartridge('L00000L8').capacity, 128 * 2 ** 20);
  const e = await t.throwsAsync(lib.load('st0', 'L00000L9'), { code: 'EMEDIUMTYPE' });
  t.is((e as unknown as { errno: number }).errno, errnoOf('EMEDIUMTYPE'));
  t.deepEqual(lib.cartridge('L00000L9').location, { slot: 0 }, 'a refused load moves nothing');
  await lib.load('st0', 'L00000L8');
  await lib.load('st1', 'L00001L8');
  await lib.load('st2', 'L00000L9');
});

test('one robot serialises parallel loads, two robots overlap them', async (t) => {
  for (const [robots, ends] of [['1', [27, 37]], ['2', [27, 27]]] as const) {
    const env = await simEnv(t, { robots });
    const done = (drive: string, label: string) => env.lib.load(drive, label).then(() => env.clock.seconds());
    t.deepEqual(await Promise.all([done('st0', 'L00000L9'), done('st1', 'L00001L9')]), [...ends], `${robots} robot(s)`);
  }
});

test('restart keeps which cartridge is in which drive, and the head position', async (t) => {
  const env = await simEnv(t);
  await env.lib.load('st2', 'L00004L9');
  await env.lib.load('st0', 'L00001L9');
  await env.lib.unload('st0');
  await env.lib.load('st0', 'L00006L9');
  await env.lib.format('st2');
  const data = bytes(1 << 20);
  await env.lib.open('st2').writeExtent(header('x', data.length), chunks(data), () => ({}));
  await env.lib.open('st2').sync();
  const before = await env.lib.scan();
  const lib = await env.restart();
  t.deepEqual(await lib.scan(), before);
  t.is(lib.drive('st2').position, data.length);
  t.deepEqual(lib.cartridge('L00004L9').location, { drive: 'st2' });
  const back = Buffer.concat(await lib.open('st2').readExtent('uuid-x.1.source.0.0').toArray());
  t.true(back.equals(data));
  // It goes back to the slot it came from.
  await lib.unload('st2');
  t.deepEqual(lib.cartridge('L00004L9').location, { slot: 4 });
  const elements = await env.catalog.getLibraryElements();
  t.deepEqual(elements.filter((e) => e.kind === 'drive').map((e) => e.medium), ['L00006L9', null, null, null]);
});

test('injected load failures are logged, counted, and mark the drive failed at health_max', async (t) => {
  const env = await simEnv(t, { fail_load: 'st1', health_max: '3' });
  const { lib, catalog } = env;
  await catalog.addDrives([{ name: 'st1', serial: 'SIM-st1', model: 'LTO9', path: 'st1', admStatus: 'unlocked' }]);
  for (let i = 1; i <= 3; i++) {
    const s = await env.took(() => t.throwsAsync(lib.load('st1', 'L00000L9'), { code: 'EIO' }));
    t.is(s, 10 + 17 + 10, 'move, failed thread, move back');
    t.deepEqual(lib.cartridge('L00000L9').location, { slot: 0 });
    t.is(lib.drive('st1').loaded, null);
    t.is((await catalog.getDrive('st1'))?.nbErrors, i);
    t.is(lib.drive('st1').failed, i === 3);
  }
  t.is((await catalog.getDrive('st1'))?.admStatus, 'failed');
  const logs = await catalog.listLogs({ device: 'st1', errorsOnly: true });
  t.is(logs.length, 3);
  t.like(logs[0], { kind: 'drive', medium: 'L00000L9', cause: 'load', errno: errnoOf('EIO') });
  await t.throwsAsync(lib.load('st1', 'L00000L9'), { code: 'ENODEV' });
  // Other drives are unaffected, and the state is kept across a restart.
  await lib.load('st0', 'L00000L9');
  t.true((await env.restart()).drive('st1').failed);
});

test('name:count failures: a cartridge failing its first load loads next; an unregistered drive fails', async (t) => {
  const env = await simEnv(t, { fail_load: 'L00002L9:1,st[3]:2', health_max: '2' });
  const { lib, catalog } = env;
  await catalog.addMedia([{ family: 'tape', name: 'L00002L9', model: 'LTO9' }]);
  await t.throwsAsync(lib.load('st0', 'L00002L9'), { code: 'EIO' });
  t.like(await catalog.getMedium('tape', 'L00002L9'), { nbErrors: 1, admStatus: 'locked', nbLoad: 0 });
  await lib.load('st0', 'L00002L9');
  t.like(await catalog.getMedium('tape', 'L00002L9'), { nbErrors: 1, nbLoad: 1 });
  t.like((await catalog.listLogs({ medium: 'L00002L9', errorsOnly: true }))[0], { kind: 'medium', device: 'st0', cause: 'load' });
  // A drive absent from the catalog counts its errors in the sim state, which survives a restart.
  await t.throwsAsync(lib.load('st3', 'L00001L9'), { code: 'EIO' });
  t.false(lib.drive('st3').failed);
  await t.throwsAsync(lib.load('st3', 'L00001L9'), { code: 'EIO' });
  t.true(lib.drive('st3').failed);
  t.true((await env.restart()).drive('st3').failed);
  t.is(await catalog.getDrive('st3'), null);
});

test('injected read failures are logged and fail the cartridge at health_max', async (t) => {
  const env = await simEnv(t, { fail_read: 'L00001L9', health_max: '2' });
  const { lib, catalog } = env;
  await catalog.addMedia([{ family: 'tape', name: 'L00001L9', model: 'LTO9' }]);
  await lib.load('st0', 'L00001L9');
  await lib.format('st0');
  const v = lib.open('st0');
  const data = bytes(1000);
  const w = await v.writeExtent(header('r', data.length), chunks(data), () => ({}));
  for (let i = 1; i <= 2; i++) await t.throwsAsync(v.readExtent(w.address).toArray(), { code: 'EIO' });
  t.like(await catalog.getMedium('tape', 'L00001L9'), { nbErrors: 2, admStatus: 'failed', fsStatus: 'empty' });
  t.is((await catalog.listLogs({ medium: 'L00001L9', errorsOnly: true })).filter((l) => l.cause === 'read').length, 2);
  t.true(lib.cartridge('L00001L9').failed);
  await lib.unload('st0');
  await t.throwsAsync(lib.load('st0', 'L00001L9'), { code: 'EIO' });
});

test('close syncs what is unsynced and keeps cartridges loaded', async (t) => {
  const env = await simEnv(t);
  await env.lib.load('st0', 'L00000L9');
  await env.lib.format('st0');
  const data = bytes(5000);
  await env.lib.open('st0').writeExtent(header('c', data.length), chunks(data), () => ({}));
  await env.lib.close();
  await t.throwsAsync(env.lib.load('st1', 'L00001L9'), { code: 'ECANCELED' });
  const lib = await env.restart();
  t.is(lib.drive('st0').loaded, 'L00000L9');
  t.is(lib.cartridge('L00000L9').eod, 5000);
});
