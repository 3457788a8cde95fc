import { type QuantizedTensor, createTensor } from '@quantkit/core';
import { encodeNnieValue, nnieFsr, nnieLookupIndex, nnieLookupTable, nnieScale } from './nnie-levels.js';

/** NNIE codes of a weight: one sign-magnitude byte per element and the tensor's top exponent T (sixteenths). */
export interface NnieCodes {
  readonly bytes: Uint8Array;
  readonly shape: readonly number[];
  readonly top: number;
}

/** Computes NNIE code bytes for values, with T from their largest magnitude. */
export function computeNnieCodes(values: ArrayLike<number>, shape: readonly number[]): NnieCodes {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
  const top = nnieFsr(maxAbs);
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = encodeNnieValue(values[i]!, top);
  return { bytes, shape: [...shape], top };
}

/**
 * The Gather form of NNIE codes: uint8 indices into nnieLookupTable(T) (ascending), scale 2^floor(T/16) per tensor.
 */
export function buildNnieTensor(codes: NnieCodes): QuantizedTensor {
  const data = Uint8Array.from(codes.bytes, nnieLookupIndex);
  return {
    codes: createTensor('uint8', codes.shape, data),
    params: {
      scale: Float32Array.of(nnieScale(codes.top)),
      zeroPoint: new Int32Array(1),
      granularity: 'tensor',
      axis: undefined,
      bits: 8,
      dtype: 'uint8',
      qmin: 0,
      qmax: 255,
    },
    lookup: { table: nnieLookupTable(codes.top) },
  };
}
