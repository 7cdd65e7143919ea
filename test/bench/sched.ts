/**
 * Replays every trace of test/bench/traces through every policy and prints
 * one markdown table per trace (what test/bench/sched.sh writes).
 *
 *   node dist/test/bench/sched.js [DRIVES] [TRACE...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatSchedTable } from '../../src/cli/commands/benchSched.js';
import { POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import { parseTrace, replayTrace } from '../../src/scheduler/replay.js';

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

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
