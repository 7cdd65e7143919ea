/**
 * A stand-in for the parts of the catalog the layout tests touch, used while
 * the SQLite engine is not usable. Same accounting rule as the real one:
 * size_used counts sync extents.
 */
import { randomUUID } from 'node:crypto';
import type { Catalog, ExtentRow, ExtentState, Family, MediumPatch, MediumRow, NewExtent, NewMedium, PutReservation, CommitPutArgs } from '../../src/catalog/interface.js';

export type LayoutCatalog = Pick<Catalog, 'addMedia' | 'listMedia' | 'getMedium' | 'updateMedium' | 'listExtents' | 'beginPut'
  | 'addPendingExtents' | 'abortPut' | 'removeExtents' | 'close'> & { commitPut(a: CommitPutArgs): Promise<unknown> };

export class FakeCatalog implements LayoutCatalog {
  private readonly media: MediumRow[] = [];
  private readonly extents: ExtentRow[] = [];
  private readonly owner = new Map<number, string>();
  private nextId = 1;

  async close(): Promise<void> {}

  async addMedia(media: NewMedium[]): Promise<void> {
    for (const m of media) {
      this.media.push({
        family: m.family, name: m.name, model: m.model ?? null, admStatus: m.admStatus ?? 'locked', fsStatus: m.fsStatus ?? 'blank',
        fsType: m.fsType ?? 'posix', tags: m.tags ?? [], sizeTotal: m.sizeTotal ?? 0, sizeUsed: 0, sizeFree: m.sizeFree ?? m.sizeTotal ?? 0,
        nbObj: 0, nbLoad: 0, nbErrors: 0, lastLoad: null, putAccess: true, getAccess: true, deleteAccess: true, createdAt: Date.now(),
      });
    }
  }

  async getMedium(family: Family, name: string): Promise<MediumRow | null> {
    const m = this.media.find((x) => x.family === family && x.name === name);
    return m ? { ...m } : null;
  }

  async listMedia(f: { family?: Family; names?: string[]; tags?: string[] } = {}): Promise<MediumRow[]> {
    return this.media.filter((m) => (!f.family || m.family === f.family) && (!f.names || f.names.includes(m.name))
      && (f.tags ?? []).every((t) => m.tags.includes(t))).map((m) => ({ ...m }));
  }

  async updateMedium(family: Family, name: string, patch: MediumPatch): Promise<MediumRow> {
    const m = this.media.find((x) => x.family === family && x.name === name);
    if (!m) throw new Error(`no medium ${name}`);
    Object.assign(m, patch);
    return { ...m };
  }

  async listExtents(f: { uuid?: string; version?: number; copyName?: string; family?: Family; medium?: string; state?: ExtentState }): Promise<ExtentRow[]> {
    return this.extents.filter((e) => (f.uuid === undefined || e.uuid === f.uuid) && (f.version === undefined || e.version === f.version)
      && (f.copyName === undefined || e.copyName === f.copyName) && (f.family === undefined || e.family === f.family)
      && (f.medium === undefined || e.medium === f.medium) && (f.state === undefined || e.state === f.state))
      .sort((a, b) => a.splitIndex - b.splitIndex || a.layoutIndex - b.layoutIndex).map((e) => ({ ...e }));
  }

  async beginPut(a: { oid: string; owner: number }): Promise<PutReservation> {
    return { oid: a.oid, uuid: randomUUID(), version: 1, owner: a.owner, createdAt: Date.now() };
  }

  async addPendingExtents(res: PutReservation, extents: NewExtent[]): Promise<ExtentRow[]> {
    return extents.map((e) => {
      const row: ExtentRow = { ...e, id: this.nextId++, state: 'pending', createdAt: Date.now() };
      this.extents.push(row);
      this.owner.set(row.id, res.uuid);
      return { ...row };
    });
  }

  async commitPut(a: CommitPutArgs): Promise<unknown> {
    for (const c of a.extents) {
      const e = this.extents.find((x) => x.id === c.id)!;
      Object.assign(e, { state: 'sync', position: c.position, size: c.size, checksums: c.checksums });
      const m = this.media.find((x) => x.family === e.family && x.name === e.medium)!;
      m.sizeUsed += e.size;
      m.sizeFree = Math.max(0, m.sizeFree - e.size);
    }
    return null;
  }

  async abortPut(res: PutReservation): Promise<ExtentRow[]> {
    const out = this.extents.filter((e) => e.state === 'pending' && this.owner.get(e.id) === res.uuid);
    for (const e of out) e.state = 'orphan';
    return out.map((e) => ({ ...e }));
  }

  async removeExtents(ids: number[]): Promise<void> {
    for (const id of ids) {
      const i = this.extents.findIndex((e) => e.id === id);
      if (i >= 0) this.extents.splice(i, 1);
    }
  }
}
