/**
 * Replays every trace of test/bench/traces through every policy and prints
 * one markdown table per trace (what test/bench/sched.sh writes).
 *
 *   node dist/test/bench/sched.js [DRIVES] [TRACE...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import { parseTrace, replayTrace, type ReplayResult } from '../../src/scheduler/replay.js';

async function main(): Promise<void> {
  const drives = Number(process.argv[2] ?? 4);
  const dir = 'test/bench/traces';
  const files = process.argv.length > 3 ? process.argv.slice(3) : readdirSync(dir).filter((f) => f.endsWith('.csv')).sort().map((f) => join(dir, f));
  const policies = (process.env.POLICIES ?? POLICY_NAMES.join(',')).split(',');
  for (const f of files) {
    const rows = parseTrace(readFileSync(f, 'utf8'), f);
    const t0 = Date.now();
    const results = await replayTrace(rows, { drives, policies });
    const carts = new Set(rows.map((r) => r.cartridge)).size;
    console.log(formatSchedTable(results, `${basename(f, '.csv')} — ${rows.length} requests, ${carts} cartridges, ${drives} drives`));
    console.error(`${basename(f)}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

const COLUMNS: [keyof ReplayResult | 'vs_bound', string][] = [
  ['policy', 'policy'], ['mounts', 'mounts'], ['makespan_s', 'makespan s'], ['vs_bound', '× bound'],
  ['mean_wait_s', 'mean wait s'], ['p99_wait_s', 'p99 wait s'], ['locate_s', 'locate s'],
];

/** A markdown table; `× bound` is makespan over the lower bound's. */
function formatSchedTable(results: readonly ReplayResult[], title: string): string {
  const bound = results.find((r) => r.policy === 'lower-bound')?.makespan_s;
  const cell = (r: ReplayResult, k: (typeof COLUMNS)[number][0]): string => {
    if (k === 'vs_bound') return bound ? (r.makespan_s / bound).toFixed(2) : '';
    const v = r[k];
    return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v);
  };
  return [
    `**${title}**`, '',
    `| ${COLUMNS.map(([, h]) => h).join(' | ')} |`,
    `|${COLUMNS.map(([k]) => (k === 'policy' ? '---' : '---:')).join('|')}|`,
    ...results.map((r) => `| ${COLUMNS.map(([k]) => cell(r, k)).join(' | ')} |`),
  ].join('\n') + '\n';
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
