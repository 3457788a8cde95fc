import {
  type LinearQuantParams,
  type PackedWeight,
  QuantError,
  type QuantizedTensor,
  type QuantizerPacking,
  createTensor,
  validateParams,
} from '@quantkit/core';
import type { BinaryCodeDType } from './binarize-weight.js';
import { packBinary, unpackBinary } from './pack-binary.js';

/** `PackedWeight.format` of binary weights: sign bits in byte-padded rows, MSB first (see `packBinary`). */
export const BINARY_1BIT_FORMAT = 'binary-1bit';

function invalid(message: string): QuantError {
  return new QuantError('INVALID_ARGUMENT', `binary packing: ${message}`);
}

function integerAttribute(packed: PackedWeight, key: string): number {
  const value = packed.attributes[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(
      `packed weight attribute "${key}" must be a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Packs a binary-quantized weight (codes -1/+1, zero point 0) into format `binary-1bit`: `data` holds one row of
 * sign bits per output channel (`packBinary` along `params.axis`), `scale` the alphas (one per row, or one per
 * tensor), and `attributes` { axis, rows, rowBits, rowBytes, granularity, codeDType } tell the kernels (and
 * {@link unpackBinaryWeight}) how to read it. Per-tensor weights carry no axis in their params, so their rows run
 * along axis 0.
 *
 * @example
 * const packed = packBinaryWeight(binaryQuantizer.quantizeWeight(w, { bits: 1, symmetric: true, granularity: 'channel', axis: 0 }));
 * // a [64, 576] weight: 64 * 72 bytes + 64 scales, 1/30 of its 147456 float32 bytes
 * @throws QuantError INVALID_ARGUMENT for codes other than -1/+1, non-zero zero points, or block granularity.
 */
export function packBinaryWeight(quantized: QuantizedTensor): PackedWeight {
  const { codes, params } = quantized;
  validateParams(codes.shape, params);
  if (params.granularity === 'block') {
    throw invalid('block scales are not a binary layout; expected granularity "tensor" or "channel"');
  }
  if (params.zeroPoint.some((zeroPoint) => zeroPoint !== 0)) {
    throw invalid('sign codes dequantize around a zero point of 0; this weight has non-zero zero points');
  }
  if (quantized.lookup !== undefined) {
    throw invalid('lookup-table codes cannot be stored as sign bits');
  }
  const rows = packBinary(codes.data as ArrayLike<number>, codes.shape, params.axis ?? 0);
  return {
    format: BINARY_1BIT_FORMAT,
    data: rows.data,
    shape: [...codes.shape],
    scale: Float32Array.from(params.scale),
    attributes: {
      axis: rows.axis,
      rows: rows.rows,
      rowBits: rows.rowBits,
      rowBytes: rows.rowBytes,
      granularity: params.granularity,
      codeDType: params.dtype,
    },
  };
}

/**
 * Inverse of {@link packBinaryWeight}: the same -1/+1 codes (in the stored code type) and the same parameters.
 * @example
 * const again = unpackBinaryWeight(packBinaryWeight(quantized)); // same codes.data, params.scale
 * @throws QuantError INVALID_ARGUMENT for another format, missing or inconsistent attributes, or too few bytes.
 */
export function unpackBinaryWeight(packed: PackedWeight): QuantizedTensor {
  if (packed.format !== BINARY_1BIT_FORMAT) {
    throw invalid(`expected format "${BINARY_1BIT_FORMAT}", got ${JSON.stringify(packed.format)}`);
  }
  const axis = integerAttribute(packed, 'axis');
  const rowBits = integerAttribute(packed, 'rowBits');
  const rowBytes = integerAttribute(packed, 'rowBytes');
  const { granularity, codeDType } = packed.attributes;
  if (granularity !== 'tensor' && granularity !== 'channel') {
    throw invalid(
      `attribute "granularity" must be "tensor" or "channel", got ${JSON.stringify(granularity)}`,
    );
  }
  if (codeDType !== 'int8' && codeDType !== 'int4') {
    throw invalid(`attribute "codeDType" must be "int8" or "int4", got ${JSON.stringify(codeDType)}`);
  }
  const rows = packed.shape[axis];
  const elements = packed.shape.reduce((a, b) => a * b, 1);
  if (rows === undefined || rows * rowBits !== elements || rowBytes !== Math.ceil(rowBits / 8)) {
    throw invalid(
      `attributes axis ${axis}, rowBits ${rowBits}, rowBytes ${rowBytes} do not describe shape [${packed.shape.join(', ')}]`,
    );
  }
  const dtype: BinaryCodeDType = codeDType;
  const codes = createTensor(dtype, packed.shape, unpackBinary(packed.data, packed.shape, axis));
  const groups = granularity === 'tensor' ? 1 : rows;
  const params: LinearQuantParams = {
    scale: Float32Array.from(packed.scale),
    zeroPoint: new Int32Array(groups),
    granularity,
    axis: granularity === 'tensor' ? undefined : axis,
    bits: 1,
    dtype,
    qmin: -1,
    qmax: 1,
  };
  validateParams(packed.shape, params);
  return { codes, params };
}

/** The binary quantizer's `packing` capability: {@link packBinaryWeight} and {@link unpackBinaryWeight}. */
export const binaryPacking: QuantizerPacking = Object.freeze({
  pack: packBinaryWeight,
  unpack: unpackBinaryWeight,
});
