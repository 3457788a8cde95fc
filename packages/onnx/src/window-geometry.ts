import { QuantError } from '@quantkit/core';

// Where a sliding window (Conv, ConvTranspose's input side, the pools) sits over a tensor's spatial axes, by ONNX's
// rules: one implementation for the runtime's kernels and the quantizer's layer sampling.

/** The auto_pad values of Conv, ConvTranspose and the pools. */
export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

export const AUTO_PADS: readonly AutoPad[] = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** The sliding-window attributes as a node gives them (undefined where the node leaves them out). */
export interface WindowAttributes {
  readonly kernelShape: readonly number[] | undefined;
  readonly strides: readonly number[] | undefined;
  readonly dilations: readonly number[] | undefined;
  readonly pads: readonly number[] | undefined;
  readonly autoPad: AutoPad;
  readonly ceilMode: boolean;
}

/** Where a window slides over the spatial dimensions of an input: one entry per spatial axis. */
export interface WindowGeometry {
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Padding before each axis (output position 0 reads input position -padBegin). */
  readonly padBegin: readonly number[];
  /** Padding after each axis (auto_pad's included). */
  readonly padEnd: readonly number[];
}

/**
 * The output size and leading padding of a Conv or a pool (ONNX rules, as onnxruntime applies them): explicit
 * pads, or SAME_UPPER / SAME_LOWER (output ceil(in / stride), the odd pad at the end / the start), or VALID (no
 * pads). `ceil_mode` rounds the output size up but, as onnxruntime does, drops a last window that would start in
 * the end padding.
 * @throws QuantError INVALID_MODEL when an attribute's length does not match the spatial rank or a size is not
 *   positive.
 */
export function windowGeometry(
  attributes: WindowAttributes,
  input: readonly number[],
  kernel: readonly number[],
  samePadsUseDilation = true,
): WindowGeometry {
  const rank = input.length;
  const strides = perAxis(attributes.strides, rank, 'strides');
  const dilations = perAxis(attributes.dilations, rank, 'dilations');
  if (kernel.length !== rank) {
    throw new QuantError(
      'INVALID_MODEL',
      `kernel_shape has ${kernel.length} values for ${rank} spatial axes`,
    );
  }
  const pads = attributes.pads ?? new Array<number>(2 * rank).fill(0);
  if (pads.length !== 2 * rank) {
    throw new QuantError('INVALID_MODEL', `pads has ${pads.length} values; expected ${2 * rank}`);
  }
  const output: number[] = [];
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const size = input[axis]!;
    const stride = strides[axis]!;
    const dilation = dilations[axis]!;
    const extent = (kernel[axis]! - 1) * dilation + 1;
    if (stride < 1 || dilation < 1 || kernel[axis]! < 1) {
      throw new QuantError(
        'INVALID_MODEL',
        `kernel ${kernel[axis]}, stride ${stride} and dilation ${dilation} must be positive`,
      );
    }
    let begin: number;
    let total: number;
    if (attributes.autoPad === 'SAME_UPPER' || attributes.autoPad === 'SAME_LOWER') {
      const target = Math.ceil(size / stride);
      const window = samePadsUseDilation ? extent : kernel[axis]!;
      total = Math.max(0, (target - 1) * stride + window - size);
      begin = attributes.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    } else if (attributes.autoPad === 'VALID') {
      begin = 0;
      total = 0;
    } else {
      begin = pads[axis]!;
      total = begin + pads[axis + rank]!;
    }
    const span = size + total - extent;
    let count = (attributes.ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
    if (attributes.ceilMode && count > 1 && (count - 1) * stride >= size + begin) count -= 1;
    if (count < 0) count = 0;
    output.push(count);
    padBegin.push(begin);
    padEnd.push(total - begin);
  }
  return { input, output, kernel, strides, dilations, padBegin, padEnd };
}

function perAxis(values: readonly number[] | undefined, rank: number, name: string): readonly number[] {
  if (values === undefined) return new Array<number>(rank).fill(1);
  if (values.length !== rank) {
    throw new QuantError('INVALID_MODEL', `${name} has ${values.length} values for ${rank} spatial axes`);
  }
  return values;
}
