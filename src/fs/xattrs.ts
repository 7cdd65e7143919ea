/**
 * Extended attributes. `user.deimos.*` is ours: read-only status (state,
 * version, copies, media) and actions triggered by setting them (stage,
 * flush, release). They are readable by name but not listed, so that
 * `cp -a`, `rsync -X` and `tar --xattrs` neither copy them out nor try to
 * remove them from the mount. Every other `user.*` attribute is the object's
 * user metadata (what `deimos put -m` sets and `deimos getmd` shows).
 * Other namespaces are not supported.
 */
import { DeimosError } from '../core/index.js';
import type { Catalog, ObjectRow } from '../catalog/index.js';
import type { FileCache } from '../cache/interface.js';

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

const STATUS = ['state', 'version', 'copies', 'media'] as const;
const ACTIONS = ['stage', 'flush', 'release'] as const;

/** What an attribute operation applies to: an object version, or an entry without user metadata. */
export type XattrTarget = { row: ObjectRow; readOnly: boolean } | { row: null; readOnly: boolean; what: 'directory' | 'symlink' };

export class Xattrs {
  constructor(private readonly catalog: Catalog, private readonly cache: FileCache) {}

  async get(t: XattrTarget, name: string): Promise<Buffer> {
    const key = userKey(name);
    if (!t.row) throw noData(name);
    if (key.startsWith('deimos.')) return Buffer.from(await this.status(t.row, key.slice('deimos.'.length), name));
    const v = t.row.userMd[key];
    if (v === undefined) throw noData(name);
    return Buffer.from(v, 'utf8');
  }

  list(t: XattrTarget): string[] {
    if (!t.row) return [];
    return Object.keys(t.row.userMd).map((k) => `user.${k}`);
  }

  /** Returns the row as it is afterwards. */
  async set(t: XattrTarget, name: string, value: Buffer, flags: number): Promise<ObjectRow | null> {
    const key = userKey(name);
    if (t.readOnly) throw new DeimosError('EROFS', 'the control directory is read-only', 'set attributes on the file itself');
    if (!t.row) throw new DeimosError(t.what === 'symlink' ? 'EPERM' : 'ENOTSUP', `a ${t.what} has no user metadata`, 'set user attributes on files');
    if (key.startsWith('deimos.')) {
      await this.action(t.row, key.slice('deimos.'.length), name);
      return t.row;
    }
    const exists = t.row.userMd[key] !== undefined;
    if (flags & XATTR_CREATE && exists) throw new DeimosError('EEXIST', `attribute '${name}' exists`, 'set it without XATTR_CREATE to replace it');
    if (flags & XATTR_REPLACE && !exists) throw noData(name);
    const text = value.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(value) || text.includes('\0')) {
      throw new DeimosError('EINVAL', `the value of '${name}' is not text`, 'user metadata values are UTF-8 text without NUL bytes');
    }
    return this.catalog.setUserMd(t.row.oid, { ...t.row.userMd, [key]: text });
  }

  async remove(t: XattrTarget, name: string): Promise<ObjectRow | null> {
    const key = userKey(name);
    if (t.readOnly) throw new DeimosError('EROFS', 'the control directory is read-only', 'remove attributes on the file itself');
    if (!t.row) throw noData(name);
    if (key.startsWith('deimos.')) throw new DeimosError('EPERM', `'${name}' cannot be removed`, 'user.deimos.* attributes belong to Deimos');
    if (t.row.userMd[key] === undefined) throw noData(name);
    const md = { ...t.row.userMd };
    delete md[key];
    return this.catalog.setUserMd(t.row.oid, md);
  }

  private async status(row: ObjectRow, what: string, name: string): Promise<string> {
    switch (what as (typeof STATUS)[number]) {
      case 'state': return this.cache.stateOf(row);
      case 'version': return String(row.version);
      case 'copies': return (await this.catalog.listCopies(row.uuid, row.version)).map((c) => c.copyName).join(',');
      case 'media': {
        const xs = await this.catalog.listExtents({ uuid: row.uuid, version: row.version, state: 'sync' });
        return [...new Set(xs.map((x) => x.medium))].join(',');
      }
    }
    if ((ACTIONS as readonly string[]).includes(what)) throw new DeimosError('ENODATA', `'${name}' is an action`, `set it to run it: setfattr -n ${name} -v 1 FILE`);
    throw noData(name);
  }

  private async action(row: ObjectRow, what: string, name: string): Promise<void> {
    switch (what as (typeof ACTIONS)[number]) {
      case 'stage': return this.cache.stage([row]);
      case 'flush': return this.cache.flush([row], { wait: false });
      case 'release': return this.cache.release(row);
    }
    if ((STATUS as readonly string[]).includes(what)) throw new DeimosError('EPERM', `'${name}' is read-only`, 'it shows the state of the file');
    throw new DeimosError('EINVAL', `unknown attribute '${name}'`, `user.deimos.* actions are ${ACTIONS.join(', ')}`);
  }
}

/** The metadata key of a `user.*` name; other namespaces are refused. */
export function userKey(name: string): string {
  if (!name.startsWith('user.') || name === 'user.') {
    throw new DeimosError('ENOTSUP', `attribute '${name}' is not supported`, 'only user.* attributes are stored');
  }
  return name.slice('user.'.length);
}

function noData(name: string): DeimosError {
  return new DeimosError('ENODATA', `no attribute '${name}'`, 'getfattr -d FILE lists the user attributes');
}

