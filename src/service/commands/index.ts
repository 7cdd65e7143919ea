import { DeimosError } from '../../core/index.js';
import type { Service } from '../service.js';
import type { CallContext, CommandResult, Request } from '../protocol.js';
import { objectCommands } from './objects.js';
import { dirCommands } from './media.js';
import { libraryCommands } from './tape.js';
import { cacheCommands } from './cache.js';
import type { Registry } from './registry.js';

const commands: Registry = {
  ...objectCommands,
  ...dirCommands,
  ...libraryCommands,
  ...cacheCommands,
  async ping() {
    return { lines: [`pong ${process.pid}`] };
  },
};

export async function dispatch(svc: Service, req: Request, ctx: CallContext): Promise<CommandResult> {
  const h = commands[req.cmd];
  if (!h) throw new DeimosError('ENOSYS', `unknown command '${req.cmd}'`, "see 'deimos help'");
  return h(svc, req.args, ctx);
}
