import { DeimosError, type Config } from '../core/index.js';
import type { ChecksumAlgo, Family, LayoutDesc, LayoutName } from '../catalog/index.js';

export const FAMILIES: readonly Family[] = ['dir', 'tape'];
export const LAYOUTS: readonly LayoutName[] = ['raid1', 'raid4'];

export function parseFamily(v: string): Family {
  if (!(FAMILIES as readonly string[]).includes(v)) {
    throw new DeimosError('EINVAL', `unknown family '${v}'`, `use one of ${FAMILIES.join(', ')}`);
  }
  return v as Family;
}

/** "k=v,k2=v2" → record; used by --metadata and --lyt-params. */
export function parseKeyValues(text: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new DeimosError('EINVAL', `invalid ${what} '${part}'`, `write ${what} as key=value[,key=value…]`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export function parseTags(text: string | undefined): string[] {
  if (!text) return [];
  const tags = text.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of tags) {
    if (!/^[A-Za-z0-9_.:+-]+$/.test(t)) throw new DeimosError('EINVAL', `invalid tag '${t}'`, 'tags are letters, digits and _.:+-');
  }
  return tags;
}

/** The layout of a put: name from the option or config, parameters checked. */
export function resolveLayout(config: Config, name: string | undefined, params: Record<string, string>): LayoutDesc {
  const layout = (name ?? config.str('store', 'default_layout')) as LayoutName;
  if (!LAYOUTS.includes(layout)) throw new DeimosError('EINVAL', `unknown layout '${layout}'`, `use one of ${LAYOUTS.join(', ')}`);
  if (layout === 'raid1') {
    const n = params.repl_count ?? config.str('layout_raid1', 'repl_count');
    if (!/^[1-9]\d*$/.test(n) || Number(n) > 16) {
      throw new DeimosError('EINVAL', `invalid repl_count '${n}'`, 'raid1 takes --lyt-params repl_count=N with 1 ≤ N ≤ 16');
    }
    const extra = Object.keys(params).filter((k) => k !== 'repl_count');
    if (extra.length) throw new DeimosError('EINVAL', `raid1 has no parameter '${extra[0]}'`, 'raid1 takes repl_count=N');
    return { name: 'raid1', params: { repl_count: n } };
  }
  const extra = Object.keys(params);
  if (extra.length) throw new DeimosError('EINVAL', `raid4 has no parameter '${extra[0]}'`, 'raid4 is always 2 data + 1 parity extents');
  return { name: 'raid4', params: {} };
}

export function checksumAlgos(config: Config): ChecksumAlgo[] {
  const algos = config.list('store', 'default_checksum');
  for (const a of algos) {
    if (a !== 'xxh128' && a !== 'md5') {
      throw new DeimosError('EINVAL', `unknown checksum '${a}' in store.default_checksum`, 'use xxh128, md5 or xxh128,md5');
    }
  }
  return (algos.length ? algos : ['xxh128']) as ChecksumAlgo[];
}

export function checkCopyName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new DeimosError('EINVAL', `invalid copy name '${name}'`, 'copy names are 1–64 letters, digits and _.-');
  }
  return name;
}
