import {
  type Granularity,
  type PackedWeight,
  QuantError,
  type QuantizedTensor,
  type QuantizerPacking,
  createTensor,
  paramShape,
  sizeOf,
} from '@quantkit/core';

/** The `PackedWeight.format` this plugin writes and reads. */
export const TERNARY_PACKED_FORMAT = 'ternary-2bit';

/** Codes per packed byte. */
const CODES_PER_BYTE = 4;

/**
 * Bytes a packed ternary weight of `count` elements takes: 2 bits each, the last byte padded with zero codes.
 * @example packedTernaryBytes(10) // 3
 */
export function packedTernaryBytes(count: number): number {
  return Math.ceil(count / CODES_PER_BYTE);
}

function invalid(name: string, message: string): QuantError {
  return new QuantError('INVALID_ARGUMENT', `${name} packing: ${message}`);
}

/**
 * The `packing` capability of the ternary quantizer: codes 4 per byte in row-major element order, element i in bits
 * 2*(i % 4) .. 2*(i % 4) + 1 of byte floor(i / 4), as 2-bit two's complement (00 = 0, 01 = +1, 11 = -1; 10 is
 * never written). Scales are copied; granularity and axis go in the attributes so unpack can rebuild the params.
 *
 * @example
 * const packed = ternaryPacking('ternary').pack(ternaryQuantizer.quantizeWeight(weight, options));
 * packed.data.length === Math.ceil(weight.data.length / 4);
 * @throws QuantError INVALID_ARGUMENT when pack is given codes other than -1/0/+1 or a lookup table, and when unpack
 * is given another format, a byte count that does not fit the shape, or the unused code 10.
 */
export function ternaryPacking(name: string): QuantizerPacking {
  return Object.freeze({
    pack(quantized: QuantizedTensor): PackedWeight {
      const { codes, params, lookup } = quantized;
      if (lookup !== undefined) throw invalid(name, 'ternary codes dequantize linearly; got a lookup table');
      if (params.zeroPoint.some((zeroPoint) => zeroPoint !== 0)) {
        throw invalid(name, 'ternary codes have zero point 0');
      }
      const data = new Uint8Array(packedTernaryBytes(codes.data.length));
      for (let i = 0; i < codes.data.length; i++) {
        const code = Number(codes.data[i]);
        if (code !== 0 && code !== 1 && code !== -1) {
          throw invalid(name, `code ${i} is ${code}; ternary codes are -1, 0 or +1`);
        }
        data[i >> 2]! |= (code & 0b11) << (2 * (i & 3));
      }
      const attributes: Record<string, number | string> = { bits: 2, granularity: params.granularity };
      if (params.axis !== undefined) attributes['axis'] = params.axis;
      return {
        format: TERNARY_PACKED_FORMAT,
        data,
        shape: [...codes.shape],
        scale: Float32Array.from(params.scale),
        attributes,
      };
    },

    unpack(packed: PackedWeight): QuantizedTensor {
      if (packed.format !== TERNARY_PACKED_FORMAT) {
        throw invalid(name, `expected format "${TERNARY_PACKED_FORMAT}", got ${JSON.stringify(packed.format)}`);
      }
      const count = sizeOf(packed.shape);
      if (packed.data.length !== packedTernaryBytes(count)) {
        throw invalid(
          name,
          `shape [${packed.shape.join(', ')}] packs into ${packedTernaryBytes(count)} bytes, got ${packed.data.length}`,
        );
      }
      const granularity = packed.attributes['granularity'];
      if (granularity !== 'tensor' && granularity !== 'channel') {
        throw invalid(name, `attribute granularity must be "tensor" or "channel", got ${JSON.stringify(granularity)}`);
      }
      const axis = packed.attributes['axis'];
      if (granularity === 'channel' && typeof axis !== 'number') {
        throw invalid(name, 'per-channel packed weights need a numeric axis attribute');
      }
      const codes = new Int8Array(count);
      for (let i = 0; i < count; i++) {
        const bits = (packed.data[i >> 2]! >> (2 * (i & 3))) & 0b11;
        if (bits === 0b10) throw invalid(name, `code ${i} is the unused bit pattern 10`);
        // Sign-extend the 2-bit two's complement value.
        codes[i] = bits === 0b11 ? -1 : bits;
      }
      const params = {
        scale: Float32Array.from(packed.scale),
        zeroPoint: new Int32Array(packed.scale.length),
        granularity: granularity as Granularity,
        axis: granularity === 'channel' ? (axis as number) : undefined,
        bits: 2,
        dtype: 'int8' as const,
        qmin: -1,
        qmax: 1,
      };
      const expected = sizeOf(paramShape(packed.shape, params));
      if (packed.scale.length !== expected) {
        throw invalid(name, `shape [${packed.shape.join(', ')}] needs ${expected} scales, got ${packed.scale.length}`);
      }
      return { codes: createTensor('int8', packed.shape, codes), params };
    },
  });
}
