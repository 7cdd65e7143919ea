/**
 * Recalls through a real mount: a tree flushed to several cartridges and
 * released from the cache, then read back by many concurrent readers
 * (each blocks in open until its file is staged). The library has fewer
 * drives than the tree has cartridges, so one mount per cartridge needs
 * the scheduler to see each cartridge's requests together.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TmpStore } from '../helpers/cli.js';
import { libraryStore, mountChild, sh, type Mounted } from '../helpers/mountEnv.js';

let s: TmpStore;
let m: Mounted;

test.before(async () => {
  // Two drives for four cartridges. An idle cartridge stays loaded until a drive is needed (the
  // default idle unload, 600 s, is 0.6 s at this time scale: a slow reader would look like a second
  // burst). Files are flushed when asked only, so that each part is one group on one cartridge.
  s = await libraryStore({ DEIMOS_LIBRARY_DRIVES: 'st[0-1]', DEIMOS_LRS_IDLE_UNLOAD_S: '0', DEIMOS_CACHE_FLUSH_AGE_MS: '3600000' });
  m = await mountChild(s);
});

test.after.always(async () => {
  const code = await m?.stop();
  if (code !== 0 && m) console.error(`deimos mount exited ${code}:\n${m.log().slice(-4000)}`);
  await s?.cleanup();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const attr = (f: string, name: string) => sh(`getfattr --only-values -n user.deimos.${name} '${f}'`);

interface Status { mounts: number; reads: number; drives: { drive: string; loaded: string | null }[] }

async function status(): Promise<Status> {
  return JSON.parse(await s.ok(['status', '-f', 'json'])) as Status;
}

test.serial('a tree on several cartridges, released, then read by 32 concurrent readers: one mount per cartridge, same bytes', async (t) => {
  const src = join(s.root, 'src');
  const expected = new Map<string, string>();
  const cartridges: string[] = [];
  // Each part is flushed on its own, then its cartridge locked, so the next part goes to another one.
  for (let part = 0; part < 4; part++) {
    const dir = join(src, `part${part}`);
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < 8; i++) {
      const data = randomBytes(64 * 1024 + part * 1000 + i);
      await writeFile(join(dir, `f${i}.bin`), data);
      expected.set(`part${part}/f${i}.bin`, sha(data));
    }
    await sh(`cp -a '${dir}' '${m.mnt}/'`);
    await s.ok(['flush', '--wait', join(m.mnt, `part${part}`)]);
    const media = new Set((await sh(`for f in '${m.mnt}/part${part}'/*; do getfattr --only-values -n user.deimos.media "$f"; echo; done`)).trim().split('\n'));
    t.is(media.size, 1, `part${part} was written as one group on one cartridge`);
    const [label] = [...media];
    t.false(cartridges.includes(label!), `part${part} went to a cartridge of its own`);
    cartridges.push(label!);
    await s.ok(['tape', 'lock', label!]);
  }
  for (const c of cartridges) await s.ok(['tape', 'unlock', c]);
  await sh(`find '${m.mnt}' -path '${m.mnt}/.deimos' -prune -o -type f -exec setfattr -n user.deimos.release -v 1 {} +`);
  for (const rel of expected.keys()) t.is(await attr(join(m.mnt, rel), 'state'), 'offline', rel);
  for (const d of (await status()).drives) if (d.loaded !== null) await s.ok(['drive', 'unload', d.drive]);

  const before = await status();
  t.true(before.drives.every((d) => d.loaded === null), 'every cartridge is back in its slot');
  const out = await sh(`cd '${m.mnt}' && find part* -type f -print0 | xargs -0 -P 32 -n 1 sha256sum`);
  const after = await status();

  const got = new Map(out.trim().split('\n').map((l) => { const [h, f] = l.split(/\s+/); return [f!, h!] as const; }));
  t.deepEqual(new Map([...got].sort()), new Map([...expected].sort()), 'every file read back with its bytes');
  t.is(after.reads - before.reads, expected.size, 'one tape read per file');
  t.is(after.mounts - before.mounts, cartridges.length, `one mount per cartridge (${cartridges.join(', ')})`);
  t.log(`${expected.size} files on ${cartridges.length} cartridges, 2 drives, 32 readers: ${after.mounts - before.mounts} mounts`);
});

test.serial('while a recall waits for its cartridge, the rest of the mount answers', async (t) => {
  // 17 s loads take 2.6 s here (robot move and locate on top): the recall below waits at least that long.
  const s2 = await libraryStore({ DEIMOS_LIBRARY_TIME_SCALE: '0.15', DEIMOS_CACHE_FLUSH_AGE_MS: '3600000' });
  const m2 = await mountChild(s2);
  try {
    const cold = randomBytes(1 << 20);
    await writeFile(join(m2.mnt, 'cold.bin'), cold);
    await writeFile(join(m2.mnt, 'warm.txt'), 'in the cache\n');
    await s2.ok(['flush', '--wait', join(m2.mnt, 'cold.bin'), join(m2.mnt, 'warm.txt')]);
    await sh(`setfattr -n user.deimos.release -v 1 '${m2.mnt}/cold.bin'`);
    const drives = JSON.parse(await s2.ok(['status', '-f', 'json'])) as Status;
    for (const d of drives.drives) if (d.loaded !== null) await s2.ok(['drive', 'unload', d.drive]);

    let done = false;
    const reader = sh(`sha256sum < '${m2.mnt}/cold.bin'`).finally(() => { done = true; });
    for (let i = 0; (await attr(join(m2.mnt, 'cold.bin'), 'state')) !== 'staging'; i++) {
      if (i === 500 || done) throw new Error('the open never showed the file staging');
      await new Promise((r) => setTimeout(r, 20));
    }
    t.regex(await sh(`ls -lR '${m2.mnt}'`), /cold\.bin/);
    t.is(await sh(`cat '${m2.mnt}/warm.txt'`), 'in the cache\n');
    await sh(`mkdir '${m2.mnt}/new' && echo fresh > '${m2.mnt}/new/f' && mv '${m2.mnt}/new/f' '${m2.mnt}/new/g'`);
    t.is(await sh(`cat '${m2.mnt}/new/g'`), 'fresh\n');
    t.regex(await s2.ok(['status']), /queues:/);
    t.false(done, 'all of this happened while the reader was still blocked in open');
    t.is((await reader).split(/\s/)[0], sha(cold));
    t.is(await attr(join(m2.mnt, 'cold.bin'), 'state'), 'online');
  } finally {
    await m2.stop();
    await s2.cleanup();
  }
});
