import test from 'ava';
import { readOne, schedEnv } from './schedulerEnv.js';
import type { ReadCandidate } from '../../src/scheduler/interface.js';

test('smoke: batch of reads over 3 cartridges', async (t) => {
  const env = await schedEnv(t);
  const cands: ReadCandidate[] = [];
  for (const l of ['L00000L9', 'L00001L9', 'L00002L9']) cands.push(...await env.fill(l, [1 << 20, 2 << 20, 1 << 20, 3 << 20, 1 << 20]));
  const s = env.scheduler('grouped-sorted');
  const t0 = env.clock.now();
  const log: ReadCandidate[] = [];
  await Promise.all(cands.map((c) => readOne(s, env.clock, [c], log)));
  console.log((env.clock.now() - t0) / 1000, log.map((c) => `${c.medium}@${c.position}`).join(' '));
  console.log(JSON.stringify(s.status(), null, 1).slice(0, 3000));
  t.is(s.status().counters.mounts, 3);
});
