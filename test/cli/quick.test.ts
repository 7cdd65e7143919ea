import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { quickRequest } from '../../src/cli/quick.cjs';
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

/** A stand-in service on DEIMOS_HOME's socket: records each request, answers with `reply`. */
async function fakeService(home: string, reply: object[]): Promise<{ server: Server; requests: unknown[] }> {
  const requests: unknown[] = [];
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      requests.push(JSON.parse(buf.slice(0, nl)));
      sock.end(reply.map((e) => JSON.stringify(e) + '\n').join(''));
    });
  });
  await new Promise<void>((r) => server.listen(join(home, 'service.sock'), r));
  return { server, requests };
}

type Run = { code: number; stdout: string; stderr: string };
const exec = (args: string[], env: NodeJS.ProcessEnv, cwd: string) => new Promise<Run>((res) => {
  execFile(process.execPath, args, { env, cwd, encoding: 'utf8' }, (err, stdout, stderr) => res({ code: err ? Number(err.code) : 0, stdout, stderr }));
});
/** The quick path (bin/deimos) and the full CLI (main.ts) on the same arguments. */
const quickCli = (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => exec([BIN, ...argv], env, cwd);
const fullCli = (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => {
  const main = pathToFileURL(join(BIN, '../../dist/src/cli/main.js')).href;
  return exec(['--input-type=module', '-e', `import(${JSON.stringify(main)}).then((m) => m.main(['node', 'deimos', ...JSON.parse(process.env.ARGV)]))`],
    { ...env, ARGV: JSON.stringify(argv) }, cwd);
};

const replies: Array<[string, object[]]> = [
  ['a result with a warning and an exit code', [{ type: 'warning', message: 'w1' }, { type: 'result', result: { lines: ['l1'], warnings: ['w2'], exitCode: 5 } }]],
  ['an error', [{ type: 'error', error: { code: 'ENOENT', message: "object 'x' not found", hint: 'look elsewhere' } }]],
  ['records', [{ type: 'result', result: { records: [{ a: 1, b: 'x' }], fields: ['a'] } }]],
  ['no answer', []],
];
for (const [what, reply] of replies) {
  test(`the quick path sends and prints what the full CLI does: ${what}`, async (t) => {
    const home = await mkdtemp(join(tmpdir(), 'deimos-quick-'));
    const { server, requests } = await fakeService(home, reply);
    try {
      const env = { ...process.env, DEIMOS_HOME: home, DEIMOS_CONFIG: '/dev/null' };
      for (const argv of [['get', 'proj/a', 'out.bin'], ['put', 'a.bin', 'proj/a'], ['ping']]) {
        const quick = await quickCli(argv, env, home);
        const full = await fullCli(argv, env, home);
        t.deepEqual(quick, full, argv.join(' '));
        t.deepEqual(requests.at(-2), requests.at(-1));
        t.like(requests.at(-1), { cmd: argv[0], cwd: home });
      }
      t.is(requests.length, 6);
    } finally {
      await new Promise((r) => server.close(r));
      await rm(home, { recursive: true, force: true });
    }
  });
}
