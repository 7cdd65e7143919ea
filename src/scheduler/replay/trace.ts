import { DeimosError } from '../../core/errors.js';

/**
 * Scheduler traces: one request per line,
 *   arrival_s,op,cartridge,position_bytes,size_bytes
 * op is read or write. A first line naming these columns is allowed, as are
 * blank lines and '#' comments. For reads, position is where the extent lies
 * on the cartridge; writes go wherever the scheduler puts them (their
 * cartridge and position are informative only).
 */
export interface TraceRow {
  /** Line in the source, for messages. */
  line: number;
  arrivalS: number;
  op: 'read' | 'write';
  cartridge: string;
  position: number;
  size: number;
}

const HEADER = 'arrival_s,op,cartridge,position_bytes,size_bytes';
const LABEL = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses a trace; rows come back sorted by arrival (stable). EINVAL names the line. */
export function parseTrace(text: string, source = 'trace'): TraceRow[] {
  const rows: TraceRow[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (line === '' || line.startsWith('#')) return;
    if (rows.length === 0 && line.replace(/\s+/g, '') === HEADER) return;
    const bad = (why: string): never => {
      throw new DeimosError('EINVAL', `${source}:${n}: ${why}`, `each line is ${HEADER}, e.g. 12.5,read,L00001L9,1048576,4096`);
    };
    const f = line.split(',').map((s) => s.trim());
    if (f.length !== 5) bad(`expected 5 fields, found ${f.length} in '${line}'`);
    const [a, op, cart, pos, size] = f as [string, string, string, string, string];
    const arrivalS = Number(a);
    if (a === '' || !Number.isFinite(arrivalS) || arrivalS < 0) bad(`arrival_s '${a}' is not a number >= 0`);
    if (op !== 'read' && op !== 'write') bad(`op '${op}' is neither read nor write`);
    if (!LABEL.test(cart)) bad(`cartridge '${cart}' is not a label (letters, digits, '_', '.', '-')`);
    const position = Number(pos);
    if (!/^\d+$/.test(pos) || !Number.isSafeInteger(position)) bad(`position_bytes '${pos}' is not an integer >= 0`);
    const sz = Number(size);
    if (!/^\d+$/.test(size) || !Number.isSafeInteger(sz) || sz === 0) bad(`size_bytes '${size}' is not an integer > 0`);
    rows.push({ line: n, arrivalS, op: op as TraceRow['op'], cartridge: cart, position, size: sz });
  });
  if (rows.length === 0) throw new DeimosError('EINVAL', `${source}: no request in the trace`, `write one request per line: ${HEADER}`);
  return rows.sort((x, y) => x.arrivalS - y.arrivalS || x.line - y.line);
}

export function formatTrace(rows: readonly Omit<TraceRow, 'line'>[]): string {
  return [HEADER, ...rows.map((r) => `${+r.arrivalS.toFixed(3)},${r.op},${r.cartridge},${r.position},${r.size}`)].join('\n') + '\n';
}
