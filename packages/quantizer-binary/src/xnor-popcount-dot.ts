import { QuantError } from '@quantkit/core';

// Set bits of every byte value, so the dot product is one table lookup per 8 weights.
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let count = 0;
  for (let rest = byte; rest !== 0; rest &= rest - 1) count++;
  return count;
});

/**
 * The dot product of two -1/+1 vectors held as bits by {@link packBinary} (1 = +1, most significant bit first),
 * without unpacking: matching bits contribute +1 and differing bits -1, so the dot is
 * `matches - (bits - matches) = 2 * popcount(XNOR(a, b)) - bits`. Only the first `bits` bits count, so padding
 * at the end of a row (whatever it holds) does not change the result. This is the reference the kernel runtime's
 * binary GEMM is checked against.
 *
 * @example
 * // a = [+1, -1, +1], b = [+1, +1, -1]: 1 - 1 - 1 = -1
 * xnorPopcountDot(Uint8Array.of(0b10100000), Uint8Array.of(0b11000000), 3); // -1
 * @throws QuantError INVALID_ARGUMENT when bits is not a non-negative integer or a row has fewer than
 * `ceil(bits / 8)` bytes.
 */
export function xnorPopcountDot(packedA: Uint8Array, packedB: Uint8Array, bits: number): number {
  if (!Number.isInteger(bits) || bits < 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `xnorPopcountDot: bits must be a non-negative integer, got ${bits}`,
    );
  }
  const bytes = Math.ceil(bits / 8);
  if (packedA.length < bytes || packedB.length < bytes) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `xnorPopcountDot: ${bits} bits need ${bytes} bytes per operand, got ${packedA.length} and ${packedB.length}`,
    );
  }
  const whole = bits >> 3;
  let matches = 0;
  for (let i = 0; i < whole; i++) matches += POPCOUNT[~(packedA[i]! ^ packedB[i]!) & 0xff]!;
  const rest = bits & 7;
  if (rest !== 0) {
    // Keep only the leading `rest` bits of the last byte (MSB first); the rest is padding.
    const mask = (0xff << (8 - rest)) & 0xff;
    matches += POPCOUNT[~(packedA[whole]! ^ packedB[whole]!) & mask]!;
  }
  return 2 * matches - bits;
}
