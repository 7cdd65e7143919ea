import type { Socket } from 'node:net';
import type { DeimosError } from '../core/index.js';
import type { CommandResult, Event } from './protocol.js';

/** How a command's progress, warnings and outcome reach its client. */
export interface Reply {
  progress(what: string, done: number, total: number): void;
  warning(message: string): void;
  result(r: CommandResult): void;
  error(err: DeimosError): void;
}

/** The protocol's JSON lines (protocol.ts's Event), for the Node CLI. */
export class EventReply implements Reply {
  constructor(private readonly sock: Socket) {}

  progress(what: string, done: number, total: number): void {
    this.send({ type: 'progress', what, done, total });
  }

  warning(message: string): void {
    this.send({ type: 'warning', message });
  }

  result(result: CommandResult): void {
    this.send({ type: 'result', result });
  }

  error(err: DeimosError): void {
    this.send({ type: 'error', error: err.toJSON() });
  }

  private send(e: Event): void {
    if (!this.sock.destroyed) this.sock.write(JSON.stringify(e) + '\n');
  }
}
