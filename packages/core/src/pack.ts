import { QuantError } from './errors.js';

/**
 * Packs 4-bit codes two per byte, low nibble first, as ONNX stores int4/uint4 tensors.
 * An odd count leaves the last high nibble zero.
 */
export function packNibbles(codes: ArrayLike<number>): Uint8Array {
  const packed = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const nibble = codes[i]! & 0x0f;
    packed[i >> 1]! |= i & 1 ? nibble << 4 : nibble;
  }
  return packed;
}

/** Unpacks `count` 4-bit codes from bytes packed by {@link packNibbles}; signed sign-extends each nibble. */
export function unpackNibbles(packed: Uint8Array, count: number, signed: boolean): Int8Array | Uint8Array {
  if (packed.length < Math.ceil(count / 2)) {
    throw new QuantError('INVALID_ARGUMENT', `${packed.length} bytes cannot hold ${count} packed 4-bit values`);
  }
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const nibble = (packed[i >> 1]! >> ((i & 1) * 4)) & 0x0f;
    out[i] = signed && nibble > 7 ? nibble - 16 : nibble;
  }
  return out;
}
