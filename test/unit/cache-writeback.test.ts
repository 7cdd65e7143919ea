/** The write-back queue alone: no cache, no store, a virtual clock and puts that the test controls. */
import test from 'ava';
import { VirtualClock } from '../../src/clock/index.js';
import { pickVictims, WritebackQueue, type PutOutcome } from '../../src/cache/index.js';
import { timersOf } from '../../src/cache/timers.js';

function queue(over: Partial<{ ageMs: number; nb: number; bytes: number; maxPuts: number; delayMs: number }> = {}) {
  const clock = new VirtualClock();
  const puts: { key: string; at: number; done(o: PutOutcome | Error): void }[] = [];
  const groups: string[][] = [];
  const q = new WritebackQueue<string>({
    policy: { ageMs: 1000, nb: 3, bytes: 100, backoffBaseMs: 500, backoffMaxMs: 1500, ...over },
    timers: timersOf(clock),
    onGroup: async (keys) => { groups.push(keys); },
    put: (key) => new Promise<PutOutcome>((resolve, reject) => {
      puts.push({ key, at: clock.now(), done: (o) => (o instanceof Error ? reject(o) : resolve(o)) });
    }),
  });
  const turns = async (n = 20) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };
  return { clock, q, puts, groups, turns };
}

test('count, volume and age each start a group of every eligible item', async (t) => {
  // No age: a virtual clock jumps to the next deadline whenever the process is idle.
  const { q, groups, turns, clock } = queue({ ageMs: Infinity });
  q.add('a', 10);
  q.add('b', 10);
  q.hold('h');
  q.add('h', 10);
  await turns();
  t.deepEqual(groups, []);
  q.add('c', 10);
  await turns();
  t.deepEqual(groups, [['a', 'b', 'c']], 'three eligible items; the held one waits');
  const v = queue({ ageMs: Infinity });
  v.q.add('x', 60);
  v.q.add('y', 40);
  await v.turns();
  t.deepEqual(v.groups, [['x', 'y']], '100 bytes');
  const a = queue();
  a.q.add('old', 1, 0);
  a.clock.sleep(400).then(() => a.q.add('new', 1));
  while (a.groups.length === 0) await a.turns(1);
  t.deepEqual(a.groups, [['old', 'new']]);
  t.is(a.puts[0]!.at, 1000);
  t.is(clock.now(), 0);
});

test('a failure backs off, doubling up to the maximum; a success removes the item', async (t) => {
  const { q, puts, turns, clock } = queue({ nb: 1 });
  q.add('f', 1);
  await turns();
  puts.shift()!.done(new Error('tape full'));
  await turns();
  t.like(q.backoff('f'), { attempts: 1, notBefore: 500 });
  while (puts.length === 0) await turns(1);
  t.is(clock.now(), 500);
  puts.shift()!.done(new Error('again'));
  while (puts.length === 0) await turns(1);
  t.is(clock.now(), 1500);
  puts.shift()!.done(new Error('again'));
  while (puts.length === 0) await turns(1);
  t.is(clock.now(), 3000, 'capped at 1500 ms');
  puts.shift()!.done('done');
  await turns();
  t.false(q.has('f'));
  t.like(q.stats(), { queued: 0, failures: 3, puts: 4 });
});

test('a change during a put keeps the item; flush(wait) resolves only once a put covers the data', async (t) => {
  const { q, puts, turns } = queue({ nb: 100, bytes: 1e9, ageMs: Infinity });
  q.add('k', 1);
  let flushed = false;
  const w = q.flush(['k'], { wait: true }).then(() => { flushed = true; });
  await turns();
  t.is(puts.length, 1);
  q.add('k', 2);
  puts.shift()!.done('done');
  await turns();
  t.true(q.has('k'), 'modified while its put ran: still queued');
  t.false(flushed);
  await q.flush(['k']);
  await turns();
  puts.shift()!.done('changed');
  await turns();
  t.true(q.has('k'));
  t.false(flushed);
  await q.flush(['k']);
  await turns();
  puts.shift()!.done('done');
  await w;
  t.false(q.has('k'));
});

test('pickVictims: least recently used first, down to the target', (t) => {
  const c = [{ id: 'a', size: 100, lastAccess: 5 }, { id: 'b', size: 300, lastAccess: 1 }, { id: 'c', size: 50, lastAccess: 3 }];
  t.deepEqual(pickVictims(c, 1000, 700).map((x) => x.id), ['b']);
  t.deepEqual(pickVictims(c, 1000, 650).map((x) => x.id), ['b', 'c']);
  t.deepEqual(pickVictims(c, 1000, 1000), []);
  t.deepEqual(pickVictims(c, 1000, 0).map((x) => x.id), ['b', 'c', 'a']);
});

test('at most maxPuts puts run at once, over all groups; the others start as they end', async (t) => {
  const { q, puts, turns } = queue({ ageMs: Infinity, nb: 4, maxPuts: 3 });
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) q.add(k, 1);
  await turns();
  t.is(puts.length, 3, 'two groups of four, three puts running');
  puts[0]!.done('done');
  await turns();
  t.is(puts.length, 4);
  for (let i = 1; i < 8; i++) {
    puts[i]!.done('done');
    await turns();
  }
  t.is(puts.length, 8);
  t.is(q.stats().queued, 0);
});

test('stop lets the running puts end and starts none of those waiting for a slot: they stay queued, their waiters are told', async (t) => {
  const { q, puts, groups, turns } = queue({ ageMs: Infinity, nb: 4, maxPuts: 2 });
  for (const k of ['a', 'b', 'c', 'd']) q.add(k, 1);
  await turns();
  t.deepEqual(groups, [['a', 'b', 'c', 'd']]);
  t.is(puts.length, 2);
  const waited = q.flush(['c'], { wait: true });
  const stopped = q.stop();
  let over = false;
  void stopped.then(() => { over = true; });
  await turns();
  t.false(over, 'stop waits for the puts that run');
  puts[0]!.done('done');
  puts[1]!.done('done');
  await stopped;
  t.is(puts.length, 2, 'c and d never started');
  t.is(q.stats().queued, 2);
  t.is(q.stats().puts, 2);
  await t.throwsAsync(waited, { code: 'ECANCELED' });
});

test('delayMs: an item changed less than delayMs ago waits (thresholds and all); a forced flush does not', async (t) => {
  const { q, puts, groups, turns, clock } = queue({ ageMs: Infinity, nb: 2, delayMs: 500 });
  q.add('a', 1);
  void clock.sleep(300).then(() => q.add('b', 1));
  while (groups.length === 0) await turns(1);
  t.deepEqual(groups, [['a', 'b']], 'the count is reached at 300 but b was changed then');
  t.is(puts[0]!.at, 800);
  const f = queue({ ageMs: Infinity, nb: 100, delayMs: 10_000 });
  f.q.add('c', 1);
  void f.q.flush(['c']);
  await f.turns();
  t.deepEqual(f.groups, [['c']]);
  t.is(f.puts[0]!.at, 0);
});

test('with a delay, closes do not each make the flusher look at the whole backlog; items still go when due', async (t) => {
  // A clock that moves only when the test says (the virtual clock jumps after 3 idle turns).
  let now = 0;
  const sleepers: (() => void)[] = [];
  const groups: string[][] = [];
  const q = new WritebackQueue<string>({
    policy: { ageMs: Infinity, nb: 201, bytes: 1e9, backoffBaseMs: 500, backoffMaxMs: 1500, delayMs: 5000 },
    timers: { now: () => now, waitUntilKick: (ms, kicked) => ms === null ? kicked : Promise.race([kicked, new Promise<void>((r) => sleepers.push(r))]) },
    onGroup: async (keys) => { groups.push(keys); },
    put: () => new Promise<PutOutcome>(() => undefined),
  });
  const turn = () => new Promise((r) => setImmediate(r));
  q.add('first', 1);
  await turn();
  const before = q.stats().picks;
  for (let i = 0; i < 200; i++) {
    q.hold(`k${i}`);
    q.add(`k${i}`, 1);
    q.release(`k${i}`);
    await turn();
  }
  t.true(q.stats().picks - before <= 1, `${q.stats().picks - before} looks for 200 closes`);
  t.deepEqual(groups, []);
  now = 5000;
  for (const wake of sleepers.splice(0)) wake();
  for (let i = 0; i < 5; i++) await turn();
  t.is(groups.length, 1);
  t.is(groups[0]!.length, 201);
});

test('a backlog that becomes eligible item by item is looked at once per group, not once per item', async (t) => {
  // A clock that moves only when the test says, firing the sleeps it passes.
  let now = 0;
  let sleeps: { at: number; wake(): void }[] = [];
  const groups: string[][] = [];
  const q = new WritebackQueue<string>({
    policy: { ageMs: 60_000, nb: 64, bytes: 1e9, backoffBaseMs: 500, backoffMaxMs: 1500, delayMs: 5000 },
    timers: {
      now: () => now,
      waitUntilKick: (ms, kicked) => ms === null ? kicked : Promise.race([kicked, new Promise<void>((wake) => sleeps.push({ at: now + ms, wake }))]),
    },
    onGroup: async (keys) => { groups.push(keys); },
    put: () => new Promise<PutOutcome>(() => undefined),
  });
  const turn = () => new Promise((r) => setImmediate(r));
  const advance = async (to: number) => {
    now = to;
    const due = sleeps.filter((s) => s.at <= now);
    sleeps = sleeps.filter((s) => s.at > now);
    for (const s of due) s.wake();
    await turn();
    await turn();
  };
  // A close every 3 ms for 12 s: from 5 s on, one item more is eligible every 3 ms.
  for (let i = 0; i < 4000; i++) {
    q.hold(`k${i}`);
    q.add(`k${i}`, 1);
    q.release(`k${i}`);
    await advance(i * 3);
  }
  const sizes = groups.map((g) => g.length);
  t.true(sizes.every((n) => n === 64), `groups of ${sizes.join(',')}`);
  t.is(groups.length, Math.floor((3 * 3999 - 5000) / 3 / 64), 'every 64 items eligible make one group');
  t.true(q.stats().picks <= 2 * groups.length + 5, `${q.stats().picks} looks for ${groups.length} groups`);

  // Thresholds out of reach: one look at the age deadline, none per close.
  const slow = queue({ ageMs: 3_600_000, nb: 1_000_000, bytes: 1e12, delayMs: 5000 });
  for (let i = 0; i < 2000; i++) slow.q.add(`s${i}`, 1);
  await slow.turns();
  const before = slow.q.stats().picks;
  while (slow.groups.length === 0) await slow.turns(1);
  t.is(slow.groups[0]!.length, 2000);
  t.is(slow.clock.now(), 3_600_000);
  t.true(slow.q.stats().picks - before <= 2, `${slow.q.stats().picks - before} looks`);
});

test('with a delay, an item added while the flusher sleeps with no deadline is still put when due', async (t) => {
  const { q, groups, turns, clock } = queue({ ageMs: Infinity, nb: 2, delayMs: 5000 });
  await turns();
  q.add('a', 1);
  q.add('b', 1);
  while (groups.length === 0) await turns(1);
  t.deepEqual(groups, [['a', 'b']]);
  t.is(clock.now(), 5000);
});

test('lingering descriptors: closed after their time or when too many linger, never while the entry is open again', async (t) => {
  const { Lingering } = await import('../../src/cache/linger.js');
  const { createLogger } = await import('../../src/core/index.js');
  const closed: string[] = [];
  const entry = (key: string) => {
    const e = {
      key, readers: 0, writers: 0, fh: {} as unknown,
      get openCount() { return this.readers + this.writers; },
      async closeHandle() { if (this.fh) closed.push(key); this.fh = null; },
    };
    return e;
  };
  const l = new Lingering(2, 40, createLogger('silent'));
  const [a, b, c] = [entry('a'), entry('b'), entry('c')];
  l.keep(a as never);
  l.keep(b as never);
  t.deepEqual(closed, []);
  l.keep(c as never);
  t.deepEqual(closed, ['a'], 'the oldest goes when a third lingers');
  b.readers = 1;
  await new Promise((r) => setTimeout(r, 80));
  t.deepEqual(closed, ['a', 'c'], 'b was opened again: its descriptor stays');
  t.is(l.size, 0);
  b.readers = 0;
  l.keep(b as never);
  l.close(b as never);
  await new Promise((r) => setTimeout(r, 0));
  t.deepEqual(closed, ['a', 'c', 'b']);
});

test('write-behind: a growing file is synced in the background every step, one sync at a time; a failed one is reported by the next sync', async (t) => {
  const { WriteBehind } = await import('../../src/cache/writeBehind.js');
  const { createLogger } = await import('../../src/core/index.js');
  let syncs = 0;
  let release: (() => void) | null = null;
  let fail = false;
  const entry = {
    key: 'k', syncError: null as unknown,
    fh: { datasync: () => { syncs++; return new Promise<void>((res, rej) => { release = () => (fail ? rej(new Error('EIO')) : res()); }); } },
  };
  let size = 0;
  const w = { entry: entry as never, size: () => size };
  const wb = new WriteBehind(createLogger('silent'), 100, 5);
  const ticks = (n: number) => new Promise((r) => setTimeout(r, 5 * n + 10));
  wb.add(w);
  size = 50;
  await ticks(3);
  t.is(syncs, 0, 'less than a step written');
  size = 150;
  await ticks(3);
  t.is(syncs, 1);
  size = 400;
  await ticks(3);
  t.is(syncs, 1, 'one at a time');
  release!();
  await ticks(3);
  t.is(syncs, 2);
  fail = true;
  release!();
  await ticks(1);
  t.is((entry.syncError as Error).message, 'EIO');
  wb.remove(w);
  size = 1000;
  await ticks(3);
  t.is(syncs, 2, 'nothing once the writer is gone');
});
