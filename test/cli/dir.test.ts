import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpStore } from '../helpers/cli.js';

test('dir add/format/list/lock/unlock/update/delete with ranges and tags', async (t) => {
  const s = await tmpStore();
  try {
    await s.dirs(3, 'disk');
    await s.ok(['dir', 'add', '--tags', 'hdd', `${s.root}/disk[0-2]`]);
    const added = JSON.parse(await s.ok(['dir', 'list', '-o', 'name,adm_status,fs_status,tags', '-f', 'json']));
    t.deepEqual(added.map((m: { name: string }) => m.name), [0, 1, 2].map((i) => join(s.root, `disk${i}`)));
    t.true(added.every((m: { adm_status: string; fs_status: string; tags: string[] }) => m.adm_status === 'locked' && m.fs_status === 'blank' && m.tags[0] === 'hdd'));
    t.is((await s.run(['dir', 'add', join(s.root, 'disk0')])).code, 17);
    t.is((await s.run(['dir', 'add', join(s.root, 'nowhere')])).code, 2);
    t.is((await s.run(['dir', 'format', '--fs', 'ltfs', join(s.root, 'disk0')])).code, 22);

    await s.ok(['dir', 'format', '--fs', 'posix', `${s.root}/disk[0-2]`]);
    t.is((await s.run(['dir', 'format', join(s.root, 'disk0')])).code, 17, 'formatting twice needs --force');
    await writeFile(join(s.root, 'f'), 'bytes');
    // Formatted but locked: nothing to write on.
    t.is((await s.run(['put', 'f', 'o1'])).code, 28);
    await s.ok(['dir', 'unlock', join(s.root, 'disk1')]);
    await s.ok(['dir', 'update', '--tags', 'ssd,fast', join(s.root, 'disk1')]);
    t.is((await s.run(['put', '--tags', 'hdd', 'f', 'o1'])).code, 28, 'no unlocked hdd medium');
    await s.ok(['put', '--tags', 'fast', 'f', 'o1']);
    t.is((await s.ok(['dir', 'list', '--tags', 'fast'])).trim(), join(s.root, 'disk1'));
    const used = JSON.parse(await s.ok(['dir', 'list', join(s.root, 'disk1'), '-o', 'fs_status,nb_obj,size_total', '-f', 'json']));
    t.is(used[0].fs_status, 'used');
    t.is(used[0].nb_obj, 1);
    t.true(used[0].size_total > 0);
    const busy = await s.run(['dir', 'delete', join(s.root, 'disk1')]);
    t.is(busy.code, 16, busy.stderr);
    await s.ok(['dir', 'lock', join(s.root, 'disk1')]);
    await s.ok(['dir', 'delete', `${s.root}/disk[0,2]`]);
    t.is((await s.ok(['dir', 'list'])).trim(), join(s.root, 'disk1'));
  } finally {
    await s.cleanup();
  }
});

test('-v and -q change the log level; logs go to stderr, never stdout', async (t) => {
  const s = await tmpStore();
  try {
    const [d] = await s.dirs(1);
    const quiet = await s.run(['dir', 'add', d!]);
    t.is(quiet.stdout, '');
    const loud = await s.run(['-vvv', 'dir', 'list']);
    t.is(loud.code, 0);
    t.true(loud.stdout.trim() === d);
    t.regex(loud.stderr, /"level":20.*in-process/);
    const err = await s.run(['-q', '-q', '-q', '-q', 'get', 'x', 'y']);
    t.is(err.code, 2);
  } finally {
    await s.cleanup();
  }
});
