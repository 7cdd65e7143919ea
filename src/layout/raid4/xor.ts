/**
 * XOR of two blocks where `b` may be shorter than `a` (the second raid4
 * half is one byte shorter when the split length is odd): `b` counts as
 * zero-padded. The result has `outLen` bytes (at most a.length), so the
 * same function computes parity and rebuilds either half. `into`, when
 * large enough, receives the result (buffers reused across blocks).
 */
export function xorBlocks(a: Buffer, b: Buffer, outLen: number = a.length, into?: Buffer): Buffer {
  if (b.length > a.length || outLen > a.length) throw new RangeError('xorBlocks: a must be the longest block');
  const out = into && into.length >= outLen ? into.subarray(0, outLen) : Buffer.allocUnsafe(outLen);
  const common = Math.min(b.length, outLen);
  let i = 0;
  // Word-wise when all three are 4-byte aligned (large buffers always are): ~4× the byte loop.
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    const words = common >>> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    const wo = new Uint32Array(out.buffer, out.byteOffset, words);
    for (let w = 0; w < words; w++) wo[w] = wa[w]! ^ wb[w]!;
    i = words << 2;
  }
  for (; i < common; i++) out[i] = a[i]! ^ b[i]!;
  if (outLen > common) a.copy(out, common, common, outLen);
  return out;
}
