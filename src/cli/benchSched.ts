import { readFile } from 'node:fs/promises';
import { DeimosError } from '../core/index.js';
import { POLICY_NAMES } from '../scheduler/index.js';
import { replayTrace, type ReplayResult } from '../scheduler/replay.js';

/**
 * `deimos bench sched`: replays a trace on the virtual clock through the real
 * scheduler and sim library, once per policy, with the lower bound. Runs in
 * the CLI process: it touches no store.
 */
export async function benchSched(o: { trace: string; drives: string; policy?: string[]; json?: boolean }): Promise<string> {
  const text = await readFile(o.trace, 'utf8').catch(() => {
    throw new DeimosError('ENOENT', `cannot read trace '${o.trace}'`, 'give a CSV file with arrival_s,op,cartridge,position_bytes,size_bytes');
  });
  const drives = Number(o.drives);
  const policies = o.policy && o.policy.length ? o.policy : [...POLICY_NAMES];
  const rows = await replayTrace(text, { drives, policies });
  if (o.json) {
    return JSON.stringify(rows.map(({ policy, mounts, makespan_s, mean_wait_s, p99_wait_s, locate_s }) => ({ policy, mounts, makespan_s, mean_wait_s, p99_wait_s, locate_s })), null, 1) + '\n';
  }
  return table(rows);
}

function table(rows: ReplayResult[]): string {
  const head = ['policy', 'mounts', 'makespan_s', 'mean_wait_s', 'p99_wait_s', 'locate_s'];
  const cells = rows.map((r) => [r.policy, String(r.mounts), r.makespan_s.toFixed(1), r.mean_wait_s.toFixed(1), r.p99_wait_s.toFixed(1), r.locate_s.toFixed(1)]);
  const all = [head, ...cells];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n') + '\n';
}
