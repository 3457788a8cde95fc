import { QuantError, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { normalizeAxis, required, tensorOf } from '../tensor-utils.js';
import { type Code8Array, codes8, lookupTable, scaleOf, zeroPointOf } from './quantized-values.js';

/**
 * com.microsoft QLinearConcat: Y_scale, Y_zero_point, then (tensor, scale, zero point) for each input,
 * concatenated along `axis`. An input with the output's scale and zero point is copied; any other is requantized
 * through a table of its 256 codes (dequantize, quantize), as onnxruntime does.
 */
const qLinearConcat = jsKernel('QLinearConcat', {
  domain: 'com.microsoft',
  prepare: (node) => ({ axis: node.attributes.int('axis') }),
  run: ({ axis }, inputs) => {
    const yScale = scaleOf(required(inputs[0], 'Y_scale'), 'Y_scale');
    const yZeroInput = required(inputs[1], 'Y_zero_point');
    const yZero = zeroPointOf(yZeroInput, 'Y_zero_point');
    const dtype = yZeroInput.dtype;
    if ((inputs.length - 2) % 3 !== 0 || inputs.length < 5) {
      throw new QuantError(
        'INVALID_MODEL',
        `QLinearConcat takes Y_scale, Y_zero_point and (tensor, scale, zero point) triples; it has ${inputs.length} inputs`,
      );
    }
    const parts = [];
    for (let slot = 2; slot < inputs.length; slot += 3) {
      const tensor = required(inputs[slot], `tensor ${slot}`);
      const codes = codes8(tensor, `input ${slot}`);
      if (tensor.dtype !== dtype) {
        throw new QuantError(
          'INVALID_MODEL',
          `input ${slot} is ${tensor.dtype} but Y_zero_point is ${dtype}`,
        );
      }
      const scale = scaleOf(required(inputs[slot + 1], `scale ${slot + 1}`), `scale ${slot + 1}`);
      const zero = zeroPointOf(
        required(inputs[slot + 2], `zero point ${slot + 2}`),
        `zero point ${slot + 2}`,
      );
      const table =
        scale === yScale && zero === yZero
          ? undefined
          : lookupTable(dtype === 'int8', scale, zero, yScale, yZero, (v) => v);
      parts.push({ shape: tensor.shape, codes, table });
    }
    const first = parts[0]!.shape;
    const rank = first.length;
    const along = normalizeAxis(axis, rank);
    for (const { shape } of parts) {
      if (shape.length !== rank || shape.some((dim, index) => index !== along && dim !== first[index])) {
        throw new QuantError(
          'INVALID_MODEL',
          `cannot concatenate [${shape.join(', ')}] with [${first.join(', ')}] along axis ${axis}`,
        );
      }
    }
    const outer = sizeOf(first.slice(0, along));
    const inner = sizeOf(first.slice(along + 1));
    const total = parts.reduce((sum, { shape }) => sum + shape[along]!, 0);
    const out = allocate(dtype, outer * total * inner) as Code8Array;
    let offset = 0;
    for (const { shape, codes, table } of parts) {
      const run = shape[along]! * inner;
      for (let o = 0; o < outer; o++) {
        const from = o * run;
        const to = o * total * inner + offset;
        if (table === undefined) out.set(codes.subarray(from, from + run), to);
        else for (let i = 0; i < run; i++) out[to + i] = table[codes[from + i]! & 0xff]!;
      }
      offset += run;
    }
    const shape = [...first];
    shape[along] = total;
    return [tensorOf(dtype, shape, out)];
  },
});

export const qLinearConcatKernels = [qLinearConcat];
