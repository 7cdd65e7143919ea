/** The file-system suite's operations through a real mount, with Node's asynchronous fs (the mount is served by another process). */
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type { FsStat, Oser } from './fsSuite.js';

export function nodeOser(root: string, archive?: (path: string) => Promise<void>): Oser {
  const at = (p: string) => (p === '' ? root : join(root, p));
  return {
    writeFile: (p, data) => fs.writeFile(at(p), data),
    readFile: (p) => fs.readFile(at(p)),
    async writeAt(p, data, pos) {
      const fh = await fs.open(at(p), 'r+');
      try {
        await fh.write(data, 0, data.length, pos);
      } finally {
        await fh.close();
      }
    },
    async lstat(p): Promise<FsStat> {
      const s = await fs.lstat(at(p));
      return {
        mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, ino: s.ino, blocks: s.blocks, atimeMs: s.atimeMs, mtimeMs: s.mtimeMs,
        isFile: s.isFile(), isDir: s.isDirectory(), isSymlink: s.isSymbolicLink(),
      };
    },
    readdir: (p) => fs.readdir(at(p)),
    mkdir: async (p, mode = 0o755) => { await fs.mkdir(at(p), { mode }); },
    rmdir: (p) => fs.rmdir(at(p)),
    unlink: (p) => fs.unlink(at(p)),
    rename: (a, b) => fs.rename(at(a), at(b)),
    symlink: (target, p) => fs.symlink(target, at(p)),
    readlink: (p) => fs.readlink(at(p)),
    link: (a, b) => fs.link(at(a), at(b)),
    chmod: (p, mode) => fs.chmod(at(p), mode),
    utimes: (p, a, m) => fs.utimes(at(p), a / 1000, m / 1000),
    truncate: (p, size) => fs.truncate(at(p), size),
    archive: archive && ((p) => archive(at(p))),
  };
}
