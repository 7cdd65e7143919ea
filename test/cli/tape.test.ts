import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpStore, type TmpStore } from '../helpers/cli.js';

/** The sim library on the scaled real clock: a 17 s load takes 17 ms. */
const SIM = { DEIMOS_LIBRARY_TIME_SCALE: '0.001', DEIMOS_LIBRARY_CAPACITY_LTO9: '2G', DEIMOS_LIBRARY_CAPACITY_LTO8: '1G' };

async function library(s: TmpStore, tapes = 'L[00000-00003]L9'): Promise<void> {
  await s.ok(['drive', 'add', '--unlock', 'st[0-3]']);
  await s.ok(['tape', 'add', '--type', 'LTO9', '--unlock', tapes]);
  await s.ok(['tape', 'format', tapes]);
}

test('tape tier end to end through the CLI on the scaled real clock', async (t) => {
  const s = await tmpStore(SIM);
  try {
    await library(s);
    const list = JSON.parse(await s.ok(['tape', 'list', '-o', 'name,fs_status,model', '-f', 'json']));
    t.deepEqual(list.map((m: { fs_status: string }) => m.fs_status), ['empty', 'empty', 'empty', 'empty']);

    const files: Record<string, Buffer> = {};
    for (const [oid, layout] of [['a/r1', ['--lyt-params', 'repl_count=2']], ['a/r4', ['--layout', 'raid4']], ['a/plain', []]] as const) {
      files[oid] = randomBytes(1 << 20);
      await writeFile(join(s.root, 'src'), files[oid]!);
      await s.ok(['put', '--family', 'tape', ...layout, 'src', oid]);
    }
    const ext = JSON.parse(await s.ok(['extent', 'list', 'a/r1', 'a/r4', '-o', 'oid,medium,family', '-f', 'json']));
    const media = (oid: string) => new Set(ext.filter((e: { oid: string }) => e.oid === oid).map((e: { medium: string }) => e.medium));
    t.is(media('a/r1').size, 2, 'raid1 replicas on two cartridges');
    t.is(media('a/r4').size, 3, 'raid4 on three cartridges');
    t.true(ext.every((e: { family: string }) => e.family === 'tape'));

    await writeFile(join(s.root, 'list'), Object.keys(files).map((oid, i) => `${oid} out${i}`).join('\n'));
    await s.ok(['get', '--file', 'list']);
    let i = 0;
    for (const data of Object.values(files)) t.deepEqual(await readFile(join(s.root, `out${i++}`)), data);

    const scan = JSON.parse(await s.ok(['lib', 'scan', '-o', 'all', '-f', 'json']));
    t.is(scan.filter((x: { type: string }) => x.type === 'drive').length, 4);
    t.is(scan.filter((x: { type: string }) => x.type === 'slot').length, 40);
    const loaded = scan.filter((x: { type: string; medium: string | null }) => x.type === 'drive' && x.medium).map((x: { medium: string }) => x.medium);
    // Library state survives the restart of the (in-process) service between commands.
    for (const label of loaded) t.regex(await s.ok(['tape', 'locate', label]), /^drive st\d/);
    const logs = JSON.parse(await s.ok(['logs', 'dump', '-o', 'cause,errno', '-f', 'json']));
    t.true(logs.some((l: { cause: string; errno: number }) => l.cause === 'load' && l.errno === 0));
    const status = JSON.parse(await s.ok(['status', '-f', 'json']));
    for (const k of ['mounts', 'syncs', 'locate_s', 'bytes_read', 'bytes_written']) t.is(typeof status[k], 'number', k);
    // Each command above was a service run of its own: the counters are totals over all of them.
    t.true(status.mounts >= 3, `mounts ${status.mounts}`);
    t.true(status.syncs >= 3, `syncs ${status.syncs}`);
    t.is(status.writes, 2 + 3 + 1, 'extents written by the three puts');
    t.is(status.reads, 1 + 2 + 1, 'extents read by the get');
    t.is(status.bytes_read, (1 << 20) + (1 << 20) + (1 << 20));
    await s.ok(['get', 'a/plain', 'again']);
    const after = JSON.parse(await s.ok(['status', '-f', 'json']));
    t.is(after.reads, status.reads + 1);
    t.is(after.bytes_read, status.bytes_read + (1 << 20));
    t.true(after.mounts >= status.mounts);
  } finally {
    await s.cleanup();
  }
});

test('tape commands refuse bad input with errno exit codes', async (t) => {
  const s = await tmpStore(SIM);
  try {
    t.is((await s.run(['drive', 'add', 'st9'])).code, 2);
    t.is((await s.run(['tape', 'add', '--type', 'LTO9', 'NOPE01L9'])).code, 2);
    const wrongType = await s.run(['tape', 'add', '--type', 'LTO8', 'L00000L9']);
    t.is(wrongType.code, 22);
    t.regex(wrongType.stderr, /is LTO9, not LTO8/);
    await s.ok(['tape', 'add', '--type', 'LTO9', 'L00000L9']);
    t.is((await s.run(['tape', 'add', '--type', 'LTO9', 'L00000L9'])).code, 17);
    await s.ok(['drive', 'add', '--unlock', 'st0']);
    await writeFile(join(s.root, 'f'), 'x');
    const nospace = await s.run(['put', '--family', 'tape', 'f', 'o']);
    t.is(nospace.code, 28, nospace.stderr);
    t.regex(nospace.stderr, /tape format|tape add|unlock/);
  } finally {
    await s.cleanup();
  }
});

test('no drive added: format, put and get fail with ENODEV and one line naming the drive to add', async (t) => {
  const s = await tmpStore(SIM);
  try {
    const line = (what: string) => `deimos: no drive added and unlocked that can ${what} LTO9 cartridges; add one: deimos drive add --unlock st0\n`;
    await s.ok(['tape', 'add', '--type', 'LTO9', '--unlock', 'L00000L9']);
    const fmt = await s.run(['tape', 'format', 'L00000L9']);
    t.is(fmt.code, 19, fmt.stderr);
    t.is(fmt.stderr, line('format'));
    await writeFile(join(s.root, 'f'), 'tape data');
    const put = await s.run(['put', '--family', 'tape', 'f', 'o']);
    t.is(put.code, 19, put.stderr);
    t.is(put.stderr, line('write'));

    await s.ok(['drive', 'add', '--unlock', 'st0']);
    await s.ok(['tape', 'format', 'L00000L9']);
    await s.ok(['put', '--family', 'tape', 'f', 'o']);
    await s.ok(['drive', 'unload', 'st0']);
    await s.ok(['drive', 'delete', 'st0']);
    const get = await s.run(['get', 'o', 'out0']);
    t.is(get.code, 19, get.stderr);
    t.is(get.stderr, line('read'), 'the refusal, not an "extents lost" error');

    await s.ok(['drive', 'add', '--unlock', 'st0']);
    await s.ok(['get', 'o', 'out1']);
    t.is(await readFile(join(s.root, 'out1'), 'utf8'), 'tape data');
  } finally {
    await s.cleanup();
  }
});

test('drive load/unload by hand: one drive per cartridge, generation rules', async (t) => {
  const s = await tmpStore({ ...SIM, DEIMOS_LIBRARY_DRIVE_MODEL: 'st0=LTO8,st1=LTO9,st2=LTO9,st3=LTO9' });
  try {
    await s.ok(['drive', 'add', '--unlock', 'st[0-1]']);
    await s.ok(['tape', 'add', '--type', 'LTO9', 'L00005L9', 'L00006L9']);
    const gen = await s.run(['drive', 'load', 'st0', 'L00005L9']);
    t.is(gen.code, 124, gen.stderr); // EMEDIUMTYPE: an LTO-8 drive does not take LTO-9
    await s.ok(['drive', 'load', 'st1', 'L00005L9']);
    t.is((await s.ok(['tape', 'locate', 'L00005L9'])).trim(), 'drive st1');
    await s.ok(['drive', 'lock', 'st0']);
    t.is((await s.run(['drive', 'load', 'st0', 'L00006L9'])).code, 1, 'a locked drive is refused (EPERM)');
    await s.ok(['drive', 'load', 'st1', 'L00006L9']);
    t.is((await s.ok(['tape', 'locate', 'L00005L9'])).trim(), 'slot 5');
    await s.ok(['drive', 'unload', 'st1']);
    t.is((await s.ok(['tape', 'locate', 'L00006L9'])).trim(), 'slot 6');
    const logs = JSON.parse(await s.ok(['logs', 'dump', '--drive', 'st1', '-o', 'cause,medium', '-f', 'json']));
    t.deepEqual(logs.map((l: { cause: string; medium: string }) => `${l.cause} ${l.medium}`), ['load L00005L9', 'unload L00005L9', 'load L00006L9', 'unload L00006L9']);
    const status = JSON.parse(await s.ok(['drive', 'status', '-o', 'name,loaded', '-f', 'json']));
    t.true(status.every((d: { loaded: string | null }) => d.loaded === null));
  } finally {
    await s.cleanup();
  }
});

test('sched fair_share shows and sets per-model shares, kept across restarts', async (t) => {
  const s = await tmpStore({ ...SIM, DEIMOS_IO_SCHED_FAIR_SHARE_MAX: 'LTO9=format:1' });
  try {
    const before = JSON.parse(await s.ok(['sched', 'fair_share', '-f', 'json']));
    t.deepEqual(before.find((r: { type: string }) => r.type === 'format'), { model: 'LTO9', type: 'format', min: 0, max: 1 });
    await s.ok(['sched', 'fair_share', '--type', 'LTO9', '--min', '1,1,0', '--max', '4,2,1']);
    const after = JSON.parse(await s.ok(['sched', 'fair_share', '--type', 'LTO9', '-f', 'json']));
    t.deepEqual(after.map((r: { type: string; min: number; max: number }) => [r.type, r.min, r.max]), [['read', 1, 4], ['write', 1, 2], ['format', 0, 1]]);
    t.is((await s.run(['sched', 'fair_share', '--min', '1,1,0'])).code, 22, 'a change needs --type');
  } finally {
    await s.cleanup();
  }
});
