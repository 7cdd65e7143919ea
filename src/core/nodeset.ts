import { DeimosError } from './errors.js';

/**
 * Expands ClusterShell/Phobos ranges: "L[00-03]L9" → L00L9…L03L9,
 * "/data/d[1-3,7]" → /data/d1, /data/d2, /data/d3, /data/d7.
 * Zero padding follows the width of the lower bound. Several bracket groups
 * expand as a cartesian product, left to right.
 */
export function expandNodeset(pattern: string): string[] {
  const open = pattern.indexOf('[');
  if (open < 0) {
    if (pattern.includes(']')) throw bad(pattern);
    return [pattern];
  }
  const close = pattern.indexOf(']', open);
  if (close < 0) throw bad(pattern);
  const head = pattern.slice(0, open);
  const body = pattern.slice(open + 1, close);
  const tails = expandNodeset(pattern.slice(close + 1));
  const out: string[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw bad(pattern);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1_000_000) throw bad(pattern);
    const width = m[1]!.length;
    for (let i = lo; i <= hi; i++) {
      const n = String(i).padStart(width, '0');
      for (const t of tails) out.push(head + n + t);
    }
  }
  return out;
}

export function expandAll(patterns: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of patterns) for (const n of expandNodeset(p)) if (!seen.has(n)) { seen.add(n); out.push(n); }
  return out;
}

function bad(p: string): DeimosError {
  return new DeimosError('EINVAL', `invalid range in '${p}'`, "write ranges like 'L[000-039]L9' or '/data/d[1-3,7]'");
}
