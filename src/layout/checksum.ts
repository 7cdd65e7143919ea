import { createHash, type Hash } from 'node:crypto';
import { createXXHash128, type IHasher } from 'hash-wasm';
import type { ChecksumAlgo, Checksums } from '../catalog/interface.js';
import { DeimosError } from '../core/errors.js';

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
      // Each createXXHash128() owns its WASM instance, so concurrent extents never share state.
      const h: IHasher = await createXXHash128();
      h.init();
      parts.push({ algo, update: (b) => h.update(b), hex: () => h.digest('hex') });
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
