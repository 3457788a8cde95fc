import { type QuantizedTensor, dequantizeLinear, forEachParamRun } from '@quantkit/core';

/**
 * The float32 values a QuantizedTensor stands for, in either stock-ONNX form: `(code - zeroPoint) * scale` (what
 * DequantizeLinear computes) or, with `lookup`, `table[code] * scale` (what Gather followed by Mul computes), both
 * rounded to float32 once, as onnxruntime does.
 *
 * @example
 * const restored = dequantizeQuantized(logQuantizer.quantizeWeight(weight, options));
 */
export function dequantizeQuantized(quantized: QuantizedTensor): Float32Array {
  const { codes, params, lookup } = quantized;
  if (lookup === undefined) return dequantizeLinear(codes.data, codes.shape, params);
  const { table } = lookup;
  const out = new Float32Array(codes.data.length);
  forEachParamRun(codes.shape, params, (start, end, p, stride) => {
    const scale = params.scale[p]!;
    // Both factors are float32, so the double product is exact and fround is the float32 multiplication.
    for (let i = start; i < end; i += stride) out[i] = Math.fround(table[codes.data[i]!]! * scale);
  });
  return out;
}
