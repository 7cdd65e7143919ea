import type { ErrnoName } from '../core/errors.js';

/**
 * The CLI ↔ service protocol over the unix socket: one connection per
 * command, JSON lines. The client sends one Request; the service answers
 * with any number of progress/warning events and then one result or error.
 */
export interface Request {
  cmd: string;
  args: Record<string, unknown>;
  /** Caller's working directory and identity: relative paths and ownership are the caller's. */
  cwd: string;
  uid: number;
  gid: number;
  /**
   * 'text': the service formats what the user sees and answers in frames
   * (service/textReply.ts) instead of events; the compiled client
   * (cli/quick.c) sends it, which has no JSON parser.
   */
  reply?: 'text';
}

export interface CommandResult {
  /** Rows for list outputs (formatted by the CLI: human, json, csv, yaml, xml). */
  records?: Record<string, unknown>[];
  /** Fields shown by default in human output. */
  fields?: string[];
  /** One document (e.g. `status`) printed whole by -f json. */
  document?: Record<string, unknown>;
  /** Plain lines for stdout. */
  lines?: string[];
  /** Lines for stderr that do not make the command fail. */
  warnings?: string[];
  /** Exit code when the command succeeded but must report a partial failure. */
  exitCode?: number;
}

export type Event =
  | { type: 'progress'; what: string; done: number; total: number }
  | { type: 'warning'; message: string }
  | { type: 'result'; result: CommandResult }
  | { type: 'error'; error: { code: ErrnoName; message: string; hint?: string } };

export interface CallContext {
  cwd: string;
  uid: number;
  gid: number;
  progress(what: string, done: number, total: number): void;
  warn(message: string): void;
}
