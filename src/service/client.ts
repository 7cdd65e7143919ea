import { connect } from 'node:net';
import { DeimosError, fromJSON } from '../core/errors.js';
import type { CommandResult, Event, Request } from './protocol.js';
import { socketAddress } from './socketPath.js';

/**
 * Sends one command to the running service. Resolves null when no service
 * listens (the caller then runs one in-process); rejects with the command's
 * DeimosError otherwise.
 */
export function callService(path: string, req: Request, onEvent: (e: Event) => void): Promise<CommandResult | null> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketAddress(path));
    let connected = false;
    let settled = false;
    let buf = '';
    const done = (f: () => void) => { if (!settled) { settled = true; f(); } };
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
        if (e.type === 'result') done(() => resolve(e.result));
        else if (e.type === 'error') done(() => reject(fromJSON(e.error)));
        else onEvent(e);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED')) done(() => resolve(null));
      else done(() => reject(new DeimosError('EIO', `lost the service connection: ${e.message}`, 'check the service log; retry')));
    });
    sock.on('close', () => {
      done(() => reject(new DeimosError('EIO', 'the service closed the connection before answering', 'check the service log; retry')));
    });
  });
}
