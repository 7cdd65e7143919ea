import { createServer, type Server, type Socket } from 'node:net';
import { unlink } from 'node:fs/promises';
import { toDeimosError, type Logger } from '../core/index.js';
import type { CallContext, CommandResult, Request } from './protocol.js';
import { socketAddress } from './socketPath.cjs';
import { EventReply, type Reply } from './reply.js';
import { TextReply } from './textReply.js';

export type Dispatch = (req: Request, ctx: CallContext) => Promise<CommandResult>;

/** Serves CLI commands on the store's unix socket, one command per connection. */
export class CommandServer {
  private server: Server | null = null;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly dispatch: Dispatch, private readonly log: Logger) {}

  async listen(path: string): Promise<void> {
    const addr = socketAddress(path);
    // Only the lock owner listens, so a socket file left here is stale.
    if (!addr.startsWith('\0')) await unlink(addr).catch(() => undefined);
    const server = createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr, () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
  }

  get busy(): number {
    return this.running.size;
  }

  /** Stops accepting, then waits for the commands in flight. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private accept(sock: Socket): void {
    let buf = '';
    let started = false;
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      if (started) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      started = true;
      const job = this.serve(sock, buf.slice(0, nl)).finally(() => this.running.delete(job));
      this.running.add(job);
    });
  }

  private async serve(sock: Socket, line: string): Promise<void> {
    let reply: Reply = new EventReply(sock);
    try {
      const req = JSON.parse(line) as Request;
      if (req.reply === 'text') reply = new TextReply(sock);
      const ctx: CallContext = {
        cwd: req.cwd, uid: req.uid, gid: req.gid,
        progress: (what, done, total) => reply.progress(what, done, total),
        warn: (message) => reply.warning(message),
      };
      reply.result(await this.dispatch(req, ctx));
    } catch (e) {
      const err = toDeimosError(e);
      if (err.code === 'EIO' && err.message.startsWith('internal error')) this.log.error({ err: e }, 'command failed');
      reply.error(err);
    } finally {
      sock.end();
    }
  }
}
