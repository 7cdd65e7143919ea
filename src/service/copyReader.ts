import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ObjectRow } from '../catalog/index.js';
import type { CopyReader } from '../fs/index.js';
import type { Service } from './service.js';

/**
 * Reads one copy of a version (for /.deimos/copies/PATH/COPY) into a private
 * temporary file, read from there and removed on close. The copy is read
 * whole at open, as a recall is: the open waits for the tape, reads do not.
 */
export async function openCopy(svc: Service, obj: ObjectRow, copyName: string): Promise<CopyReader> {
  const dir = join(svc.paths.home, 'tmp');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `copy-${obj.uuid}.${obj.version}.${randomBytes(4).toString('hex')}`);
  const fh = await open(path, 'w+', 0o600);
  try {
    await svc.store.read({
      object: obj, copyName,
      sink: {
        async write(buf, offset) {
          for (let done = 0; done < buf.length;) done += (await fh.write(buf, done, buf.length - done, offset + done)).bytesWritten;
        },
      },
    });
  } catch (e) {
    await fh.close();
    await unlink(path).catch(() => undefined);
    throw e;
  }
  return {
    read: async (buf, length, position) => (await fh.read(buf, 0, length, position)).bytesRead,
    close: async () => {
      await fh.close();
      await unlink(path).catch(() => undefined);
    },
  };
}
