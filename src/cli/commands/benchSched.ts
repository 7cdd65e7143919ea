import { readFile } from 'node:fs/promises';
import { DeimosError } from '../../core/errors.js';
import { POLICY_NAMES } from '../../scheduler/policies/index.js';
import { replayTrace, type ReplayResult } from '../../scheduler/replay.js';

/**
 * `deimos bench sched --trace FILE [--drives N] [--policy NAME] [--json]`:
 * replays a trace through every policy (or one) and prints one row per
 * policy plus the lower bound. The CLI wiring calls `benchSched`.
 */
export interface BenchSchedOptions {
  trace: string;
  drives?: number;
  /** One policy name, or all of them. */
  policy?: string;
  json?: boolean;
}

export async function benchSched(opts: BenchSchedOptions): Promise<string> {
  let text: string;
  try {
    text = await readFile(opts.trace, 'utf8');
  } catch (e) {
    throw new DeimosError('ENOENT', `cannot read trace ${opts.trace}: ${(e as Error).message}`, 'give a CSV file: arrival_s,op,cartridge,position_bytes,size_bytes');
  }
  const { parseTrace } = await import('../../scheduler/replay.js');
  const rows = parseTrace(text, opts.trace);
  const results = await replayTrace(rows, { drives: opts.drives ?? 4, policies: opts.policy ? [opts.policy] : [...POLICY_NAMES] });
  return opts.json ? JSON.stringify(results, null, 1) + '\n' : formatSchedTable(results);
}

const COLUMNS: [keyof ReplayResult | 'vs_bound', string][] = [
  ['policy', 'policy'], ['mounts', 'mounts'], ['makespan_s', 'makespan s'], ['vs_bound', '× bound'],
  ['mean_wait_s', 'mean wait s'], ['p99_wait_s', 'p99 wait s'], ['locate_s', 'locate s'],
];

/** A markdown table; `× bound` is makespan over the lower bound's. */
export function formatSchedTable(results: readonly ReplayResult[], title?: string): string {
  const bound = results.find((r) => r.policy === 'lower-bound')?.makespan_s;
  const cell = (r: ReplayResult, k: (typeof COLUMNS)[number][0]): string => {
    if (k === 'vs_bound') return bound ? (r.makespan_s / bound).toFixed(2) : '';
    const v = r[k];
    return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v);
  };
  const lines = [
    ...(title ? [`**${title}**`, ''] : []),
    `| ${COLUMNS.map(([, h]) => h).join(' | ')} |`,
    `|${COLUMNS.map(([k]) => (k === 'policy' ? '---' : '---:')).join('|')}|`,
    ...results.map((r) => `| ${COLUMNS.map(([k]) => cell(r, k)).join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}
