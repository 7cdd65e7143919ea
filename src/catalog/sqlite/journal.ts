/**
 * Operation logs (health of drives, media, library) and the key/value state
 * that boxes persist between runs.
 */
import { DeimosError } from '../../core/errors.js';
import type { LogFilter, LogRow, NewLog } from '../interface.js';
import type { Ctx } from './context.js';
import { toLog } from './rows.js';

export function addLog(c: Ctx, log: NewLog): void {
  if (!['drive', 'medium', 'library'].includes(log.kind)) {
    throw new DeimosError('EINVAL', `unknown log kind '${String(log.kind)}'`, 'use drive, medium or library');
  }
  c.conn.stmt('INSERT INTO logs (time, kind, device, medium, cause, errno, message) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(log.time ?? c.now(), log.kind, log.device ?? null, log.medium ?? null, log.cause, log.errno, log.message);
}

function logWhere(f: LogFilter): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.kind !== undefined) { where.push('kind = ?'); args.push(f.kind); }
  if (f.device !== undefined) { where.push('device = ?'); args.push(f.device); }
  if (f.medium !== undefined) { where.push('medium = ?'); args.push(f.medium); }
  if (f.errorsOnly) where.push('errno != 0');
  if (f.since !== undefined) { where.push('time >= ?'); args.push(f.since); }
  if (f.until !== undefined) { where.push('time <= ?'); args.push(f.until); }
  return { sql: where.length ? 'WHERE ' + where.join(' AND ') : '', args };
}

export function listLogs(c: Ctx, f: LogFilter = {}): LogRow[] {
  const w = logWhere(f);
  return c.conn.stmt(`SELECT * FROM logs ${w.sql} ORDER BY time, id`).all(...w.args).map((r) => toLog(r as object));
}

export function clearLogs(c: Ctx, f: LogFilter = {}): number {
  const w = logWhere(f);
  return c.conn.stmt(`DELETE FROM logs ${w.sql}`).run(...w.args).changes;
}

export function getState(c: Ctx, key: string): string | null {
  const r = c.conn.stmt('SELECT value FROM state WHERE key = ?').get(key) as { value: string } | undefined;
  return r ? r.value : null;
}

export function setState(c: Ctx, key: string, value: string): void {
  if (typeof value !== 'string') throw new DeimosError('EINVAL', `state '${key}' must be a string`, 'serialize it (JSON) first');
  c.conn.stmt('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}
