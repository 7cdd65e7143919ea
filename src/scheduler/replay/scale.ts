import { Config } from '../../core/config.js';
import { DeimosError } from '../../core/errors.js';
import { parseSize } from '../../core/units.js';
import { modelOfLabel } from '../../library/index.js';
import type { TraceRow } from './trace.js';

/**
 * Replays move real bytes through the sim, so a trace of terabytes is
 * played at 1/k scale: positions, sizes, capacities, the streaming rate,
 * the index size and the sync volume threshold are all divided by k. Every
 * duration of the timing model is unchanged — locate geometry is a fraction
 * of capacity, and bytes/rate is invariant — so results are those of the
 * full-size trace up to rounding of one scaled byte (k real bytes).
 * Boundaries are rounded, not sizes, so extents that touch keep touching.
 */
export interface ScaledRequest {
  row: TraceRow;
  /** Scaled start and end; writes have start 0. */
  start: number;
  end: number;
  /** Identifies one extent of one cartridge (reads of the same extent share it). */
  key: string;
}

export interface Scaled {
  k: number;
  requests: ScaledRequest[];
  /** Scaled capacity per cartridge label. */
  capacity: Map<string, number>;
  config: Config;
}

/** Smallest extents keep >= 256 scaled bytes; no scale beyond 1e6. */
export function chooseScale(rows: readonly TraceRow[]): number {
  const min = Math.min(...rows.map((r) => r.size));
  return Math.max(1, Math.min(1e6, Math.floor(min / 256)));
}

export function scaleTrace(rows: readonly TraceRow[], opts: { drives: number; k?: number; overrides?: Record<string, string> }): Scaled {
  const k = opts.k ?? chooseScale(rows);
  const base = new Config({ file: null, env: {}, overrides: opts.overrides });
  const labels = [...new Set(rows.map((r) => r.cartridge))].sort();
  const capacity = new Map<string, number>();
  for (const l of labels) {
    const model = modelOfLabel(l) ?? base.str('library', 'cartridge_model');
    const full = parseSize(base.maybe('library', `capacity_${model}`) ?? '18T', `library.capacity_${model}`);
    capacity.set(l, Math.floor(full / k));
  }
  const requests = rows.map((row): ScaledRequest => {
    if (row.op === 'write') return { row, start: 0, end: Math.max(1, Math.round(row.size / k)), key: '' };
    const start = Math.round(row.position / k);
    const end = Math.max(start + 1, Math.round((row.position + row.size) / k));
    if (end > capacity.get(row.cartridge)!) {
      throw new DeimosError('EINVAL', `trace line ${row.line}: extent ends at ${row.position + row.size}, beyond the capacity of cartridge ${row.cartridge}`,
        'keep positions within the cartridge capacity (library.capacity_LTO9)');
    }
    return { row, start, end, key: `${row.cartridge}@${start}+${end - start}` };
  });
  const rate = base.num('library', 'rate_mb_s') / k;
  const index = base.size('library', 'index_bytes') / k;
  const wsize = base.perFamily('lrs', 'sync_wsize_kb', 'tape') / k;
  const config = new Config({
    file: null,
    env: {},
    overrides: {
      ...opts.overrides,
      'library.drives': opts.drives === 1 ? 'st0' : `st[0-${opts.drives - 1}]`,
      'library.cartridges': labels.join(','),
      'library.rate_mb_s': String(rate),
      'library.index_bytes': String(Math.max(1, Math.round(index))),
      'lrs.sync_wsize_kb': `tape=${wsize},dir=1`,
      ...Object.fromEntries([...new Set([...capacity.keys()].map((l) => modelOfLabel(l) ?? base.str('library', 'cartridge_model')))]
        .map((m) => [`library.capacity_${m}`, String(Math.floor(parseSize(base.maybe('library', `capacity_${m}`) ?? '18T', m) / k))])),
    },
  });
  return { k, requests, capacity, config };
}
