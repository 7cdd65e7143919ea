// CommonJS, node built-ins only: the CLI's socket-only path (cli/quick.cts)
// loads it without the ESM loader (~10 ms of a put's or get's start-up).
import { connect } from 'node:net';
import type { CommandResult, Event, Request } from './protocol.js';
import { socketAddress } from './socketPath.cjs';

/** How one command sent to the service ended. */
export type Outcome =
  | { kind: 'result'; result: CommandResult }
  | { kind: 'error'; error: Extract<Event, { type: 'error' }>['error'] }
  /** No service listens: the caller may run the command itself. */
  | { kind: 'absent' }
  /** The connection failed after it was made, or closed before an answer: the command may or may not have run. */
  | { kind: 'lost'; detail: string | null };

/** Sends one request over the service's socket; events before the answer go to onEvent. Never rejects. */
export function exchange(path: string, req: Request, onEvent: (e: Event) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = connect(socketAddress(path));
    let connected = false;
    let settled = false;
    let buf = '';
    const done = (o: Outcome) => { if (!settled) { settled = true; resolve(o); } };
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      sock.write(JSON.stringify(req) + '\n');
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, nl)) as Event;
        buf = buf.slice(nl + 1);
        if (e.type === 'result') done({ kind: 'result', result: e.result });
        else if (e.type === 'error') done({ kind: 'error', error: e.error });
        else onEvent(e);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // Before the connection is made nothing was sent: no service took the command. A reset
      // then is a service closing its socket as the connection arrived (an in-process owner
      // that just finished its own command), and whoever retries finds the store free.
      const none = !connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET');
      done(none ? { kind: 'absent' } : { kind: 'lost', detail: e.message });
    });
    sock.on('close', () => done({ kind: 'lost', detail: null }));
  });
}
