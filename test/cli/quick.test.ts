import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { quickRequest } from '../../src/cli/quick.cjs';
import { fromJSON } from '../../src/core/errors.js';
import type { Event, Request } from '../../src/service/protocol.js';
import { TextReply } from '../../src/service/textReply.js';
import { BIN } from '../helpers/cli.js';

test('quickRequest takes plain put, get and ping only', (t) => {
  t.deepEqual(quickRequest(['put', 'a.bin', 'proj/a']), { cmd: 'put', args: { src: 'a.bin', oid: 'proj/a' } });
  t.deepEqual(quickRequest(['get', 'proj/a', 'out']), { cmd: 'get', args: { oid: 'proj/a', dest: 'out' } });
  t.deepEqual(quickRequest(['ping']), { cmd: 'ping', args: {} });
  for (const argv of [[], ['put', '-', 'x'], ['put', 'a'], ['put', 'a', 'b', 'c'], ['get', '--version', '2', 'a', 'b'], ['get', 'a', '-o'],
    ['-v', 'get', 'a', 'b'], ['get', '', 'b'], ['getmd', 'a'], ['toString'], ['ping', 'x'], ['put', '--help']]) {
    t.is(quickRequest(argv), null, argv.join(' '));
  }
});

/**
 * A stand-in service on DEIMOS_HOME's socket: records each request, answers
 * with `reply`, as events or, to the compiled client, through the service's
 * TextReply.
 */
async function fakeService(home: string, reply: Event[]): Promise<{ server: Server; requests: Request[] }> {
  const requests: Request[] = [];
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as Request;
      requests.push(req);
      if (req.reply !== 'text') {
        sock.end(reply.map((e) => JSON.stringify(e) + '\n').join(''));
        return;
      }
      const text = new TextReply(sock);
      for (const e of reply) {
        if (e.type === 'warning') text.warning(e.message);
        else if (e.type === 'result') text.result(e.result);
        else if (e.type === 'error') text.error(fromJSON(e.error));
      }
      sock.end();
    });
  });
  await new Promise<void>((r) => server.listen(join(home, 'service.sock'), r));
  return { server, requests };
}

type Run = { code: number; stdout: string; stderr: string };
const exec = (args: string[], env: NodeJS.ProcessEnv, cwd: string) => new Promise<Run>((res) => {
  execFile(process.execPath, args, { env, cwd, encoding: 'utf8' }, (err, stdout, stderr) => res({ code: err ? Number(err.code) : 0, stdout, stderr }));
});
/** bin/deimos (the compiled client, built at install), the Node CLI's quick path (bin/deimos.cjs), and the full CLI (main.ts). */
const compiledCli = (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => new Promise<Run>((res) => {
  execFile(BIN, argv, { env, cwd, encoding: 'utf8' }, (err, stdout, stderr) => res({ code: err ? Number(err.code) : 0, stdout, stderr }));
});
const quickCli = (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => exec([BIN + '.cjs', ...argv], env, cwd);
const fullCli = (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => {
  const main = pathToFileURL(join(BIN, '../../dist/src/cli/main.js')).href;
  return exec(['--input-type=module', '-e', `import(${JSON.stringify(main)}).then((m) => m.main(['node', 'deimos', ...JSON.parse(process.env.ARGV)]))`],
    { ...env, ARGV: JSON.stringify(argv) }, cwd);
};

const replies: Array<[string, Event[]]> = [
  ['a result with a warning and an exit code', [{ type: 'warning', message: 'w1' }, { type: 'result', result: { lines: ['l1', 'ünï'], warnings: ['w2'], exitCode: 5 } }]],
  ['an error', [{ type: 'error', error: { code: 'ENOENT', message: "object 'x' not found", hint: 'look elsewhere' } }]],
  ['records', [{ type: 'result', result: { records: [{ a: 1, b: 'x' }], fields: ['a'] } }]],
  ['no answer', []],
];
for (const [what, reply] of replies) {
  test(`the quick paths send and print what the full CLI does: ${what}`, async (t) => {
    const home = await mkdtemp(join(tmpdir(), 'deimos-quick-'));
    const { server, requests } = await fakeService(home, reply);
    // Put, get and ping answer plain lines: records only ever reach the Node CLI's printer.
    const compiled = what !== 'records';
    try {
      const env = { ...process.env, DEIMOS_HOME: home, DEIMOS_CONFIG: '/dev/null' };
      for (const argv of [['get', 'proj/a', 'out "1".bin'], ['put', 'a\tb.bin', 'proj/a'], ['ping']]) {
        const full = await fullCli(argv, env, home);
        t.deepEqual(await quickCli(argv, env, home), full, argv.join(' '));
        if (compiled) t.deepEqual(await compiledCli(argv, env, home), full, `compiled: ${argv.join(' ')}`);
        // The compiled client asked for a text reply: it ran, not the Node CLI it falls back to.
        t.deepEqual(requests.map((r) => r.reply), compiled ? [undefined, undefined, 'text'] : [undefined, undefined]);
        const sent = requests.splice(0).map(({ reply: _, ...r }) => r);
        for (const r of sent) t.deepEqual(r, sent[0]);
        t.like(sent[0], { cmd: argv[0], cwd: home });
        if (compiled) t.is(requests.length, 0);
      }
    } finally {
      await new Promise((r) => server.close(r));
      await rm(home, { recursive: true, force: true });
    }
  });
}

test('the compiled client leaves to the Node CLI what is not a plain put, get or ping to a running service', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'deimos-quick-'));
  try {
    const env = { ...process.env, DEIMOS_HOME: home, DEIMOS_CONFIG: '/dev/null', DEIMOS_LOG_LEVEL: 'error' };
    // No service: the Node CLI runs the command in-process (the catalog it makes is the proof).
    const r = await compiledCli(['ping'], env, home);
    t.is(r.code, 0, r.stderr);
    const usage = await compiledCli(['get', '--version', 'x', 'a', 'b'], env, home);
    t.deepEqual(usage, await fullCli(['get', '--version', 'x', 'a', 'b'], env, home));
    t.not(usage.code, 0);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
