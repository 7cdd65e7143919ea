/**
 * Generates the scheduler benchmark traces (test/bench/traces/*.csv),
 * deterministically (fixed seeds). Sizes and positions are those of LTO-9
 * cartridges (18 TB); the replay scales them down to run (see
 * src/scheduler/replay/scale.ts).
 *
 *   node dist/test/bench/gen-trace.js [OUT_DIR]
 *
 * The traces pull read ordering in opposite directions (ARCHITECTURE §4):
 *  - sparse-*: recalls of single files at random places on many
 *    cartridges, cartridges chosen uniformly or by popularity (zipf), in
 *    one burst, in repeated bursts, or steady over hours;
 *  - restore-*: a dataset written together by 4 parallel writers (so its
 *    files interleave on tape, and the whole forms one contiguous run per
 *    cartridge) read back in name order — fast enough that requests keep
 *    arriving while the drives read, or all at once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTrace, type TraceRow } from '../../src/scheduler/replay.js';

type Row = Omit<TraceRow, 'line'>;

const TB = 1e12;
const GB = 1e9;
const MB = 1e6;
const CAPACITY = 18 * TB;

/** mulberry32: small, fast, good enough for workloads. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** File sizes: log-normal around `median`, clamped. */
function size(r: () => number, median: number, sigma = 0.8): number {
  return Math.round(Math.min(20 * GB, Math.max(20 * MB, median * Math.exp(sigma * normal(r)))));
}

function label(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(5, '0')}L9`;
}

/** Cartridge index by a zipf law of exponent s over n cartridges. */
function zipf(r: () => number, n: number, s: number): () => number {
  const w = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = w.reduce((a, b) => a + b, 0);
  return () => {
    let x = r() * total;
    for (let i = 0; i < n; i++) { x -= w[i]!; if (x <= 0) return i; }
    return n - 1;
  };
}

/** Sparse recalls: `times` are arrival instants, cartridges drawn by `pick`. */
function sparse(seed: number, times: number[], pick: () => number, prefix: string): Row[] {
  const r = rng(seed);
  return times.map((t) => {
    const sz = size(r, 2 * GB);
    return { arrivalS: t, op: 'read' as const, cartridge: label(prefix, pick()), position: Math.floor(r() * (CAPACITY - sz)), size: sz };
  });
}

/** Poisson arrivals: n requests at `rate` per second from `start`. */
function poisson(r: () => number, n: number, rate: number, start = 0): number[] {
  const out: number[] = [];
  let t = start;
  for (let i = 0; i < n; i++) { t += -Math.log(1 - r()) / rate; out.push(t); }
  return out;
}

/**
 * A dataset of `files` files written together by 4 writers onto `carts`
 * cartridges: the writers' files interleave in the order they were closed;
 * each cartridge holds one contiguous run, after older data. Requested in
 * name order (writer by writer, file by file) at `rate` per second.
 */
function restore(seed: number, files: number, carts: number, rate: number): Row[] {
  const r = rng(seed);
  const writers = 4;
  const names: { name: string; size: number }[] = [];
  for (let w = 0; w < writers; w++) for (let f = 0; f < files / writers; f++) names.push({ name: `w${w}/f${String(f).padStart(5, '0')}`, size: size(r, 500 * MB, 0.6) });
  // Write order: the next file closed comes from a random writer, each writer in its own name order.
  const next = Array.from({ length: writers }, () => 0);
  const perWriter = files / writers;
  const written: { name: string; size: number }[] = [];
  while (written.length < files) {
    const w = Math.floor(r() * writers);
    if (next[w]! >= perWriter) continue;
    written.push(names[w * perWriter + next[w]!]!);
    next[w]!++;
  }
  const where = new Map<string, { cartridge: string; position: number }>();
  const perCart = Math.ceil(files / carts);
  for (let c = 0; c < carts; c++) {
    let pos = Math.floor((1 + r() * 6) * TB);
    for (const f of written.slice(c * perCart, (c + 1) * perCart)) {
      where.set(f.name, { cartridge: label('R', c), position: pos });
      pos += f.size;
    }
  }
  const t0 = 1;
  return names.map((f, i) => ({ arrivalS: t0 + i / rate, op: 'read' as const, ...where.get(f.name)!, size: f.size }));
}

function main(): void {
  const out = process.argv[2] ?? 'test/bench/traces';
  mkdirSync(out, { recursive: true });
  const traces: Record<string, Row[]> = {};
  {
    const r = rng(11);
    traces['sparse-uniform-burst'] = sparse(12, poisson(r, 480, 4), () => Math.floor(r() * 24), 'U');
  }
  {
    const r = rng(21);
    traces['sparse-zipf-burst'] = sparse(22, poisson(r, 480, 4), zipf(r, 40, 1.1), 'Z');
  }
  {
    const r = rng(31);
    traces['sparse-uniform-steady'] = sparse(32, poisson(r, 600, 1 / 24), () => Math.floor(r() * 24), 'U');
  }
  {
    const r = rng(41);
    const pick = zipf(r, 40, 1.1);
    const times = Array.from({ length: 6 }, (_, b) => poisson(r, 80, 80 / 60, b * 1800)).flat();
    traces['bursty-zipf'] = sparse(42, times, pick, 'Z');
  }
  traces['restore-name-order'] = restore(51, 1200, 3, 8);
  traces['restore-at-once'] = restore(61, 1200, 3, 400);
  for (const [name, rows] of Object.entries(traces)) {
    writeFileSync(join(out, `${name}.csv`), formatTrace(rows));
    console.log(`${name}: ${rows.length} requests on ${new Set(rows.map((x) => x.cartridge)).size} cartridges`);
  }
}

main();
