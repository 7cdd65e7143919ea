/**
 * One file-system suite, run two ways (as rclone's vfstest): directly
 * against the Vfs object (test/unit/vfs.test.ts) and through a real mount
 * served by another process (test/integration/mount.test.ts).
 */
import type { ExecutionContext, TestFn } from 'ava';
import { createHash } from 'node:crypto';

export interface FsStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  isFile: boolean;
  isDir: boolean;
  isSymlink: boolean;
}

/** The operations the suite needs; paths are relative to the root of the file system. */
export interface Oser {
  writeFile(p: string, data: Buffer): Promise<void>;
  readFile(p: string): Promise<Buffer>;
  /** Writes `data` at `pos` into an existing file, without truncating it. */
  writeAt(p: string, data: Buffer, pos: number): Promise<void>;
  lstat(p: string): Promise<FsStat>;
  readdir(p: string): Promise<string[]>;
  mkdir(p: string, mode?: number): Promise<void>;
  rmdir(p: string): Promise<void>;
  unlink(p: string): Promise<void>;
  rename(a: string, b: string): Promise<void>;
  symlink(target: string, p: string): Promise<void>;
  readlink(p: string): Promise<string>;
  link(a: string, b: string): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  utimes(p: string, atimeMs: number, mtimeMs: number): Promise<void>;
  truncate(p: string, size: number): Promise<void>;
  /**
   * Puts the file's current version on media. A version not yet flushed is
   * overwritten in place by the disk cache; an archived one gets a new
   * version: the suite archives before it checks versions.
   */
  archive?(p: string): Promise<void>;
}

const bytes = (n: number, seed: string) => {
  const out = Buffer.alloc(n);
  let h = createHash('sha256').update(seed).digest();
  for (let i = 0; i < n; i += h.length) {
    h.copy(out, i, 0, Math.min(h.length, n - i));
    h = createHash('sha256').update(h).digest();
  }
  return out;
};

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

export function runFsSuite(test: TestFn, name: string, fs: () => Oser): void {
  let n = 0;
  const dir = async (t: ExecutionContext): Promise<[Oser, string]> => {
    const o = fs();
    const d = `suite-${++n}-${t.title.replace(/[^a-z0-9]+/gi, '_').slice(0, 40)}`;
    await o.mkdir(d);
    return [o, d];
  };

  test(`${name}: files of every size round-trip, with st_blocks covering them`, async (t) => {
    const [o, d] = await dir(t);
    for (const size of [0, 1, 4096, 300_000, 1 << 20]) {
      const data = bytes(size, `f${size}`);
      await o.writeFile(`${d}/f${size}`, data);
      t.deepEqual(await o.readFile(`${d}/f${size}`), data, `size ${size}`);
      const st = await o.lstat(`${d}/f${size}`);
      t.true(st.isFile);
      t.is(st.size, size);
      t.is(st.blocks, Math.ceil(size / 512), `blocks of ${size}`);
    }
    t.deepEqual((await o.readdir(d)).sort(), ['f0', 'f1', 'f1048576', 'f300000', 'f4096']);
  });

  test(`${name}: partial writes and truncate`, async (t) => {
    const [o, d] = await dir(t);
    await o.writeFile(`${d}/a`, Buffer.from('hello world'));
    await o.writeAt(`${d}/a`, Buffer.from('HELLO'), 0);
    t.is((await o.readFile(`${d}/a`)).toString(), 'HELLO world');
    await o.truncate(`${d}/a`, 5);
    t.is((await o.readFile(`${d}/a`)).toString(), 'HELLO');
    await o.truncate(`${d}/a`, 8);
    t.deepEqual(await o.readFile(`${d}/a`), Buffer.concat([Buffer.from('HELLO'), Buffer.alloc(3)]));
  });

  test(`${name}: directories, empty ones too, and rmdir rules`, async (t) => {
    const [o, d] = await dir(t);
    await o.mkdir(`${d}/x`);
    await o.mkdir(`${d}/x/y`);
    await o.mkdir(`${d}/empty`);
    await o.writeFile(`${d}/x/y/f`, Buffer.from('f'));
    t.deepEqual((await o.readdir(d)).sort(), ['empty', 'x']);
    t.deepEqual(await o.readdir(`${d}/empty`), []);
    t.true((await o.lstat(`${d}/empty`)).isDir);
    t.is(await code(o.mkdir(`${d}/x`)), 'EEXIST');
    t.is(await code(o.rmdir(`${d}/x`)), 'ENOTEMPTY');
    t.is(await code(o.rmdir(`${d}/x/y/f`)), 'ENOTDIR');
    t.is(await code(o.mkdir(`${d}/nope/z`)), 'ENOENT');
    await o.rmdir(`${d}/empty`);
    t.is(await code(o.lstat(`${d}/empty`)), 'ENOENT');
  });

  test(`${name}: symlinks`, async (t) => {
    const [o, d] = await dir(t);
    await o.writeFile(`${d}/target`, Buffer.from('t'));
    await o.symlink('target', `${d}/ln`);
    await o.symlink('/elsewhere/dangling', `${d}/dangling`);
    const st = await o.lstat(`${d}/ln`);
    t.true(st.isSymlink);
    t.is(st.size, 'target'.length);
    t.is(await o.readlink(`${d}/ln`), 'target');
    t.is(await o.readlink(`${d}/dangling`), '/elsewhere/dangling');
    await o.unlink(`${d}/ln`);
    t.deepEqual((await o.readdir(d)).sort(), ['dangling', 'target']);
  });

  test(`${name}: rename of files (onto an existing one, as rsync does) and of whole directories`, async (t) => {
    const [o, d] = await dir(t);
    await o.writeFile(`${d}/b.txt`, Buffer.from('old'));
    await o.writeFile(`${d}/.b.txt.XyZ12`, Buffer.from('new contents'));
    await o.rename(`${d}/.b.txt.XyZ12`, `${d}/b.txt`);
    t.is((await o.readFile(`${d}/b.txt`)).toString(), 'new contents');
    t.deepEqual(await o.readdir(d), ['b.txt']);
    await o.mkdir(`${d}/tree`);
    await o.mkdir(`${d}/tree/sub`);
    await o.writeFile(`${d}/tree/sub/f`, Buffer.from('deep'));
    const ino = (await o.lstat(`${d}/tree/sub/f`)).ino;
    await o.rename(`${d}/tree`, `${d}/moved`);
    t.is((await o.readFile(`${d}/moved/sub/f`)).toString(), 'deep');
    t.is((await o.lstat(`${d}/moved/sub/f`)).ino, ino, 'inode numbers survive renames');
    t.is(await code(o.lstat(`${d}/tree`)), 'ENOENT');
    t.is(await code(o.rename(`${d}/moved`, `${d}/moved/sub/inside`)), 'EINVAL');
  });

  test(`${name}: mode and exact times are stored`, async (t) => {
    const [o, d] = await dir(t);
    await o.writeFile(`${d}/f`, Buffer.from('x'));
    await o.chmod(`${d}/f`, 0o640);
    t.is((await o.lstat(`${d}/f`)).mode & 0o7777, 0o640);
    const at = Date.UTC(2020, 1, 2, 3, 4, 5, 678);
    const mt = Date.UTC(2019, 5, 6, 7, 8, 9, 123);
    await o.utimes(`${d}/f`, at, mt);
    const st = await o.lstat(`${d}/f`);
    t.is(st.mtimeMs, mt);
    t.is(st.atimeMs, at);
    await o.mkdir(`${d}/dir`);
    await o.utimes(`${d}/dir`, at, mt);
    t.is((await o.lstat(`${d}/dir`)).mtimeMs, mt);
  });

  test(`${name}: odd names`, async (t) => {
    const [o, d] = await dir(t);
    const names = ['with space', 'ünïcødé-名前', 'x'.repeat(255), "quote'\"$`", '-dash', 'tab\there'];
    for (const nm of names) await o.writeFile(`${d}/${nm}`, Buffer.from(nm));
    t.deepEqual((await o.readdir(d)).sort(), [...names].sort());
    for (const nm of names) t.is((await o.readFile(`${d}/${nm}`)).toString(), nm);
  });

  test(`${name}: unlink, hard links refused`, async (t) => {
    const [o, d] = await dir(t);
    await o.writeFile(`${d}/f`, Buffer.from('x'));
    t.is(await code(o.link(`${d}/f`, `${d}/g`)), 'EPERM');
    await o.unlink(`${d}/f`);
    t.is(await code(o.lstat(`${d}/f`)), 'ENOENT');
    t.is(await code(o.unlink(`${d}/f`)), 'ENOENT');
  });

  test(`${name}: /.deimos is hidden from the root listing and shows versions`, async (t) => {
    const [o, d] = await dir(t);
    t.false((await o.readdir('')).includes('.deimos'));
    t.true((await o.lstat('.deimos')).isDir);
    t.deepEqual((await o.readdir('.deimos')).sort(), ['copies', 'versions']);
    await o.writeFile(`${d}/v`, Buffer.from('one'));
    await o.archive?.(`${d}/v`);
    await o.writeFile(`${d}/v`, Buffer.from('second'));
    t.deepEqual((await o.readdir(`.deimos/versions/${d}/v`)).sort(), ['1', '2']);
    t.is((await o.readFile(`.deimos/versions/${d}/v/1`)).toString(), 'one');
    t.is((await o.readFile(`.deimos/versions/${d}/v/2`)).toString(), 'second');
    t.true((await o.readdir(`.deimos/versions/${d}`)).includes('v'));
    const st = await o.lstat(`.deimos/versions/${d}/v/1`);
    t.is(st.size, 3);
    t.is(st.mode & 0o222, 0, 'versions are read-only');
    t.regex(await code(o.writeFile(`.deimos/versions/${d}/v/1`, Buffer.from('x'))), /^(EROFS|EACCES)$/);
    t.regex(await code(o.mkdir(`.deimos/versions/${d}/new`)), /^(EROFS|EACCES)$/);
    t.regex(await code(o.unlink(`.deimos/versions/${d}/v/1`)), /^(EROFS|EACCES)$/);
    // A deleted file keeps its versions.
    await o.unlink(`${d}/v`);
    t.true((await o.readdir(`.deimos/versions/${d}`)).includes('v'));
    t.is((await o.readFile(`.deimos/versions/${d}/v/2`)).toString(), 'second');
  });
}
