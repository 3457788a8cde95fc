import { QuantError, type Tensor, createTensor, sizeOf } from '@quantkit/core';
import { signCode } from './binarize-weight.js';

/** Binary activations: -1/+1 codes and the one scale that multiplies them. */
export interface BinarizedActivations {
  readonly codes: Tensor<'int8'>;
  /** mean |x| over the tensor (float32); 0 for an all-zero tensor, which then reconstructs exactly. */
  readonly scale: number;
}

/**
 * Binarizes activations as XNOR-Net does: `x ~ scale * sign(x)` with `scale = mean |x|` over the whole tensor
 * and sign(0) = +1 (two states, so activations pack and dot like binary weights).
 *
 * This is a function rather than the plugin's `paramsForRange`: the least-squares scale is mean |x| of the values
 * themselves, which a calibrated min/max range does not determine, so it is computed per tensor at run time (the
 * kernel runtime's binary layers). The quantize pipeline keeps activations in 8 bits for now, and the binary
 * quantizer declares `activations: false`.
 *
 * @example
 * binarizeActivations([0.5, -1.5, 0, 2], [4]); // codes [1, -1, 1, 1], scale 1
 * @throws QuantError INVALID_ARGUMENT for a non-finite value (naming its index) or values that do not fit `shape`.
 */
export function binarizeActivations(
  values: ArrayLike<number>,
  shape: readonly number[],
): BinarizedActivations {
  if (values.length !== sizeOf(shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `binarizeActivations: shape [${shape.join(', ')}] has ${sizeOf(shape)} elements, got ${values.length} values`,
    );
  }
  const codes = new Int8Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `binarizeActivations: value ${value} at flat index ${i}; binarization needs finite activations`,
      );
    }
    sum += Math.abs(value);
    codes[i] = signCode(value);
  }
  const scale = values.length === 0 ? 0 : Math.fround(sum / values.length);
  return { codes: createTensor('int8', shape, codes), scale };
}
