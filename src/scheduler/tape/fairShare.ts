import type { Config } from '../../core/config.js';
import { DeimosError } from '../../core/errors.js';

/**
 * Phobos' fair share: per drive model, the fewest and the most drives each
 * request type may hold (`io_sched.fair_share_min/max`, e.g.
 * `LTO9=read:1,write:1,format:0;LTO8=read:2`). A minimum is a reservation
 * that only holds while that type has work waiting; a maximum always holds.
 * Models or types not named are unconstrained (min 0, max unlimited).
 */
export type ReqType = 'read' | 'write' | 'format';
export const REQ_TYPES: readonly ReqType[] = ['read', 'write', 'format'];

export type Shares = Map<string, Partial<Record<ReqType, number>>>;
export type TypeCounts = Record<ReqType, number>;

export function parseShares(text: string, what: string): Shares {
  const out: Shares = new Map();
  const bad = (why: string): never => {
    throw new DeimosError('EINVAL', `${what} = '${text}' is invalid: ${why}`, 'write MODEL=read:N,write:N,format:N, models separated by ";" or spaces');
  };
  for (const part of text.split(/[;\s]+/).map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) bad(`'${part}' has no MODEL=`);
    const model = part.slice(0, eq).trim().toUpperCase();
    const shares: Partial<Record<ReqType, number>> = {};
    for (const kv of part.slice(eq + 1).split(',')) {
      const [k, v] = kv.split(':').map((s) => s.trim());
      if (!REQ_TYPES.includes(k as ReqType)) bad(`unknown request type '${k}'`);
      const n = Number(v);
      if (v === undefined || v === '' || !Number.isInteger(n) || n < 0) bad(`'${kv}' needs a count >= 0`);
      shares[k as ReqType] = n;
    }
    out.set(model, shares);
  }
  return out;
}

export class FairShare {
  constructor(private readonly min: Shares, private readonly max: Shares) {}

  static fromConfig(config: Config): FairShare {
    return new FairShare(
      parseShares(config.str('io_sched', 'fair_share_min'), 'io_sched.fair_share_min'),
      parseShares(config.str('io_sched', 'fair_share_max'), 'io_sched.fair_share_max'),
    );
  }

  maxOf(model: string, type: ReqType): number {
    return this.max.get(model.toUpperCase())?.[type] ?? Infinity;
  }

  set(model: string, min?: Partial<Record<ReqType, number>>, max?: Partial<Record<ReqType, number>>): void {
    const m = model.toUpperCase();
    if (min) this.min.set(m, { ...this.min.get(m), ...min });
    if (max) this.max.set(m, { ...this.max.get(m), ...max });
  }

  /** Every model named in min or max, with both limits per request type (max null: unlimited). */
  table(models: readonly string[] = []): { model: string; type: ReqType; min: number; max: number | null }[] {
    const names = [...new Set([...models.map((m) => m.toUpperCase()), ...this.min.keys(), ...this.max.keys()])].sort();
    return names.flatMap((model) => REQ_TYPES.map((type) => {
      const max = this.maxOf(model, type);
      return { model, type, min: this.minOf(model, type), max: Number.isFinite(max) ? max : null };
    }));
  }

  minOf(model: string, type: ReqType): number {
    return this.min.get(model.toUpperCase())?.[type] ?? 0;
  }

  /**
   * May one more drive of `model` be given to `type`? `inUse` counts the
   * drives of that model serving each type now, `free` those that could be
   * given (this one included), `waiting` the types with queued work.
   */
  allows(model: string, type: ReqType, inUse: TypeCounts, free: number, waiting: Record<ReqType, boolean>): boolean {
    if (inUse[type] >= this.maxOf(model, type)) return false;
    let reserved = 0;
    for (const t of REQ_TYPES) {
      if (t !== type && waiting[t]) reserved += Math.max(0, this.minOf(model, t) - inUse[t]);
    }
    return free - 1 >= reserved;
  }
}

/** Operators change shares at run time (`deimos sched fair_share`); they are kept in the catalog. */
export interface ShareSetting { model: string; min?: Partial<Record<ReqType, number>>; max?: Partial<Record<ReqType, number>> }

export function applyShare(fs: FairShare, set: ShareSetting): void {
  fs.set(set.model, set.min, set.max);
}

export const zeroCounts = (): TypeCounts => ({ read: 0, write: 0, format: 0 });
