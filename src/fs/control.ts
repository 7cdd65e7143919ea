/**
 * The read-only control directory /.deimos: every version of a path under
 * versions/<path>/<n>, every copy of the alive version under
 * copies/<path>/<copy_name>. Directories of the namespace are mirrored so
 * that both trees can be walked like the mount itself.
 *
 * Version names: versions of the path's newest generation (uuid) are plain
 * numbers; versions of older generations (the file was deleted or replaced
 * by a rename, then written again) are `<n>.<first 8 hex of their uuid>`.
 */
import { DeimosError } from '../core/index.js';
import type { Catalog, DirRow, ObjectRow } from '../catalog/index.js';
import type { AttrCache } from './attrCache.js';
import type { OpenFiles } from './handles.js';
import { baseName, childPattern, parentPath } from './paths.js';
import { readOnly, statOf, virtualIno } from './stat.js';
import { S_IFDIR, S_IFREG, type Stat } from './types.js';

type Section = 'versions' | 'copies';

export type ControlNode =
  | { kind: 'dir'; stat: Stat }
  | { kind: 'version'; row: ObjectRow; stat: Stat }
  | { kind: 'copy'; row: ObjectRow; copyName: string; stat: Stat };

const SECTIONS: readonly Section[] = ['versions', 'copies'];

export class ControlTree {
  constructor(private readonly catalog: Catalog, private readonly attrs: AttrCache, private readonly table: OpenFiles) {}

  /** `rest` is the path below /.deimos ('' for the directory itself). */
  async resolve(rest: string): Promise<ControlNode> {
    if (rest === '') return { kind: 'dir', stat: this.fixedDir('') };
    const slash = rest.indexOf('/');
    const section = (slash < 0 ? rest : rest.slice(0, slash)) as Section;
    if (!SECTIONS.includes(section)) throw notFound(rest);
    if (slash < 0) return { kind: 'dir', stat: this.fixedDir(section) };
    const p = rest.slice(slash + 1);
    const node = await this.resolveIn(section, p);
    if (!node) throw notFound(rest);
    return node;
  }

  async readdir(rest: string): Promise<[string, Stat][]> {
    if (rest === '') return SECTIONS.map((s) => [s, this.fixedDir(s)]);
    const slash = rest.indexOf('/');
    const section = (slash < 0 ? rest : rest.slice(0, slash)) as Section;
    if (!SECTIONS.includes(section)) throw notFound(rest);
    const p = slash < 0 ? '' : rest.slice(slash + 1);
    const dir = p === '' ? await this.catalog.lookup('') : await this.attrs.lookup(p);
    if (dir?.type === 'dir') return this.mirrorChildren(section, p);
    if (p === '') throw notFound(rest);
    const rows = await this.rowsOf(section, p);
    if (rows.length === 0) throw notFound(rest);
    if (section === 'versions') return versionNames(rows).map(([name, row]) => [name, this.versionStat(row, p, name)]);
    const alive = rows[0]!;
    const copies = await this.catalog.listCopies(alive.uuid, alive.version);
    return copies.map((c) => [c.copyName, this.copyStat(alive, c.copyName)]);
  }

  private async resolveIn(section: Section, p: string): Promise<ControlNode | null> {
    const e = await this.attrs.lookup(p).catch(() => null);
    if (e?.type === 'dir') return { kind: 'dir', stat: this.mirrorDir(section, p, e.row) };
    const own = await this.rowsOf(section, p);
    if (own.length) return { kind: 'dir', stat: this.objectDir(section, p, own) };
    const parent = parentPath(p);
    if (parent === '') return null;
    const rows = await this.rowsOf(section, parent);
    if (rows.length === 0) return null;
    const name = baseName(p);
    if (section === 'versions') {
      const hit = versionNames(rows).find(([n]) => n === name);
      return hit ? { kind: 'version', row: hit[1], stat: this.versionStat(hit[1], parent, name) } : null;
    }
    const alive = rows[0]!;
    const copies = await this.catalog.listCopies(alive.uuid, alive.version);
    if (!copies.some((c) => c.copyName === name)) return null;
    return { kind: 'copy', row: alive, copyName: name, stat: this.copyStat(alive, name) };
  }

  /** Every version of a path (versions) or its alive version only (copies). */
  private async rowsOf(section: Section, p: string): Promise<ObjectRow[]> {
    try {
      if (section === 'copies') {
        const alive = await this.catalog.getObject({ oid: p });
        return alive ? [alive] : [];
      }
      return await this.catalog.listObjects({ oids: [p], mode: 'deprecated' });
    } catch (e) {
      // Names the catalog refuses as oids cannot have versions.
      if ((e as DeimosError).code === 'EINVAL') return [];
      throw e;
    }
  }

  private async mirrorChildren(section: Section, dir: string): Promise<[string, Stat][]> {
    const out = new Map<string, Stat>();
    for (const e of await this.catalog.readdir(dir)) {
      if (e.type === 'symlink') continue;
      const path = e.type === 'file' ? e.row.oid : e.row.path;
      if (dir === '' && path === '.deimos') continue;
      const name = baseName(path);
      if (e.type === 'dir') out.set(name, this.mirrorDir(section, path, e.row));
      else out.set(name, this.objectDir(section, path, [e.row]));
    }
    if (section === 'versions') {
      // Deleted files keep their versions: list them too.
      const gone = await this.catalog.listObjects({ pattern: childPattern(dir), mode: 'deprecated-only' });
      const byOid = new Map<string, ObjectRow[]>();
      for (const r of gone) if (!out.has(baseName(r.oid))) byOid.set(r.oid, [...(byOid.get(r.oid) ?? []), r]);
      for (const [oid, rows] of byOid) out.set(baseName(oid), this.objectDir(section, oid, rows));
    }
    return [...out.entries()];
  }

  private fixedDir(name: string): Stat {
    return readOnly(statOf({ mode: 0o555, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 }, { type: S_IFDIR, size: 4096, ino: virtualIno(`control:${name}`) }));
  }

  private mirrorDir(section: Section, p: string, row: DirRow): Stat {
    return readOnly(statOf(row, { type: S_IFDIR, size: 4096, ino: virtualIno(`${section}:${p}`) }));
  }

  /** The directory that lists a path's versions or copies: the owner and times of its newest row. */
  private objectDir(section: Section, p: string, rows: ObjectRow[]): Stat {
    const newest = rows.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a));
    const mode = (newest.mode & 0o7777) | ((newest.mode & 0o444) >> 2);
    return readOnly(statOf({ ...newest, mode }, { type: S_IFDIR, size: 4096, ino: virtualIno(`${section}:${p}`) }));
  }

  private versionStat(row: ObjectRow, p: string, name: string): Stat {
    // A version still being written has its size in the writer, not yet in the catalog.
    const s = statOf(row, { type: S_IFREG, size: row.size, ino: virtualIno(`version:${p}/${name}:${row.uuid}`) });
    return readOnly(this.table.overlay(s, row.uuid, row.version));
  }

  private copyStat(row: ObjectRow, copyName: string): Stat {
    return readOnly(statOf(row, { type: S_IFREG, size: row.size, ino: virtualIno(`copy:${row.uuid}:${row.version}:${copyName}`) }));
  }
}

/** Names of a path's versions (see the header), each with its row. */
export function versionNames(rows: ObjectRow[]): [string, ObjectRow][] {
  if (rows.length === 0) return [];
  const alive = rows.find((r) => r.deprecatedAt === null);
  const current = (alive ?? rows.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a))).uuid;
  return [...rows]
    .sort((a, b) => a.createdAt - b.createdAt || a.version - b.version)
    .map((r) => [r.uuid === current ? String(r.version) : `${r.version}.${r.uuid.replace(/-/g, '').slice(0, 8)}`, r]);
}

function notFound(rest: string): DeimosError {
  return new DeimosError('ENOENT', `'/.deimos/${rest}' does not exist`, "list /.deimos/versions/PATH to see a file's versions");
}

