import { QuantError, type Tensor } from '@quantkit/core';
import { tensorOf } from '../tensor-utils.js';

/**
 * A kernel's float32 result as a tensor of the input's float dtype: float64 inputs are computed in float32 (as
 * onnxruntime's float kernels do) and widened back.
 */
export function floatOutput(dtype: Tensor['dtype'], shape: readonly number[], data: Float32Array): Tensor {
  if (dtype === 'float32') return tensorOf('float32', shape, data);
  if (dtype === 'float64') return tensorOf('float64', shape, Float64Array.from(data));
  throw new QuantError('UNSUPPORTED', `input is ${dtype}; this kernel computes on float32 and float64`);
}
