// Ad-hoc: writeObject + readObject of a 1 GiB file on one directory medium
// against cp of the same file, in interleaved rounds (the machine is shared:
// compare side by side, look at best and median, and at CPU seconds).
//
//   npx tsc -p . && node test/bench/layout-1g.mjs DIR [ROUNDS]
//   env: SIZE (bytes, default 1 GiB), SRC_CHUNK (source read size, default 4 MiB
//   like store.io_block_size), FSYNC=0|1 (default 1), RECYCLE=0|1 (default 1)
//
// DIR holds the source file (created from /dev/urandom if missing), the
// medium and the outputs; use a disk directory and /dev/shm to separate
// file-system costs from the layout's own.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src');
const { writeObject, readObject } = await import(join(dist, 'layout/index.js'));
const { formatPosixMedium } = await import(join(dist, 'media/index.js'));
const { DirPool } = await import(join(dist, 'scheduler/dirPool.js'));
const { openCatalog } = await import(join(dist, 'catalog/index.js'));

const root = process.argv[2] ?? '/tmp/deimos-bench';
const rounds = Number(process.argv[3] ?? 5);
const SIZE = Number(process.env.SIZE ?? 1 << 30);
const CHUNK = Number(process.env.SRC_CHUNK ?? 4 << 20);
const fsync = process.env.FSYNC !== '0';
const recycle = process.env.RECYCLE !== '0';
const sh = (c) => execFileSync('bash', ['-c', c]).toString();
const ATTRS = { mode: 0o100644, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 };

await mkdir(root, { recursive: true });
const src = join(root, 'src.bin');
if (!existsSync(src) || (await stat(src)).size !== SIZE) sh(`head -c ${SIZE} /dev/urandom > ${src}`);
const work = join(root, 'layout-bench');
await rm(work, { recursive: true, force: true });
const medium = join(work, 'medium');
await mkdir(medium, { recursive: true });
await formatPosixMedium(medium, medium);
const catalog = await openCatalog(join(work, 'catalog.db'));
await catalog.addMedia([{ family: 'dir', name: medium, admStatus: 'unlocked' }]);
const pool = new DirPool({ catalog, fsync });
const ctx = { scheduler: pool, blockSize: 4 << 20, checksums: ['xxh128'] };

// Like store/files.ts openFileSource, plus ObjectSource.recycle when RECYCLE=1.
const fh = await open(src, 'r');
const free = [];
const source = {
  size: SIZE,
  ...(recycle ? { recycle: (b) => free.push(Buffer.from(b.buffer, b.byteOffset, CHUNK)) } : {}),
  async *read(offset, length) {
    for (let pos = offset; pos < offset + length;) {
      const want = Math.min(CHUNK, offset + length - pos);
      const buf = free.pop() ?? Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  },
};

async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, value };
}
function timedShell(cmd) {
  const [wall, user, sys] = sh(`TIMEFORMAT="%R %U %S"; { time (${cmd}) ; } 2>&1`).trim().split(/\s+/).map(Number);
  return { wall, cpu: user + sys };
}

async function putOnce(oid) {
  const res = await catalog.beginPut({ oid, overwrite: true, owner: process.pid });
  const t = await timed(() => writeObject(ctx, {
    header: { oid, uuid: res.uuid, version: res.version, copyName: 'source' },
    layout: { name: 'raid1', params: { repl_count: '1' } }, family: 'dir', tags: [], grouping: null, source,
    onPending: (x) => catalog.addPendingExtents(res, x),
  }));
  return { t, res, written: t.value };
}

const rows = { cp: [], dd: [], get: [], cpSync: [], put: [] };
const out = join(work, 'out');
sh(`cat ${src} > /dev/null`);
const kept = await putOnce('kept');
await catalog.commitPut({
  reservation: kept.res, size: SIZE, userMd: {}, attrs: ATTRS, grouping: null,
  copy: { copyName: 'source', family: 'dir', layout: kept.written.layout, status: 'complete' }, extents: kept.written.extents,
});
const extents = await catalog.listExtents({ uuid: kept.res.uuid, version: kept.res.version, state: 'sync' });
for (let r = 0; r < rounds; r++) {
  sh(`sync; rm -f ${out}`);
  rows.cpSync.push(timedShell(`cp ${src} ${out} && sync -f ${out}`));
  sh(`sync; rm -f ${out}`);
  const p = await putOnce('scratch');
  rows.put.push(p.t);
  const orphans = await catalog.abortPut(p.res);
  for (const o of orphans) await (await pool.openForDelete('dir', o.medium)).deleteExtent(o.address);
  await catalog.removeExtents(orphans.map((o) => o.id));
  sh('sync');
  rows.cp.push(timedShell(`cp ${src} ${out}`));
  sh(`sync; rm -f ${out}`);
  // A copy through user space, as ours is: cp moves the bytes inside the kernel (copy_file_range).
  rows.dd.push(timedShell(`dd if=${src} of=${out} bs=512K status=none`));
  sh(`sync; rm -f ${out}`);
  rows.get.push(await timed(async () => {
    const o = await open(out, 'w');
    const sink = { async write(buf, offset) { for (let d = 0; d < buf.length;) d += (await o.write(buf, d, buf.length - d, offset + d)).bytesWritten; } };
    const report = await readObject(ctx, { extents, layout: kept.written.layout, size: SIZE, sink });
    await o.close();
    if (report.bad.length) throw new Error('bad extents');
  }));
}
sh(`cmp ${src} ${out}`);

const best = (a, k) => Math.min(...a.map((x) => x[k]));
const med = (a, k) => a.map((x) => x[k]).sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mbs = (s) => `${(SIZE / 1e6 / s).toFixed(0)} MB/s`;
console.log(`${root}: ${SIZE} bytes, source chunk ${CHUNK >> 10} KiB, fsync=${fsync}, recycle=${recycle}, ${rounds} rounds, load ${loadavg()[0].toFixed(1)}`);
for (const [name, ref, a, b] of [['get', 'cp', rows.get, rows.cp], ['get', 'dd', rows.get, rows.dd], ['put', 'cp+sync', rows.put, rows.cpSync]]) {
  console.log(`  ${name.padEnd(4)} wall best ${best(a, 'wall').toFixed(2)} s (${mbs(best(a, 'wall'))}) median ${med(a, 'wall').toFixed(2)} s, cpu median ${med(a, 'cpu').toFixed(2)} s`);
  console.log(`  ${ref.padEnd(7)} wall best ${best(b, 'wall').toFixed(2)} s (${mbs(best(b, 'wall'))}) median ${med(b, 'wall').toFixed(2)} s, cpu median ${med(b, 'cpu').toFixed(2)} s`);
  console.log(`  ${name} speed / ${ref} speed: best ${(best(b, 'wall') / best(a, 'wall')).toFixed(2)}x, median ${(med(b, 'wall') / med(a, 'wall')).toFixed(2)}x`);
}
await fh.close();
await pool.close();
await catalog.close();
await rm(work, { recursive: true, force: true });
