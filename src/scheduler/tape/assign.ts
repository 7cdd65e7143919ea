import type { MediumRow } from '../../catalog/interface.js';
import { DeimosError } from '../../core/errors.js';
import { accepts, type TapeState, type WriteJob } from './state.js';
import { noDriveError } from './noDrive.js';
import { chooseWriteMedia, type WriteCandidate } from './writeChoice.js';

export interface CartridgeRoom {
  model: string;
  capacity: number;
  eod: number;
  failed: boolean;
}

/**
 * Gives every waiting write job its cartridges (writeChoice.ts decides), or
 * fails it when no set of cartridges can ever take it. A job then waits in
 * the writer queue of each of its cartridges: writers on one cartridge
 * append one after the other.
 */
export function assignWrites(s: TapeState, cartridge: (label: string) => CartridgeRoom | null): void {
  const jobs = s.unassigned.splice(0);
  for (const job of jobs) {
    const why: string[] = [];
    const noDrive = new Set<string>();
    const cands = candidates(s, job, cartridge, why, noDrive);
    const drives = s.drives.filter((d) => d.usable).length;
    if (drives === 0) {
      job.reject(noDriveError(s.drives, 'write', [...noDrive][0] ?? anyModel(s, job)));
      continue;
    }
    if (job.req.count > drives) {
      job.reject(new DeimosError('ENODEV', `a put on ${job.req.count} cartridges at once needs ${job.req.count} drives, ${drives} are usable`,
        'add or unlock drives (deimos drive add/unlock), or lower repl_count'));
      continue;
    }
    const chosen = sameBatch(s, job, cands) ?? chooseWriteMedia(cands, job.req.count, job.req.size, job.req.grouping ?? null);
    if (chosen === null && cands.length === 0 && noDrive.size > 0) {
      // Cartridges would take it, but no drive may write them.
      job.reject(noDriveError(s.drives, 'write', [...noDrive][0]!));
      continue;
    }
    if (chosen === null) {
      const tags = job.req.tags.length ? ` with tags ${job.req.tags.join(',')}` : '';
      const detail = why.length ? ` (${why.slice(0, 6).join('; ')}${why.length > 6 ? '; …' : ''})` : '';
      job.reject(new DeimosError('ENOSPC', `need ${job.req.count} unlocked formatted cartridges${tags} with room, found ${cands.filter((c) => c.room > 0).length}${detail}`,
        'add cartridges (deimos tape add), format blank ones (deimos tape format) or unlock them'));
      continue;
    }
    job.media = chosen;
    if (job.req.batch !== undefined) rememberBatch(s, job.req.batch, chosen);
    for (const m of chosen) {
      const list = s.writers.get(m) ?? [];
      list.push(job);
      s.writers.set(m, list);
    }
  }
}

const BATCHES_KEPT = 256;

/** The cartridges of the job's batch, while every one of them can still take the whole job. */
function sameBatch(s: TapeState, job: WriteJob, cands: WriteCandidate[]): string[] | null {
  const media = job.req.batch === undefined ? undefined : s.batchMedia.get(job.req.batch);
  if (media === undefined || media.length !== job.req.count) return null;
  const ok = media.every((m) => cands.some((c) => c.name === m && c.room >= job.req.size));
  return ok ? media : null;
}

function rememberBatch(s: TapeState, batch: string, media: string[]): void {
  s.batchMedia.delete(batch);
  s.batchMedia.set(batch, media);
  if (s.batchMedia.size > BATCHES_KEPT) s.batchMedia.delete(s.batchMedia.keys().next().value!);
}

/** The model of the cartridges a put could go to, for the message when no drive is usable at all. */
function anyModel(s: TapeState, job: WriteJob): string | null {
  const rows = [...s.media.values()].filter((r) => job.req.tags.every((t) => r.tags.includes(t)));
  return (rows.find((r) => refusal(r) === null) ?? rows[0])?.model ?? null;
}

function candidates(s: TapeState, job: WriteJob, cartridge: (label: string) => CartridgeRoom | null, why: string[], noDrive: Set<string>): WriteCandidate[] {
  const out: WriteCandidate[] = [];
  const excluded = new Set([...(job.req.exclude ?? []), ...job.exclude]);
  for (const row of s.media.values()) {
    if (excluded.has(row.name) || !job.req.tags.every((t) => row.tags.includes(t))) continue;
    const no = refusal(row);
    const c = no === null ? cartridge(row.name) : null;
    if (c !== null && !c.failed && !s.drives.some((d) => d.usable && accepts(d.model, c.model))) noDrive.add(c.model);
    if (no !== null || c === null || c.failed || !s.drives.some((d) => d.usable && accepts(d.model, c.model))) {
      why.push(`${row.name}: ${no ?? (c === null ? 'not in the library' : c.failed ? 'failed' : `no usable drive takes ${c.model}`)}`);
      continue;
    }
    // Writers queued on it, or writing now, take their share first.
    const queued = s.writersOf(row.name).reduce((n, j) => n + j.req.size, 0) + (s.inflight.get(row.name) ?? 0);
    out.push({
      name: row.name,
      room: Math.max(0, c.capacity - c.eod - queued),
      // A cartridge in a locked drive is as good as in its slot: it must move to write.
      mounted: s.driveOf(row.name)?.usable === true,
      writing: s.writersOf(row.name).length > 0,
      lastGrouping: s.lastGrouping.get(row.name) ?? null,
    });
  }
  return out;
}

function refusal(row: MediumRow): string | null {
  if (row.admStatus !== 'unlocked') return row.admStatus;
  if (!row.putAccess) return 'put access off';
  if (row.fsStatus === 'blank') return 'blank (format it first)';
  if (row.fsStatus === 'full') return 'full';
  return null;
}
