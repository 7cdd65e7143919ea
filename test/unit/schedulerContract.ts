/**
 * The scheduler contract, rerun for every read policy (as Phobos reruns its
 * scheduler tests for every algorithm): the real tape scheduler over the
 * real sim library on a virtual clock, so every figure is exact.
 */
import anyTest from 'ava';

const serialTest = anyTest.serial;
import type { ReadCandidate } from '../../src/scheduler/interface.js';
import type { PolicyName } from '../../src/scheduler/policies/interface.js';
import type { TapeScheduler } from '../../src/scheduler/tape/index.js';
import { consume, header, one, readOne, schedEnv, type SchedEnv } from './schedulerEnv.js';

const KB = 1 << 10;
const MB = 1 << 20;
/** Small cartridges (0.1 MiB a wrap) keep the bytes written by the tests few; locate times stay realistic. */
const SMALL = { 'library.capacity_LTO9': '28M' };
const CARTS = ['L00000L9', 'L00001L9', 'L00002L9'];

/** Extents of 64 KiB separated by padding, so that they lie on many wraps. */
async function sparseExtents(env: SchedEnv, label: string, seed: number): Promise<ReadCandidate[]> {
  let x = seed;
  const rnd = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const sizes: number[] = [];
  for (let i = 0; i < 6; i++) sizes.push(64 * KB, Math.floor((0.4 + rnd() * 3) * MB));
  const all = await env.fill(label, sizes);
  return all.filter((_, i) => i % 2 === 0);
}

/** Interleaves the cartridges' requests, in a fixed pseudo-random order. */
function interleave(lists: ReadCandidate[][]): ReadCandidate[] {
  const out: ReadCandidate[] = [];
  const idx = lists.map(() => 0);
  let k = 7;
  while (out.length < lists.reduce((n, l) => n + l.length, 0)) {
    k = (k * 5 + 3) % 11;
    const i = k % lists.length;
    if (idx[i]! < lists[i]!.length) out.push(lists[i]![idx[i]!++]!);
  }
  return out;
}

/** Locate seconds of reading `order` from BOT; with `rewind`, plus the rewind the unload after it starts with. */
function pathSeconds(env: SchedEnv, label: string, order: ReadCandidate[], rewind = false): number {
  let head = 0;
  let s = 0;
  for (const c of order) {
    s += env.lib.locateSeconds(label, head, c.position);
    head = c.position + c.size;
  }
  return s + (rewind ? env.lib.locateSeconds(label, head, 0) : 0);
}

function nearestOrder(env: SchedEnv, label: string, reqs: ReadCandidate[]): ReadCandidate[] {
  const left = [...reqs];
  const out: ReadCandidate[] = [];
  let head = 0;
  while (left.length) {
    left.sort((a, b) => env.lib.locateSeconds(label, head, a.position) - env.lib.locateSeconds(label, head, b.position) || a.position - b.position);
    const c = left.shift()!;
    out.push(c);
    head = c.position + c.size;
  }
  return out;
}

async function put(s: TapeScheduler, oid: string, size: number): Promise<{ synced: Promise<void>; writtenMs: number[] }> {
  const g = await s.allocWrite({ family: 'tape', tags: [], count: 1, size, grouping: 'g' });
  const w = await g.slots[0]!.io.writeExtent(header(oid, size), one(Buffer.alloc(size, 7)), () => ({}));
  return { synced: g.complete({ ok: true, bytes: [w.size] }), writtenMs: [] };
}

export function runSchedulerContract(policy: PolicyName): void {
  const grouped = policy !== 'fifo';
  // Serial: the virtual clocks of concurrent tests would wait on each other's file I/O.
  const test = serialTest;

  test(`${policy}: a batch of recalls mounts ${grouped ? 'each cartridge once' : 'at each cartridge switch'} and reads in the policy's order`, async (t) => {
    const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st0' });
    const lists = [];
    for (const [i, l] of CARTS.entries()) lists.push(await sparseExtents(env, l, i + 1));
    const s = env.scheduler(policy);
    const arrival = interleave(lists);
    const log: ReadCandidate[] = [];
    await Promise.all(arrival.map((c) => readOne(s, env.clock, [c], log)));
    const switches = arrival.filter((c, i) => i === 0 || c.medium !== arrival[i - 1]!.medium).length;
    t.is(s.status().counters.mounts, grouped ? CARTS.length : switches);
    t.is(s.status().counters.reads, arrival.length);
    for (const l of CARTS) {
      const read = log.filter((c) => c.medium === l);
      const arrived = arrival.filter((c) => c.medium === l);
      const sorted = [...arrived].sort((a, b) => a.position - b.position);
      switch (policy) {
        case 'fifo':
        case 'grouped-fifo': t.deepEqual(read, arrived, `${l} in arrival order`); break;
        case 'grouped-sorted': t.deepEqual(read, sorted, `${l} by ascending position`); break;
        case 'nearest': t.deepEqual(read, nearestOrder(env, l, arrived), `${l} nearest first`); break;
        case 'cost': {
          // While other cartridges wait for the drive, this one is unloaded
          // after its queue: the plan counts the rewind its end costs. The
          // last cartridge read stays mounted: its path is open.
          const rewind = l !== log[log.length - 1]!.medium;
          const s1 = pathSeconds(env, l, read, rewind);
          t.true(s1 <= pathSeconds(env, l, nearestOrder(env, l, arrived), rewind) + 1e-9, `${l}: planned path ${s1} s no longer than nearest-first`);
          t.true(s1 <= pathSeconds(env, l, sorted, rewind) + 1e-9, `${l}: planned path ${s1} s no longer than position order`);
          t.deepEqual([...read].sort((a, b) => a.position - b.position), sorted);
          break;
        }
      }
    }
  });

  test(`${policy}: a cartridge is never in two drives`, async (t) => {
    const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st[0-2]' });
    const reqs = (await env.fill('L00000L9', Array.from({ length: 12 }, () => 64 * KB))).concat(await env.fill('L00001L9', [64 * KB, 64 * KB, 64 * KB]));
    const s = env.scheduler(policy);
    const loads: string[] = [];
    const load = env.lib.load.bind(env.lib);
    env.lib.load = async (drive, label) => {
      const where = env.lib.cartridge(label).location;
      t.false('drive' in where, `${label} loaded in ${drive} while in ${JSON.stringify(where)}`);
      loads.push(label);
      return load(drive, label);
    };
    await Promise.all(reqs.map((c) => readOne(s, env.clock, [c])));
    t.is(s.status().extra.load_errors, 0);
    t.deepEqual([...new Set(loads)].sort(), ['L00000L9', 'L00001L9']);
  });

  test(`${policy}: grouped puts sync once per threshold, and a put is acknowledged only after its sync`, async (t) => {
    const env = await schedEnv(t, { ...SMALL, 'lrs.sync_nb_req': 'tape=4,dir=1', 'lrs.sync_time_ms': 'tape=60000,dir=0' });
    await env.fill('L00003L9', []);
    const s = env.scheduler(policy);
    const syncs = (): number => s.status().counters.syncs;
    const acked: number[] = [];
    const puts = Array.from({ length: 6 }, (_, i) => put(s, `o${i}`, 64 * KB).then(async (p) => {
      await p.synced;
      acked.push(syncs());
    }));
    await Promise.all(puts);
    // 4 writes reach the count threshold; the 2 others wait for the time threshold.
    t.is(syncs(), 2);
    t.deepEqual(acked, [1, 1, 1, 1, 2, 2]);
    t.is(s.status().counters.mounts, 1);
    t.true(env.clock.now() >= 60_000, 'the last two waited for sync_time_ms');
    t.false(env.lib.open(s.status().drives.find((d) => d.loaded)!.drive).unsynced);
  });

  test(`${policy}: a read with replicas goes to the mounted candidate`, async (t) => {
    const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st[0-1]' });
    const a = await env.fill('L00000L9', [64 * KB, 64 * KB]);
    const b = await env.fill('L00001L9', [64 * KB, 64 * KB]);
    const s = env.scheduler(policy);
    await readOne(s, env.clock, [b[0]!]);
    const r = await readOne(s, env.clock, [a[1]!, b[1]!]);
    t.is(r.cand.medium, 'L00001L9');
    t.is(s.status().counters.mounts, 1);
  });

  test(`${policy}: ageing — a request does not wait forever behind a busy cartridge`, async (t) => {
    const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st0', 'io_sched.ageing_s': '600' });
    const busy = await env.fill('L00000L9', Array.from({ length: 8 }, () => 2 * MB));
    const [other] = await env.fill('L00001L9', [64 * KB]);
    const s = env.scheduler(policy);
    let stop = false;
    let served = 0;
    // Two readers keep the first cartridge's queue from ever emptying.
    const reader = async (k: number): Promise<void> => {
      for (let i = k; !stop; i += 2) { await readOne(s, env.clock, [busy[i % busy.length]!]); served++; }
    };
    const readers = [reader(0), reader(1)];
    await env.clock.sleep(100_000);
    const asked = env.clock.now();
    const got = await readOne(s, env.clock, [other!]);
    stop = true;
    await Promise.all(readers);
    const waitedS = (got.grantedMs - asked) / 1000;
    t.true(waitedS <= 600 + 300, `waited ${waitedS} s for ageing_s 600`);
    t.true(served >= 2, 'the busy cartridge was being read');
  });

  test(`${policy}: a candidate that fails to load falls back to another replica`, async (t) => {
    const env = await schedEnv(t, { ...SMALL, 'library.drives': 'st0' });
    const [onlyBad, bad] = await env.fill('L00001L9', [64 * KB, 64 * KB]);
    const good = await env.fill('L00002L9', [64 * KB]);
    await env.reopen({ 'library.fail_load': 'L00001L9' });
    const s = env.scheduler(policy);
    const lone = s.read({ candidates: [onlyBad!] });
    const replica = readOne(s, env.clock, [bad!, good[0]!]);
    await t.throwsAsync(lone, { code: 'EIO' });
    const r = await replica;
    t.is(r.cand.medium, 'L00002L9');
    t.true(s.status().extra.load_errors >= 1);
  });
}

export { consume };
