import { DeimosError } from '../core/errors.js';

export type OutputFormat = 'human' | 'json' | 'csv' | 'yaml' | 'xml';
export const FORMATS: readonly OutputFormat[] = ['human', 'json', 'csv', 'yaml', 'xml'];

export function parseFormat(v: string): OutputFormat {
  if (!(FORMATS as readonly string[]).includes(v)) throw new DeimosError('EINVAL', `unknown output format '${v}'`, `use one of ${FORMATS.join(', ')}`);
  return v as OutputFormat;
}

/** Fields to show: -o a,b / -o all / the command's default. Unknown names are an error. */
export function selectFields(records: Record<string, unknown>[], wanted: string | undefined, defaults: string[] | undefined): string[] {
  const all = records.length ? Object.keys(records[0]!) : defaults ?? [];
  if (wanted === undefined) return defaults ?? all;
  if (wanted === 'all') return all;
  const fields = wanted.split(',').map((f) => f.trim()).filter(Boolean);
  const unknown = records.length ? fields.filter((f) => !all.includes(f)) : [];
  if (unknown.length) throw new DeimosError('EINVAL', `unknown field '${unknown[0]}'`, `fields are: ${all.join(', ')}`);
  return fields;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(yamlScalar).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${yamlScalar(x)}`).join(', ')}}`;
  return JSON.stringify(String(v));
}

/** Renders list records; human output is the bare values for one field, an aligned table otherwise. */
export function formatRecords(records: Record<string, unknown>[], fields: string[], format: OutputFormat): string {
  const pick = (r: Record<string, unknown>) => Object.fromEntries(fields.map((f) => [f, r[f] ?? null]));
  switch (format) {
    case 'json':
      return JSON.stringify(records.map(pick), null, 1) + '\n';
    case 'csv':
      return [fields.join(','), ...records.map((r) => fields.map((f) => csvCell(text(r[f]))).join(','))].join('\n') + '\n';
    case 'yaml':
      if (records.length === 0) return '[]\n';
      return records.map((r) => fields.map((f, i) => `${i === 0 ? '- ' : '  '}${f}: ${yamlScalar(r[f])}`).join('\n')).join('\n') + '\n';
    case 'xml':
      return `<?xml version="1.0" encoding="UTF-8"?>\n<items>\n${records.map((r) =>
        `  <item>${fields.map((f) => `<${f}>${xmlEscape(text(r[f]))}</${f}>`).join('')}</item>`).join('\n')}${records.length ? '\n' : ''}</items>\n`;
    case 'human': {
      if (records.length === 0) return '';
      if (fields.length === 1) return records.map((r) => text(r[fields[0]!])).join('\n') + '\n';
      const rows = [fields, ...records.map((r) => fields.map((f) => text(r[f])))];
      const widths = fields.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
      return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
    }
  }
}
