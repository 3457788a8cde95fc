import {
  type LinearQuantParams,
  QuantError,
  type QuantizedTensor,
  createTensor,
  paramShape,
} from '@quantkit/core';
import { exactPow2, exponentOfPowerOfTwo } from './exact-log2.js';
import { LOG_BITS, logInt8Shift, logLookupTable, logMagnitudes } from './log-levels.js';

/**
 * The two stock-ONNX forms of log codes:
 * - 'int8': codes are int8 powers of two {0, +-1, +-2, ..., +-64} (fewer for 3 bits) and the per-group scale is
 *   2^(FSR - shift) (see logInt8Shift), so a plain DequantizeLinear computes code * scale = +-2^e exactly;
 * - 'lookup': codes are uint8 indices M + s into the ascending table logLookupTable(bits) and the per-group scale
 *   is 2^FSR; the graph computes Gather(table, codes) * scale, again exactly +-2^e.
 */
export type LogForm = 'int8' | 'lookup';

/** Log codes in the quantizer's own terms: one signed magnitude index per element and one FSR per group. */
export interface LogCodes {
  /** sign(x) * m per element, m in 0..M (0 is zero); see log-levels.ts for the layout. */
  readonly indices: Int8Array;
  readonly shape: readonly number[];
  /** Top exponent per group (one per tensor, or one per channel along axis). */
  readonly fsr: Int32Array;
  readonly bits: number;
  readonly granularity: 'tensor' | 'channel';
  /** Non-negative channel axis; undefined per tensor. */
  readonly axis: number | undefined;
}

/**
 * Whether the int8 power-of-two form holds these codes: every nonzero exponent lies within 6 steps of its group's
 * FSR (always true for 3 and 4 bits).
 */
export function fitsInt8Form(codes: LogCodes): boolean {
  const lowest = logMagnitudes(codes.bits) - logInt8Shift(codes.bits);
  for (const s of codes.indices) if (s !== 0 && Math.abs(s) < lowest) return false;
  return true;
}

/**
 * Turns log codes into a QuantizedTensor of the requested stock-ONNX form.
 * @throws QuantError INVALID_ARGUMENT when form 'int8' cannot hold the codes (see fitsInt8Form).
 */
export function buildLogTensor(codes: LogCodes, form: LogForm): QuantizedTensor {
  const { indices, shape, fsr, bits, granularity, axis } = codes;
  const magnitudes = logMagnitudes(bits);
  const zeroPoint = new Int32Array(fsr.length);
  const common = { granularity, axis, bits, zeroPoint } as const;
  if (form === 'lookup') {
    const data = new Uint8Array(indices.length);
    for (let i = 0; i < indices.length; i++) data[i] = magnitudes + indices[i]!;
    const params: LinearQuantParams = {
      ...common,
      scale: Float32Array.from(fsr, (top) => exactPow2(top)),
      dtype: 'uint8',
      qmin: 0,
      qmax: 2 * magnitudes,
    };
    return { codes: createTensor('uint8', shape, data), params, lookup: { table: logLookupTable(bits) } };
  }
  if (!fitsInt8Form(codes)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `log quantizer: the int8 power-of-two form holds 7 exponents per group, but these ${bits}-bit codes use ` +
        `exponents more than 6 steps below FSR; use form "lookup" or "auto", or fewer bits`,
    );
  }
  const shift = logInt8Shift(bits);
  const data = new Int8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i]!;
    if (s === 0) continue;
    const power = exactPow2(Math.abs(s) - magnitudes + shift);
    data[i] = s < 0 ? -power : power;
  }
  const params: LinearQuantParams = {
    ...common,
    scale: Float32Array.from(fsr, (top) => exactPow2(top - shift)),
    dtype: 'int8',
    qmin: -(2 ** shift),
    qmax: 2 ** shift,
  };
  return { codes: createTensor('int8', shape, data), params, lookup: undefined };
}

/**
 * The inverse of buildLogTensor: recovers indices and FSRs from a QuantizedTensor of either form, checking that it
 * really holds log codes.
 * @throws QuantError INVALID_ARGUMENT naming the first thing that is not a log code of the declared width.
 */
export function readLogTensor(quantized: QuantizedTensor, quantizer = 'log'): LogCodes {
  const fail = (message: string) => new QuantError('INVALID_ARGUMENT', `${quantizer} packing: ${message}`);
  const { codes, params, lookup } = quantized;
  const { bits, granularity } = params;
  if (!LOG_BITS.includes(bits)) throw fail(`params.bits must be 3 to 8 for log codes, got ${bits}`);
  if (granularity !== 'tensor' && granularity !== 'channel') {
    throw fail(`log codes are per tensor or per channel, got granularity "${granularity}"`);
  }
  const axis = granularity === 'tensor' ? undefined : params.axis;
  const groups = paramShape(codes.shape, params).reduce((a, b) => a * b, 1);
  if (params.scale.length !== groups) {
    throw fail(`shape [${codes.shape.join(', ')}] needs ${groups} scales, got ${params.scale.length}`);
  }
  const magnitudes = logMagnitudes(bits);
  const form: LogForm = lookup === undefined ? 'int8' : 'lookup';
  const shift = form === 'int8' ? logInt8Shift(bits) : 0;
  const fsr = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    const e = exponentOfPowerOfTwo(params.scale[g]!);
    if (e === undefined) throw fail(`scale ${g} is ${params.scale[g]}, not a power of two`);
    fsr[g] = e + shift;
  }
  const indices = new Int8Array(codes.data.length);
  if (form === 'lookup') {
    const expected = logLookupTable(bits);
    const table = lookup!.table;
    if (
      codes.dtype !== 'uint8' ||
      table.length !== expected.length ||
      table.some((v, i) => v !== expected[i])
    ) {
      throw fail(`a ${bits}-bit log lookup form needs uint8 codes and the table logLookupTable(${bits})`);
    }
    for (let i = 0; i < indices.length; i++) {
      const code = codes.data[i]!;
      if (code > 2 * magnitudes)
        throw fail(`code ${code} at ${i} is outside the ${expected.length}-entry table`);
      indices[i] = code - magnitudes;
    }
  } else {
    if (codes.dtype !== 'int8') throw fail(`the int8 power-of-two form needs int8 codes, got ${codes.dtype}`);
    for (let i = 0; i < indices.length; i++) {
      const code = codes.data[i]!;
      if (code === 0) continue;
      const k = exponentOfPowerOfTwo(Math.abs(code));
      if (k === undefined || k > shift)
        throw fail(`code ${code} at ${i} is not a power of two up to ${2 ** shift}`);
      const m = k + magnitudes - shift;
      indices[i] = code < 0 ? -m : m;
    }
  }
  return { indices, shape: [...codes.shape], fsr, bits, granularity, axis };
}
