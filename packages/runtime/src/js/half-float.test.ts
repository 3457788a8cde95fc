import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { describe, expect, it } from 'vitest';
import { float32ToHalf, halfToFloat32 } from './half-float.js';

const ALL_BITS = Uint16Array.from({ length: 65536 }, (_, i) => i);

/** float32 values whose bits are given. */
function fromBits(words: readonly number[]): Float32Array {
  return new Float32Array(Uint32Array.from(words).buffer);
}

function isNaNBits(bits: number, exponentMask: number, mantissaMask: number): boolean {
  return (bits & exponentMask) === exponentMask && (bits & mantissaMask) !== 0;
}

describe('float16', () => {
  const view = new DataView(new ArrayBuffer(2));
  const reference = (bits: number) => {
    view.setUint16(0, bits, true);
    return getFloat16(view, 0, true);
  };
  const referenceBits = (value: number) => {
    setFloat16(view, 0, value, true);
    return view.getUint16(0, true);
  };

  it('decodes every bit pattern as @petamoriken/float16 does', () => {
    const decoded = halfToFloat32(ALL_BITS, 'float16');
    const wrong = Array.from(ALL_BITS).filter(
      (bits) => !Object.is(decoded[bits], Math.fround(reference(bits))),
    );
    expect(wrong).toEqual([]);
  });

  it('encodes every float16 value back to its bits, and NaN to a NaN', () => {
    const encoded = float32ToHalf(halfToFloat32(ALL_BITS, 'float16'), 'float16');
    const wrong = Array.from(ALL_BITS).filter((bits) =>
      isNaNBits(bits, 0x7c00, 0x3ff) ? !isNaNBits(encoded[bits]!, 0x7c00, 0x3ff) : encoded[bits] !== bits,
    );
    expect(wrong).toEqual([]);
  });

  it('rounds ties to even and everything else to nearest, subnormals and overflow included', () => {
    const values: number[] = [];
    // Between each pair of neighbouring finite float16 values: the midpoint and the float32 values either side.
    const decoded = halfToFloat32(ALL_BITS, 'float16');
    for (let bits = 0; bits < 0x7bff; bits++) {
      const low = decoded[bits]!;
      const high = decoded[bits + 1]!;
      const middle = Math.fround((low + high) / 2);
      const words = new Uint32Array(Float32Array.of(middle).buffer);
      values.push(middle, ...fromBits([words[0]! - 1, words[0]! + 1]));
      values.push(-middle);
    }
    values.push(65504, 65519, 65520, 1e6, -1e6, 2 ** -25, 2 ** -26, 1.5 * 2 ** -25, Infinity, -Infinity);
    const encoded = float32ToHalf(Float32Array.from(values), 'float16');
    expect(values.filter((value, i) => encoded[i] !== referenceBits(value))).toEqual([]);
  });
});

describe('bfloat16', () => {
  it('decodes bits as the high half of float32 bits', () => {
    const decoded = halfToFloat32(ALL_BITS, 'bfloat16');
    const words = new Uint32Array(decoded.buffer);
    for (let bits = 0; bits < 65536; bits++) expect(words[bits]).toBe((bits << 16) >>> 0);
  });

  it('rounds to nearest even from float32 and keeps NaN a NaN', () => {
    const words: number[] = [];
    const expected: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      if (isNaNBits(bits, 0x7f80, 0x7f) || (bits & 0x7fff) === 0x7f80) continue;
      const base = (bits << 16) >>> 0;
      words.push(base, base + 0x7fff, base + 0x8000, base + 0x8001);
      expected.push(bits, bits, bits & 1 ? bits + 1 : bits, bits + 1);
    }
    const encoded = float32ToHalf(fromBits(words), 'bfloat16');
    expect(words.filter((_word, i) => encoded[i] !== expected[i]).map((word) => word.toString(16))).toEqual(
      [],
    );
    const nan = float32ToHalf(fromBits([0x7f800001, 0xffc00000]), 'bfloat16');
    expect(isNaNBits(nan[0]!, 0x7f80, 0x7f) && isNaNBits(nan[1]!, 0x7f80, 0x7f)).toBe(true);
  });
});
