import { DeimosError, fromJSON } from '../core/errors.js';
import type { CommandResult, Event, Request } from './protocol.js';
import { exchange, type Outcome } from './wire.cjs';

/**
 * Sends one command to the running service. Resolves null when no service
 * listens (the caller then runs one in-process); rejects with the command's
 * DeimosError otherwise.
 */
export async function callService(path: string, req: Request, onEvent: (e: Event) => void): Promise<CommandResult | null> {
  return settle(await exchange(path, req, onEvent));
}

/** The result of an outcome, or its error thrown as a DeimosError. */
export function settle(o: Outcome): CommandResult | null {
  switch (o.kind) {
    case 'result': return o.result;
    case 'absent': return null;
    case 'error': throw fromJSON(o.error);
    case 'lost':
      throw o.detail === null
        ? new DeimosError('EIO', 'the service closed the connection before answering', 'check the service log; retry')
        : new DeimosError('EIO', `lost the service connection: ${o.detail}`, 'check the service log; retry');
  }
}
