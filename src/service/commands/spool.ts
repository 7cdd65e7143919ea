import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectRow } from '../../catalog/index.js';
import type { ObjectSink, ObjectSource } from '../../layout/index.js';
import { AtomicFile, openFileSource } from '../../store/index.js';
import type { Service } from '../service.js';

/**
 * Reads an object into a temporary file of the store's home and opens it as a
 * source (copy create reads one copy to write another).
 */
export async function spoolObject(svc: Service, obj: ObjectRow, fill: (sink: ObjectSink) => Promise<unknown>): Promise<ObjectSource & { close(): Promise<void> }> {
  const dir = join(svc.paths.home, 'tmp');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${obj.uuid}.${obj.version}.${process.pid}`);
  const file = await AtomicFile.create(path);
  try {
    await fill(file);
    await file.truncate(obj.size);
    await file.commit({ fsync: false });
  } catch (e) {
    await file.abort();
    throw e;
  }
  const src = await openFileSource(path, svc.store.blockSizeBytes);
  return { ...src, close: async () => { await src.close(); await unlink(path).catch(() => undefined); } };
}
