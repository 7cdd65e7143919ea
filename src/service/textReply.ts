import type { Socket } from 'node:net';
import type { DeimosError } from '../core/index.js';
import type { CommandResult } from './protocol.js';
import type { Reply } from './reply.js';

/**
 * The answer to a request with `reply: 'text'` (cli/quick.c): what the Node
 * CLI would print, done here. Frames of one tag byte ('o' stdout, 'e'
 * stderr, 'x' exit code), the payload's byte length in decimal, a newline,
 * the payload; 'x' comes last. Progress is not sent: the client runs only
 * where stderr is not a terminal, where the Node CLI shows none either.
 */
export class TextReply implements Reply {
  constructor(private readonly sock: Socket) {}

  progress(): void {}

  warning(message: string): void {
    this.frame('e', `deimos: warning: ${message}\n`);
  }

  /** As cli/quick.cts prints a plain result (lines only, which is what put, get and ping answer). */
  result(r: CommandResult): void {
    for (const w of r.warnings ?? []) this.warning(w);
    if (r.records !== undefined || r.document !== undefined) {
      this.frame('e', 'deimos: internal error: this answer has records, which a text reply cannot show; run the command through the Node CLI\n');
      this.exit(5);
      return;
    }
    const out = (r.lines ?? []).map((l) => l + '\n').join('');
    if (out) this.frame('o', out);
    this.exit(r.exitCode ?? 0);
  }

  /** As cli/output.ts's printError: one line, the errno as exit code. */
  error(err: DeimosError): void {
    this.frame('e', `deimos: ${err.line()}\n`);
    this.exit(err.errno);
  }

  private exit(code: number): void {
    this.frame('x', String(code));
  }

  private frame(tag: 'o' | 'e' | 'x', payload: string): void {
    if (this.sock.destroyed) return;
    const body = Buffer.from(payload, 'utf8');
    this.sock.write(Buffer.concat([Buffer.from(`${tag}${body.length}\n`, 'latin1'), body]));
  }
}
