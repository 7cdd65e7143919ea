import { constants } from 'node:fs';
import { access, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DeimosError } from '../core/errors.js';

/** The file that makes a directory a Deimos medium. */
export const LABEL_FILE = '.deimos-medium';

export interface PosixLabel {
  name: string;
  family: 'dir';
  fsType: 'posix';
  createdAt: number;
}

/**
 * Makes `path` a directory medium called `name`. Re-formatting with the
 * same name is a no-op; another name is refused unless `force`, so two
 * catalog entries never claim the same directory by accident.
 */
export async function formatPosixMedium(path: string, name: string, opts: { force?: boolean } = {}): Promise<PosixLabel> {
  await checkDirectory(path, true);
  const existing = await readLabel(path);
  if (existing && existing.name === name) return existing;
  if (existing && !opts.force) {
    throw new DeimosError('EEXIST', `directory ${path} is already labelled as medium '${existing.name}'`,
      `add it under that name, or format it again with --force to relabel it '${name}'`);
  }
  const label: PosixLabel = { name, family: 'dir', fsType: 'posix', createdAt: Date.now() };
  await writeFileDurably(path, LABEL_FILE, Buffer.from(JSON.stringify(label, null, 2) + '\n'));
  return label;
}

/** The label of `path`, or null when the directory holds none. */
export async function readLabel(path: string): Promise<PosixLabel | null> {
  let text: string;
  try {
    text = await readFile(join(path, LABEL_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(e, path, 'read the label of');
  }
  let label: Partial<PosixLabel>;
  try {
    label = JSON.parse(text) as Partial<PosixLabel>;
  } catch {
    label = {};
  }
  if (typeof label.name !== 'string' || label.family !== 'dir') {
    throw new DeimosError('EIO', `label ${join(path, LABEL_FILE)} is damaged`, `format the directory again with --force (deimos dir format ${path})`);
  }
  return label as PosixLabel;
}

/** Clear errors for the usual mistakes: a path that is missing, a file, or not writable. */
export async function checkDirectory(path: string, writable: boolean): Promise<void> {
  try {
    const st = await stat(path);
    if (!st.isDirectory()) throw new DeimosError('ENOTDIR', `${path} is not a directory`, 'a directory medium must be a directory');
    await access(path, writable ? constants.R_OK | constants.W_OK | constants.X_OK : constants.R_OK | constants.X_OK);
  } catch (e) {
    if (e instanceof DeimosError) throw e;
    throw fsError(e, path, 'use');
  }
}

export function fsError(e: unknown, path: string, verb: string): DeimosError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DeimosError('ENOENT', `cannot ${verb} ${path}: no such directory`, `create it first (mkdir -p ${path})`, { cause: e });
  if (code === 'ENOTDIR') return new DeimosError('ENOTDIR', `cannot ${verb} ${path}: a component is not a directory`, 'check the path', { cause: e });
  if (code === 'EACCES' || code === 'EPERM') {
    return new DeimosError('EACCES', `cannot ${verb} ${path}: permission denied`, 'the Deimos service needs read, write and search rights on it', { cause: e });
  }
  return new DeimosError('EIO', `cannot ${verb} ${path}: ${(e as Error).message}`, undefined, { cause: e });
}

/** tmp + fsync + rename + fsync(dir): after a crash the file is either the old one or the new one, whole. */
export async function writeFileDurably(dir: string, name: string, data: Buffer): Promise<void> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${Date.now()}`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw fsError(e, dir, 'write in');
  }
  await fh.close();
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
