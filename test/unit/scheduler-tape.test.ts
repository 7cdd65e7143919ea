/** The tape scheduler's writes, formats, faults, timers and status, on the sim with a virtual clock. */
import anyTest, { type ExecutionContext } from 'ava';
import { DeimosError } from '../../src/core/errors.js';
import type { ReadCandidate } from '../../src/scheduler/interface.js';
import type { TapeScheduler } from '../../src/scheduler/tape/index.js';
import { header, one, readOne, schedEnv, type SchedEnv } from './schedulerEnv.js';

// Serial: the virtual clocks of concurrent tests would wait on each other's file I/O.
const test = anyTest.serial;

const KB = 1 << 10;
const MB = 1 << 20;
const SMALL = { 'library.capacity_LTO9': '28M' };

async function write(s: TapeScheduler, oid: string, size: number, exclude: string[] = []): Promise<{ medium: string; room: number; written: number; synced: Promise<void> }> {
  const g = await s.allocWrite({ family: 'tape', tags: [], count: 1, size, exclude, grouping: null });
  const slot = g.slots[0]!;
  const n = Math.min(size, slot.room);
  const w = await slot.io.writeExtent(header(oid, n), one(Buffer.alloc(n, 1)), () => ({}));
  return { medium: slot.io.name, room: slot.room, written: w.size, synced: g.complete({ ok: true, bytes: [w.size] }) };
}

async function formatted(env: SchedEnv, labels: string[]): Promise<void> {
  for (const l of labels) await env.fill(l, []);
}

test('format: a blank cartridge is formatted in a drive, then takes the writes while mounted', async (t) => {
  const env = await schedEnv(t, SMALL);
  const s = env.scheduler('cost');
  await t.throwsAsync(s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB }), { code: 'ENOSPC', message: /blank \(format it first\)/ });
  await s.format('L00005L9');
  t.is((await env.catalog.getMedium('tape', 'L00005L9'))?.fsStatus, 'empty');
  t.is(s.status().extra.formats, 1);
  const w = await write(s, 'a', 64 * KB);
  await w.synced;
  t.is(w.medium, 'L00005L9');
  t.is(s.status().counters.mounts, 1, 'written where it was formatted');
  t.is((await env.catalog.getMedium('tape', 'L00005L9'))?.fsStatus, 'used');
  await t.throwsAsync(s.format('NOPE'), { code: 'ENOENT' });
});

test('writers on one cartridge are serialized: the next grant comes when the previous writer completes', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=2,dir=1' });
  await formatted(env, ['L00000L9']);
  const s = env.scheduler('cost');
  const g1 = await s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB });
  let second = false;
  const p2 = s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB }).then((g) => { second = true; return g; });
  await env.clock.sleep(60_000);
  t.false(second, 'no second writer on a cartridge being written');
  const w1 = await g1.slots[0]!.io.writeExtent(header('a', KB), one(Buffer.alloc(KB)), () => ({}));
  const done1 = g1.complete({ ok: true, bytes: [w1.size] });
  const g2 = await p2;
  t.is(g2.slots[0]!.io.name, g1.slots[0]!.io.name, 'the same cartridge, appended');
  const w2 = await g2.slots[0]!.io.writeExtent(header('b', KB), one(Buffer.alloc(KB)), () => ({}));
  t.is(w2.position, w1.position + w1.size);
  await Promise.all([done1, g2.complete({ ok: true, bytes: [w2.size] })]);
  t.is(s.status().counters.syncs, 1, 'one sync for both (sync_nb_req 2)');
  t.is(s.status().counters.mounts, 1);
});

test('the writes of one batch count as one request toward sync_nb_req; writes outside a batch each count', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=2,dir=1', 'lrs.sync_time_ms': 'tape=10000,dir=0' });
  await formatted(env, ['L00000L9']);
  const s = env.scheduler('cost');
  const run = async (batches: Array<string | undefined>) => {
    const syncs0 = s.status().counters.syncs;
    const t0 = env.clock.now();
    const acks: Array<Promise<number>> = [];
    for (const [i, batch] of batches.entries()) {
      const g = await s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB, batch });
      const w = await g.slots[0]!.io.writeExtent(header(`${batch}-${i}-${t0}`, KB), one(Buffer.alloc(KB)), () => ({}));
      acks.push(g.complete({ ok: true, bytes: [w.size] }).then(() => env.clock.now() - t0));
    }
    const at = await Promise.all(acks);
    return { syncs: s.status().counters.syncs - syncs0, lastAckMs: Math.max(...at) };
  };
  const alone = await run([undefined, undefined, undefined, undefined, undefined, undefined]);
  t.is(alone.syncs, 3, 'six writes, sync_nb_req 2: three syncs');
  const grouped = await run(['g1', 'g1', 'g1', 'g1', 'g1', 'g1']);
  t.is(grouped.syncs, 1, 'one batch of six: one sync');
  t.true(grouped.lastAckMs >= 10_000, 'a lone batch is synced by sync_time_ms');
  const two = await run(['g2', 'g2', 'g2', 'g3']);
  t.is(two.syncs, 1, 'a second batch makes the second request');
  t.true(two.lastAckMs < 10_000, 'synced by the count, before sync_time_ms');
});

test('puts of one batch go to the cartridge the first got; puts without one spread over the mounted cartridges', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=8,dir=1' });
  await formatted(env, ['L00000L9', 'L00001L9']);
  const s = env.scheduler('cost');
  const run = async (batch: string | undefined) => {
    const grants = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const g = await s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB, batch });
      const w = await g.slots[0]!.io.writeExtent(header(`${batch}-${i}`, KB), one(Buffer.alloc(KB)), () => ({}));
      return { medium: g.slots[0]!.io.name, done: g.complete({ ok: true, bytes: [w.size] }) };
    }));
    await Promise.all(grants.map((g) => g.done));
    return new Set(grants.map((g) => g.medium));
  };
  await s.switchByHand('st0', 'L00000L9');
  await s.switchByHand('st1', 'L00001L9');
  t.is((await run(undefined)).size, 2, 'no batch: both mounted cartridges take writers');
  t.is((await run('flush-1')).size, 1, 'one batch, one cartridge');
  t.is(s.status().counters.mounts, 2);
});

test('a put larger than any room splits; a cartridge written to its end is marked full; ENOSPC marks it full', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=1,dir=1' });
  await env.fill('L00000L9', [26 * MB]);
  await env.fill('L00001L9', [25 * MB]);
  const s = env.scheduler('cost');
  const first = await write(s, 'big', 4 * MB);
  t.is(first.medium, 'L00001L9', 'nothing holds it whole: the most room first');
  t.is(first.written, first.room);
  await first.synced;
  t.is((await env.catalog.getMedium('tape', 'L00001L9'))?.fsStatus, 'full');
  const rest = await write(s, 'big2', 4 * MB - first.written, ['L00001L9']);
  t.is(rest.medium, 'L00000L9');
  await rest.synced;
  const g = await s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB });
  t.is(g.slots[0]!.io.name, 'L00000L9');
  await g.complete({ ok: false, error: new DeimosError('ENOSPC', 'end of tape') });
  t.is((await env.catalog.getMedium('tape', 'L00000L9'))?.fsStatus, 'full');
  await t.throwsAsync(s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB }), { code: 'ENOSPC' });
});

test('fair share: at most fair_share_max drives write at once', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'io_sched.fair_share_max': 'LTO9=write:1', 'lrs.sync_nb_req': 'tape=1,dir=1' });
  await env.fill('L00000L9', [23 * MB]);
  await env.fill('L00001L9', [23 * MB]);
  const s = env.scheduler('cost');
  // Each cartridge has room for one of these only: two cartridges, two drives, one write share.
  const a = await s.allocWrite({ family: 'tape', tags: [], count: 1, size: 4 * MB });
  let bGranted = -1;
  const b = s.allocWrite({ family: 'tape', tags: [], count: 1, size: 4 * MB }).then((g) => { bGranted = env.clock.now(); return g; });
  await env.clock.sleep(120_000);
  t.is(bGranted, -1, 'the second write waits for the write share');
  const w = await a.slots[0]!.io.writeExtent(header('a', 4 * MB), one(Buffer.alloc(4 * MB)), () => ({}));
  await a.complete({ ok: true, bytes: [w.size] });
  const gb = await b;
  t.not(gb.slots[0]!.io.name, a.slots[0]!.io.name);
  await gb.complete({ ok: true, bytes: [0] });
  t.true(bGranted > 120_000);
});

test('idle_unload_s: an idle cartridge goes back to its slot; without it, it stays mounted', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.idle_unload_s': '300' });
  const [a] = await env.fill('L00000L9', [64 * KB]);
  const s = env.scheduler('grouped-sorted');
  await readOne(s, env.clock, [a!]);
  await env.clock.sleep(290_000);
  t.is(s.status().counters.unmounts, 0, 'still mounted before idle_unload_s');
  await env.clock.sleep(20_000);
  t.is(s.status().drives[0]!.activity, 'unloading');
  await env.clock.sleep(300_000);
  t.is(s.status().counters.unmounts, 1);
  t.true(s.status().drives.every((d) => d.loaded === null));
});

test('status: queues per medium and per type, drive activities, counters', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st0' });
  const a = await env.fill('L00000L9', [64 * KB, 64 * KB]);
  const b = await env.fill('L00001L9', [64 * KB]);
  const s = env.scheduler('cost');
  const reads = [...a, ...b].map((c) => readOne(s, env.clock, [c]));
  await env.clock.sleep(5_000);
  const st = s.status();
  t.deepEqual(st.waiting, { read: 3, write: 0, format: 0 });
  t.deepEqual(st.queues.map((q) => [q.medium, q.reads, q.writes]), [['L00000L9', 2, 0], ['L00001L9', 1, 0]]);
  t.is(st.drives[0]!.activity, 'loading');
  await Promise.all(reads);
  const end = s.status();
  t.is(end.counters.reads, 3);
  t.is(end.counters.bytes_read, 3 * 64 * KB);
  t.is(end.counters.mounts, 2);
  t.is(end.counters.unmounts, 1);
  t.true(end.counters.wait_p99_s >= end.counters.wait_p50_s);
  t.is(end.drives[0]!.activity, 'idle');
  t.true(end.drives[0]!.seconds.loading >= 54 && end.drives[0]!.seconds.unloading > 0);
  t.deepEqual(end.queues, []);
});

test('a load failing in one drive is retried in another before the cartridge is given up', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st[0-1]' });
  const [a] = await env.fill('L00000L9', [64 * KB]);
  await env.reopen({ 'library.fail_load': 'st0:1' });
  const s = env.scheduler('cost');
  const r = await readOne(s, env.clock, [a!]);
  t.is(r.cand.medium, 'L00000L9');
  t.is(s.status().extra.load_errors, 1);
  t.is(s.status().drives.find((d) => d.loaded === 'L00000L9')?.drive, 'st1');
});

test('reads of a cartridge no drive can load fail with ENODEV or EIO, not hang', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st0' });
  const [a] = await env.fill('L00000L9', [64 * KB]);
  await env.catalog.updateMedium('tape', 'L00000L9', { admStatus: 'failed' });
  const s = env.scheduler('cost');
  await t.throwsAsync(s.read({ candidates: [a!] }), { code: 'ENODEV', message: /failed/ });
  await env.catalog.updateMedium('tape', 'L00000L9', { admStatus: 'unlocked' });
  await env.reopen({ 'library.fail_load': 'L00000L9' });
  const s2 = env.scheduler('cost');
  await t.throwsAsync(s2.read({ candidates: [a!] }), { code: 'EIO' });
});

test('drives never added are not used: reads, writes and formats fail with one line until one is added', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st[0-1]' });
  const [a] = await env.fill('L00000L9', [64 * KB]);
  await env.catalog.deleteDrives(['st0', 'st1']);
  const s = env.scheduler('cost');
  const line = (e: DeimosError | undefined) => e?.line();
  const read = await t.throwsAsync<DeimosError>(s.read({ candidates: [a!] }), { code: 'ENODEV' });
  t.is(line(read), 'no drive added and unlocked that can read LTO9 cartridges; add one: deimos drive add --unlock st0');
  const put = await t.throwsAsync<DeimosError>(s.allocWrite({ family: 'tape', tags: [], count: 1, size: KB }), { code: 'ENODEV' });
  t.is(line(put), 'no drive added and unlocked that can write LTO9 cartridges; add one: deimos drive add --unlock st0');
  const fmt = await t.throwsAsync<DeimosError>(s.format('L00001L9'), { code: 'ENODEV' });
  t.is(line(fmt), 'no drive added and unlocked that can format LTO9 cartridges; add one: deimos drive add --unlock st0');
  t.is(s.status().counters.mounts, 0, 'no drive was touched');
  t.deepEqual(s.status().drives.map((d) => d.admStatus), ['not added', 'not added']);

  // Added but locked: the line says to unlock it. Added and unlocked: served.
  await env.catalog.addDrives([{ name: 'st1', serial: 'SIM-st1', model: 'LTO9', path: '/dev/st1', admStatus: 'locked' }]);
  const locked = await t.throwsAsync<DeimosError>(s.read({ candidates: [a!] }), { code: 'ENODEV' });
  t.is(line(locked), 'no drive added and unlocked that can read LTO9 cartridges; unlock one: deimos drive unlock st1');
  await env.catalog.updateDrive('st1', { admStatus: 'unlocked' });
  const r = await readOne(s, env.clock, [a!]);
  t.is(r.cand.medium, 'L00000L9');
  t.is(s.status().drives.find((d) => d.loaded === 'L00000L9')?.drive, 'st1', 'only the added drive is used');
});

test('a read waiting for a cartridge fails with the same line when its only drive is locked meanwhile', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st0' });
  const [a, b] = await env.fill('L00000L9', [64 * KB, 64 * KB]);
  const s = env.scheduler('cost');
  const g = await s.read({ candidates: [a!] });
  const waiting = s.read({ candidates: [b!] });
  await env.catalog.updateDrive('st0', { admStatus: 'locked' });
  // A write request reads the catalog's drive rows again (a service sees `drive lock` so).
  await t.throwsAsync(s.allocWrite({ family: 'tape', tags: ['none'], count: 1, size: KB }));
  g.release({ ok: true, bytes: 0 });
  const e = await t.throwsAsync<DeimosError>(waiting, { code: 'ENODEV' });
  t.is(e?.line(), 'no drive added and unlocked that can read LTO9 cartridges; unlock one: deimos drive unlock st0');
});

/**
 * Drives hold A and B, idle. Recalls for A, B, C, D arrive 300 ms apart,
 * interleaved, C first. At once, C would evict A or B, whose own requests
 * are a few hundred ms behind; gathering (io_sched.read_gather_s) lets A and
 * B take theirs first, so every cartridge is loaded once.
 */
async function burst(t: ExecutionContext, gatherS: string): Promise<Record<string, number>> {
  const env = await schedEnv(t, { 'library.drives': 'st[0-1]' });
  // Small extents 4 MB apart: each read locates for seconds, as on a real cartridge.
  const sizes = [64 * KB, 4 * MB, 64 * KB, 4 * MB, 64 * KB, 4 * MB, 64 * KB];
  const ext: Record<string, ReadCandidate[]> = {};
  for (const l of ['L00000L9', 'L00001L9', 'L00002L9', 'L00003L9']) ext[l] = (await env.fill(l, sizes)).filter((_, i) => i % 2 === 0);
  const [A, B, C, D] = ['L00000L9', 'L00001L9', 'L00002L9', 'L00003L9'].map((l) => ext[l]!);
  const s = env.scheduler('cost', { 'io_sched.read_gather_s': gatherS });
  await env.catalog.clearLogs(); // the loads of fill()
  await Promise.all([readOne(s, env.clock, [A![0]!]), readOne(s, env.clock, [B![0]!])]);
  await env.clock.sleep(60_000);
  const reads: Promise<unknown>[] = [];
  for (let round = 1; round <= 3; round++) {
    for (const cart of [C!, A!, D!, B!]) {
      reads.push(readOne(s, env.clock, [cart[round]!]));
      await env.clock.sleep(300);
    }
  }
  await Promise.all(reads);
  const loads: Record<string, number> = {};
  for (const l of await env.catalog.listLogs()) if (l.cause === 'load' && l.medium) loads[l.medium] = (loads[l.medium] ?? 0) + 1;
  return loads;
}

test('read gather: a burst over 4 cartridges with 2 drives loads each cartridge once; without it, more', async (t) => {
  t.deepEqual(await burst(t, '2'), { L00000L9: 1, L00001L9: 1, L00002L9: 1, L00003L9: 1 }, 'A and B served where they were loaded before the burst, C and D loaded once');
  const without = await burst(t, '0');
  const loads = Object.values(without).reduce((a, b) => a + b, 0);
  t.true(loads > 4, `without gathering: ${JSON.stringify(without)}`);
  t.log(`loads without gathering: ${JSON.stringify(without)}`);
});

test('loads into empty drives are decided when the robot is free: the longest queue asked meanwhile goes first', async (t) => {
  const env = await schedEnv(t, { 'library.drives': 'st[0-3]' });
  const [a] = await env.fill('L00000L9', [64 * KB]);
  const [b] = await env.fill('L00001L9', [64 * KB]);
  const c = (await env.fill('L00002L9', [64 * KB, 4 * MB, 64 * KB, 4 * MB, 64 * KB, 4 * MB, 64 * KB])).filter((_, i) => i % 2 === 0);
  const s = env.scheduler('cost');
  await env.catalog.clearLogs();
  const reads = [readOne(s, env.clock, [a!])];
  await env.clock.sleep(300);
  reads.push(readOne(s, env.clock, [b!]));
  await env.clock.sleep(200);
  for (const x of c) reads.push(readOne(s, env.clock, [x]));
  await Promise.all(reads);
  // A's load took the robot at once; B, asked first after it, would have
  // queued behind it and gone before C (first come, first served).
  const loads = (await env.catalog.listLogs()).filter((l) => l.cause === 'load').map((l) => l.medium);
  t.deepEqual(loads, ['L00000L9', 'L00002L9', 'L00001L9']);
});

/**
 * A restore asked for all at once: a run of touching extents from the middle
 * of wrap 1 (a backward wrap: its start is at the far end of the tape from
 * BOT) into wrap 2 (a forward wrap, starting next to BOT). Returns the reads
 * in the order granted, the run, and the finish time.
 */
async function restoreRun(t: ExecutionContext, every: number): Promise<{ log: ReadCandidate[]; run: ReadCandidate[]; tookS: number; env: SchedEnv }> {
  const env = await schedEnv(t, { 'library.drives': 'st0' });
  const wrap = env.lib.cartridge('L00000L9').capacity / 280;
  const [, ...all] = await env.fill('L00000L9', [Math.round(1.5 * wrap), ...Array.from({ length: 32 }, () => 30_000)]);
  const run = all.filter((_, i) => i % every === 0);
  const s = env.scheduler('cost');
  const log: ReadCandidate[] = [];
  const t0 = env.clock.now();
  await Promise.all(run.map((c) => readOne(s, env.clock, [c], log)));
  return { log, run, tookS: (env.clock.now() - t0) / 1000, env };
}

test('cost: after a load, a restore starts where the head gets soonest and reads the run\'s skipped start last (fewer seconds of wait in all)', async (t) => {
  const { log, run, tookS, env } = await restoreRun(t, 1);
  const loc = (a: number, b: number): number => env.lib.locateSeconds('L00000L9', a, b);
  const xfer = (c: ReadCandidate): number => env.lib.transferSeconds(c.size);
  // Every rotation of the position order, timed from the load on the library's own model.
  const timeOf = (order: ReadCandidate[]): { sum: number; end: number } => {
    let at = 0;
    let now = env.lib.mountSeconds();
    let sum = 0;
    for (const c of order) { now += loc(at, c.position) + xfer(c); at = c.position + c.size; sum += now; }
    return { sum, end: now };
  };
  const rotations = run.map((_, k) => [...run.slice(k), ...run.slice(0, k)]);
  const sums = rotations.map((o) => timeOf(o).sum);
  const k = sums.indexOf(Math.min(...sums));
  t.true(k > 0, 'not from the start of the run');
  const wrap = env.lib.cartridge('L00000L9').capacity / 280;
  t.true(run[k]!.position >= 2 * wrap && run[k - 1]!.position < 2 * wrap, 'from the first extent on the forward wrap');
  t.deepEqual(log, rotations[k]);
  // The library is cold (no cartridge in the drive): the load waits for the
  // burst to pause (io_sched.cold_quiet_s after the last request, all asked at t0).
  const endS = env.config.num('io_sched', 'cold_quiet_s') + timeOf(rotations[k]!).end;
  t.true(Math.abs(tookS - endS) < 1e-3, `took ${tookS} s, expected ${endS}`);
  t.true(sums[k]! < sums[0]! - 30 * run.length, 'each request waits over 30 s less than in position order');
});

test('cost: a restore with holes (files of the run not asked for, perhaps still to come) is read in position order', async (t) => {
  const { log, run } = await restoreRun(t, 2);
  t.deepEqual(log, run);
});

/**
 * A restore whose rotation lengthens the path: the run goes from wrap 1 at
 * 300 m (a backward wrap) to wrap 2 at ~900 m, so the locate back from its
 * end to its start (~60 s) costs more than reaching wrap 2 instead of the
 * start saves (~30 s). With `other`, a second drive reads 4 extents of
 * L00001, asked for a second before, with long locates between them
 * (longer than the whole restore).
 */
async function restoreBeside(t: ExecutionContext, other: boolean): Promise<{ log: ReadCandidate[]; run: ReadCandidate[]; env: SchedEnv }> {
  const env = await schedEnv(t, { 'library.drives': other ? 'st[0-1]' : 'st0' });
  const wrap = env.lib.cartridge('L00000L9').capacity / 280;
  const [, ...run] = await env.fill('L00000L9', [Math.round(1.7 * wrap), ...Array.from({ length: 38 }, () => 30_000)]);
  const far = other ? await env.fill('L00001L9', [64 * KB, Math.round(2.85 * wrap), 64 * KB, Math.round(1.1 * wrap), 64 * KB, Math.round(2.5 * wrap), 64 * KB]) : [];
  const s = env.scheduler('cost');
  const log: ReadCandidate[] = [];
  const reads: Promise<unknown>[] = far.filter((_, i) => i % 2 === 0).map((c) => readOne(s, env.clock, [c], log));
  await env.clock.sleep(1000);
  reads.push(...run.map((c) => readOne(s, env.clock, [c], log)));
  await Promise.all(reads);
  return { log: log.filter((c) => c.medium === 'L00000L9'), run, env };
}

test('cost: a restore is started further along only when that does not make it end last (the makespan never pays for the waits)', async (t) => {
  const alone = await restoreBeside(t, false);
  const loc = (a: number, b: number): number => alone.env.lib.locateSeconds('L00000L9', a, b);
  const xfer = (c: ReadCandidate): number => alone.env.lib.transferSeconds(c.size);
  const timeOf = (order: ReadCandidate[]): { sum: number; end: number } => {
    let at = 0;
    let now = 0;
    let sum = 0;
    for (const c of order) { now += loc(at, c.position) + xfer(c); at = c.position + c.size; sum += now; }
    return { sum, end: now };
  };
  const run = alone.run;
  const rotations = run.map((_, k) => [...run.slice(k), ...run.slice(0, k)]);
  const sums = rotations.map((o) => timeOf(o).sum);
  const k = sums.indexOf(Math.min(...sums));
  t.true(k > 0 && timeOf(rotations[k]!).end > timeOf(run).end + 20, 'the rotation lowers the waits and lengthens the path');
  t.deepEqual(alone.log, run, 'alone: this cartridge ends last, read in position order');
  const beside = await restoreBeside(t, true);
  t.deepEqual(beside.log.map((c) => run.findIndex((r) => r.position === c.position)), rotations[k]!.map((c) => run.indexOf(c)), 'another drive works longer: started further along');
});

/**
 * Two sweeps of a restore over 12 touching extents of 100 KiB on one wrap,
 * read at 1 MB/s: the even ones asked for first; while the drive reads
 * them, the odd ones are asked for in position order, twice as fast as the
 * tape streams (e1 to e9), the front just behind the head when it reaches
 * the gap before e8. Returns the extents' indexes in the order read.
 */
async function twoSweeps(t: ExecutionContext, policy: string): Promise<number[]> {
  const env = await schedEnv(t, { 'library.drives': 'st0', 'library.capacity_LTO9': '512M', 'library.rate_mb_s': '1' });
  const e = await env.fill('L00000L9', Array.from({ length: 12 }, () => 100 * KB));
  const s = env.scheduler(policy);
  const loc = (a: number, b: number): number => env.lib.locateSeconds('L00000L9', a, b);
  const xfer = (c: ReadCandidate): number => env.lib.transferSeconds(c.size);
  const log: ReadCandidate[] = [];
  const t0 = env.clock.now();
  const reads = [0, 2, 4, 6, 8, 10].map((i) => readOne(s, env.clock, [e[i]!], log));
  // When the head reaches the end of e6, the gap (e7) before e8.
  let at = 0;
  let doneS = env.lib.mountSeconds();
  for (const i of [0, 2, 4, 6]) { doneS += loc(at, e[i]!.position) + xfer(e[i]!); at = e[i]!.position + e[i]!.size; }
  const when = [[1, -0.25], [3, -0.15], [5, -0.05], [7, 0.04], [9, 0.15]] as const;
  for (const [i, dt] of when) {
    await env.clock.sleep(Math.max(0, t0 + (doneS + dt) * 1000 - env.clock.now()));
    reads.push(readOne(s, env.clock, [e[i]!], log));
  }
  await Promise.all(reads);
  return log.map((c) => e.indexOf(c));
}

test('cost: the drive waits at a gap for a front of requests rising just behind the head (anticipation), and reads the file it brings on the way', async (t) => {
  t.deepEqual(await twoSweeps(t, 'cost'), [0, 2, 4, 6, 7, 8, 9, 10, 1, 3, 5], 'e7 read in line: only e1, e3, e5, behind the head already, after a locate back');
  t.deepEqual(await twoSweeps(t, 'grouped-sorted'), [0, 2, 4, 6, 8, 9, 10, 1, 3, 5, 7], 'without anticipation e7, a few ms late, waits for the pass back');
});

test('drain syncs what is written at once; close rejects what still waits', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=100,dir=1', 'lrs.sync_time_ms': 'tape=3600000,dir=0' });
  await formatted(env, ['L00000L9']);
  const [r] = await env.fill('L00001L9', [KB]);
  const s = env.scheduler('cost');
  const w = await write(s, 'a', KB);
  const t0 = env.clock.now();
  await s.drain();
  await w.synced;
  t.is(s.status().counters.syncs, 1);
  t.true(env.clock.now() - t0 < 60_000, 'drain did not wait for sync_time_ms');
  const p = s.read({ candidates: [r!] });
  await s.close();
  await t.throwsAsync(p, { code: 'ECANCELED' });
});

test('a cartridge left in a drive that is then locked is given back: its writes and reads are served by another drive', async (t) => {
  const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=1,dir=1' });
  const [x] = await env.fill('L00001L9', [64 * KB]);
  await formatted(env, ['L00000L9']);
  const s = env.scheduler('cost');
  await s.switchByHand('st1', 'L00001L9');
  await env.catalog.updateDrive('st1', { admStatus: 'locked' });
  // Before the fix both waited forever: the cartridge counted as mounted, and its drive did nothing.
  const w = await write(s, 'w', KB);
  await w.synced;
  const r = await readOne(s, env.clock, [x!]);
  t.is(r.cand.medium, 'L00001L9');
  const drives = s.status().drives;
  t.is(drives.find((d) => d.drive === 'st1')?.loaded, null, 'the locked drive gave its cartridge back');
  t.is(drives.find((d) => d.drive === 'st0')?.loaded, 'L00001L9', 'and the other drive read it');
});
