import { DeimosError } from '../../core/index.js';
import type { Service } from '../service.js';
import type { CallContext, CommandResult } from '../protocol.js';

/** A command handler: arguments as the CLI parsed them, answered with records or lines. */
export type Handler = (svc: Service, args: Record<string, any>, ctx: CallContext) => Promise<CommandResult>;

export type Registry = Record<string, Handler>;

/** Reads a required string argument, with the error a user understands. */
export function need(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new DeimosError('EINVAL', `missing ${name}`, `see 'deimos help' for the command's usage`);
  return v;
}

export function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string' && v !== '') return [v];
  return [];
}

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
