import type { FileHandle } from 'node:fs/promises';
import { DeimosError } from '../core/errors.js';
import type { ExtentHeader } from './interface.js';

/**
 * Layout of an extent file on a directory medium:
 *
 *   [ payload (header.size bytes) ][ trailer: JSON { format, header } ][ footer ]
 *   footer = trailer length (uint32 LE) + MAGIC (8 bytes)
 *
 * The header goes after the payload because its checksums are only known
 * once the payload is written; the fixed-size footer lets a reader find it
 * from the end, so the file alone is enough to rebuild its catalog entry.
 */
export const MAGIC = Buffer.from('DEIMOSX1', 'ascii');
export const FOOTER_LEN = 4 + MAGIC.length;
const FORMAT = 1;
/** A trailer is a few hundred bytes; anything far larger is a damaged footer, not a header to parse. */
const MAX_TRAILER = 1 << 20;

export function encodeTrailer(header: ExtentHeader): Buffer {
  const json = Buffer.from(JSON.stringify({ format: FORMAT, header }), 'utf8');
  const footer = Buffer.alloc(FOOTER_LEN);
  footer.writeUInt32LE(json.length, 0);
  MAGIC.copy(footer, 4);
  return Buffer.concat([json, footer]);
}

export interface TrailerInfo {
  /** Bytes of payload at the start of the file. */
  payloadSize: number;
  trailerLength: number;
}

/** Reads the footer: where the payload ends. Throws EBADMSG on a file that is not a whole extent. */
export async function readFooter(fh: FileHandle, fileSize: number, where: string): Promise<TrailerInfo> {
  if (fileSize < FOOTER_LEN) throw damaged(where, `file is ${fileSize} bytes, shorter than its footer`);
  const footer = Buffer.alloc(FOOTER_LEN);
  await readExactly(fh, footer, fileSize - FOOTER_LEN, where);
  if (!footer.subarray(4).equals(MAGIC)) throw damaged(where, 'footer magic not found (truncated or not an extent)');
  const trailerLength = footer.readUInt32LE(0);
  const payloadSize = fileSize - FOOTER_LEN - trailerLength;
  if (trailerLength > MAX_TRAILER || payloadSize < 0) throw damaged(where, `trailer length ${trailerLength} does not fit in the file`);
  return { payloadSize, trailerLength };
}

export async function readTrailer(fh: FileHandle, fileSize: number, where: string): Promise<ExtentHeader> {
  const info = await readFooter(fh, fileSize, where);
  const buf = Buffer.alloc(info.trailerLength);
  await readExactly(fh, buf, info.payloadSize, where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    throw damaged(where, 'trailer is not valid JSON');
  }
  const header = (parsed as { header?: unknown }).header;
  const problem = headerProblem(header);
  if (problem) throw damaged(where, problem);
  const h = header as ExtentHeader;
  if (h.size !== info.payloadSize) throw damaged(where, `trailer says ${h.size} payload bytes, file holds ${info.payloadSize}`);
  return h;
}

/** Why a parsed trailer is not a usable ExtentHeader, or null when it is. */
export function headerProblem(h: unknown): string | null {
  if (typeof h !== 'object' || h === null) return 'trailer has no header';
  const r = h as Record<string, unknown>;
  for (const k of ['oid', 'uuid', 'copyName']) if (typeof r[k] !== 'string') return `header field ${k} is not a string`;
  for (const k of ['version', 'layoutIndex', 'splitIndex', 'offset', 'length', 'size']) {
    if (!Number.isSafeInteger(r[k]) || (r[k] as number) < 0) return `header field ${k} is not a non-negative integer`;
  }
  const layout = r.layout as { name?: unknown; params?: unknown } | undefined;
  if (!layout || typeof layout.name !== 'string' || typeof layout.params !== 'object') return 'header layout is malformed';
  if (typeof r.checksums !== 'object' || r.checksums === null) return 'header checksums are malformed';
  if (r.attempt !== undefined && typeof r.attempt !== 'string') return 'header field attempt is not a string';
  return null;
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number, where: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw damaged(where, 'file ended early');
    done += bytesRead;
  }
}

function damaged(where: string, why: string): DeimosError {
  // EBADMSG, not EIO: the file was read fine but is not a valid extent, so readers count it as corrupt.
  return new DeimosError('EBADMSG', `extent ${where} is damaged: ${why}`, 'read another copy, or repack the medium');
}
