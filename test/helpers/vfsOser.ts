/** The file-system suite's operations done directly on a Vfs (no FUSE), as one caller. */
import type { Vfs } from '../../src/fs/index.js';
import { O_TRUNC, O_WRONLY, ROOT_CALLER, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type Caller } from '../../src/fs/index.js';
import type { FsStat, Oser } from './fsSuite.js';

const CHUNK = 128 * 1024;
const abs = (p: string) => '/' + p;

export function vfsOser(vfs: Vfs, caller: Caller = ROOT_CALLER, archive?: (p: string) => Promise<void>): Oser {
  const writeAll = async (fd: number, data: Buffer, pos: number) => {
    for (let off = 0; off < data.length; off += CHUNK) {
      const part = data.subarray(off, Math.min(off + CHUNK, data.length));
      await vfs.write(fd, part, part.length, pos + off);
    }
  };
  const exists = (p: string) => vfs.getattr(abs(p)).then(() => true, () => false);
  return {
    archive,
    async writeFile(p, data) {
      const fd = (await exists(p)) ? await vfs.open(abs(p), O_WRONLY | O_TRUNC, caller) : await vfs.create(abs(p), S_IFREG | 0o644, O_WRONLY, caller);
      try {
        await writeAll(fd, data, 0);
      } finally {
        await vfs.release(fd);
      }
    },
    async readFile(p) {
      const st = await vfs.getattr(abs(p));
      const fd = await vfs.open(abs(p), 0, caller);
      try {
        const out = Buffer.alloc(st.size);
        let pos = 0;
        while (pos < st.size) {
          const n = await vfs.read(fd, out.subarray(pos), Math.min(CHUNK, st.size - pos), pos);
          if (n === 0) break;
          pos += n;
        }
        return out.subarray(0, pos);
      } finally {
        await vfs.release(fd);
      }
    },
    async writeAt(p, data, pos) {
      const fd = await vfs.open(abs(p), O_WRONLY, caller);
      try {
        await writeAll(fd, data, pos);
      } finally {
        await vfs.release(fd);
      }
    },
    async lstat(p): Promise<FsStat> {
      const s = await vfs.getattr(abs(p));
      const type = s.mode & S_IFMT;
      return {
        mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, ino: s.ino, blocks: s.blocks, atimeMs: s.atime, mtimeMs: s.mtime,
        isFile: type === S_IFREG, isDir: type === S_IFDIR, isSymlink: type === S_IFLNK,
      };
    },
    async readdir(p) {
      return (await vfs.readdir(abs(p))).names.filter((n) => n !== '.' && n !== '..');
    },
    mkdir: (p, mode = 0o755) => vfs.mkdir(abs(p), mode, caller),
    rmdir: (p) => vfs.rmdir(abs(p), caller),
    unlink: (p) => vfs.unlink(abs(p), caller),
    rename: (a, b) => vfs.rename(abs(a), abs(b), caller),
    symlink: (target, p) => vfs.symlink(target, abs(p), caller),
    readlink: (p) => vfs.readlink(abs(p)),
    link: (a, b) => vfs.link(abs(a), abs(b)),
    chmod: (p, mode) => vfs.chmod(abs(p), mode, caller),
    utimes: (p, at, mt) => vfs.utimens(abs(p), at, mt, caller),
    truncate: (p, size) => vfs.truncate(abs(p), size, caller),
  };
}
