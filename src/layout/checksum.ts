import { createHash, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ChecksumAlgo, Checksums } from '../catalog/interface.js';
import { DeimosError } from '../core/errors.js';

/** xxhash-addon: the reference C xxHash (XXH3 with SIMD), about 8× the speed of a WASM build (25 against 190 ms per GiB here). */
interface NativeHasher { update(data: Buffer): void; digest(): Buffer }
const { XXHash128 } = createRequire(import.meta.url)('xxhash-addon') as { XXHash128: new (seed: Buffer) => NativeHasher };
/** Seed 0, as 8 bytes: without a seed argument the addon's constructor crashes the process. */
const SEED0 = Buffer.alloc(8);

export const CHECKSUM_ALGOS: readonly ChecksumAlgo[] = ['xxh128', 'md5'];

/** Hashes a stream of buffers with every configured algorithm at once. */
export interface StreamHasher {
  update(buf: Buffer): void;
  /** Hex digests; call once, after the last update. */
  digest(): Checksums;
}

export async function createHasher(algos: readonly ChecksumAlgo[]): Promise<StreamHasher> {
  const parts: Array<{ algo: ChecksumAlgo; update(b: Buffer): void; hex(): string }> = [];
  for (const algo of new Set(algos)) {
    if (algo === 'xxh128') {
      const h = new XXHash128(SEED0);
      parts.push({ algo, update: (b) => h.update(b), hex: () => h.digest().toString('hex') });
    } else if (algo === 'md5') {
      const h: Hash = createHash('md5');
      parts.push({ algo, update: (b) => h.update(b), hex: () => h.digest('hex') });
    } else {
      throw new DeimosError('EINVAL', `unknown checksum '${String(algo)}'`, `use ${CHECKSUM_ALGOS.join(' or ')}`);
    }
  }
  return {
    update(buf) {
      for (const p of parts) p.update(buf);
    },
    digest() {
      const out: Checksums = {};
      for (const p of parts) out[p.algo] = p.hex();
      return out;
    },
  };
}

/** Hashes the algorithms an extent was recorded with, so it can be verified whatever today's config says. */
export function algosOf(recorded: Checksums): ChecksumAlgo[] {
  return CHECKSUM_ALGOS.filter((a) => typeof recorded[a] === 'string');
}

/**
 * Why `actual` does not match what was recorded, or null. Only algorithms
 * present on both sides count; an extent recorded without any checksum
 * cannot be verified and passes (the catalog always records one).
 */
export function checksumMismatch(recorded: Checksums, actual: Checksums): string | null {
  for (const a of CHECKSUM_ALGOS) {
    const want = recorded[a];
    const got = actual[a];
    if (want !== undefined && got !== undefined && want.toLowerCase() !== got.toLowerCase()) {
      return `${a} is ${got}, expected ${want}`;
    }
  }
  return null;
}
