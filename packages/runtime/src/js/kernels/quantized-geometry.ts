import { type KernelNode, QuantError, sizeOf } from '@quantkit/core';

/** The window attributes of Conv-like and pool-like ops, read once when the node is prepared. */
export interface WindowAttributes {
  readonly autoPad: string;
  readonly kernelShape: readonly number[] | undefined;
  readonly strides: readonly number[] | undefined;
  readonly dilations: readonly number[] | undefined;
  readonly pads: readonly number[] | undefined;
  readonly ceilMode: boolean;
}

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** @throws QuantError INVALID_MODEL for an unknown auto_pad. */
export function readWindowAttributes(node: KernelNode): WindowAttributes {
  const { attributes } = node;
  const autoPad = attributes.string('auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad)) {
    throw new QuantError(
      'INVALID_MODEL',
      `auto_pad is "${autoPad}"; expected one of ${AUTO_PADS.join(', ')}`,
    );
  }
  const ints = (name: string) => (attributes.has(name) ? attributes.ints(name) : undefined);
  return {
    autoPad,
    kernelShape: ints('kernel_shape'),
    strides: ints('strides'),
    dilations: ints('dilations'),
    pads: ints('pads'),
    ceilMode: attributes.int('ceil_mode', 0) !== 0,
  };
}

/** Where a sliding window sits over the spatial dimensions of an input. */
export interface WindowGeometry {
  readonly input: readonly number[];
  readonly kernel: readonly number[];
  readonly output: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Padding before each spatial dimension (the window of output position o starts at o * stride - padBegin). */
  readonly padsBegin: readonly number[];
  readonly padsEnd: readonly number[];
}

/**
 * The output size and padding of a window over `input` (spatial dimensions only), with ONNX's rules for explicit
 * pads, auto_pad SAME_UPPER/SAME_LOWER/VALID and ceil_mode.
 * @throws QuantError INVALID_MODEL when the attributes do not fit the input's rank or leave no output.
 */
export function windowGeometry(
  input: readonly number[],
  kernel: readonly number[],
  attributes: WindowAttributes,
): WindowGeometry {
  const rank = input.length;
  const strides = attributes.strides ?? new Array<number>(rank).fill(1);
  const dilations = attributes.dilations ?? new Array<number>(rank).fill(1);
  const pads = attributes.pads ?? new Array<number>(2 * rank).fill(0);
  if (
    kernel.length !== rank ||
    strides.length !== rank ||
    dilations.length !== rank ||
    pads.length !== 2 * rank
  ) {
    throw new QuantError(
      'INVALID_MODEL',
      `kernel_shape, strides, dilations and pads must have ${rank}, ${rank}, ${rank} and ${2 * rank} values for ${rank} spatial dimensions`,
    );
  }
  const output: number[] = [];
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const size = input[axis]!;
    const stride = strides[axis]!;
    const extent = dilations[axis]! * (kernel[axis]! - 1) + 1;
    let begin = pads[axis]!;
    let end = pads[axis + rank]!;
    let out: number;
    if (attributes.autoPad === 'SAME_UPPER' || attributes.autoPad === 'SAME_LOWER') {
      out = Math.ceil(size / stride);
      const total = Math.max(0, (out - 1) * stride + extent - size);
      begin = attributes.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      end = total - begin;
    } else {
      if (attributes.autoPad === 'VALID') {
        begin = 0;
        end = 0;
      }
      const span = size + begin + end - extent;
      out = (attributes.ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
      // A last window that would start inside the end padding only is dropped (ceil_mode).
      if (attributes.ceilMode && (out - 1) * stride >= size + begin) out -= 1;
    }
    if (out < 0 || (out === 0 && size > 0)) {
      throw new QuantError(
        'INVALID_MODEL',
        `a window of ${extent} over ${size} (pads ${begin}, ${end}) leaves no output`,
      );
    }
    output.push(Math.max(out, 0));
    padsBegin.push(begin);
    padsEnd.push(end);
  }
  return { input, kernel, output, strides, dilations, padsBegin, padsEnd };
}

/**
 * For each kernel position (row-major over the kernel) and output position (row-major over the output), the
 * offset of the input element the window reads there, or -1 in the padding: a [kernelSize, outputSize] table
 * that turns im2col into one lookup per element.
 */
export function patchOffsets(geometry: WindowGeometry): Int32Array {
  const { input, kernel, output, strides, dilations, padsBegin } = geometry;
  const rank = input.length;
  const kernelSize = sizeOf(kernel);
  const outputSize = sizeOf(output);
  const table = new Int32Array(kernelSize * outputSize);
  const kernelIndex = new Array<number>(rank).fill(0);
  for (let kk = 0; kk < kernelSize; kk++) {
    const outputIndex = new Array<number>(rank).fill(0);
    for (let p = 0; p < outputSize; p++) {
      let offset = 0;
      let inside = true;
      for (let axis = 0; axis < rank; axis++) {
        const position =
          outputIndex[axis]! * strides[axis]! - padsBegin[axis]! + kernelIndex[axis]! * dilations[axis]!;
        if (position < 0 || position >= input[axis]!) {
          inside = false;
          break;
        }
        offset = offset * input[axis]! + position;
      }
      table[kk * outputSize + p] = inside ? offset : -1;
      increment(outputIndex, output);
    }
    increment(kernelIndex, kernel);
  }
  return table;
}

/** Steps a row-major multi-index. */
function increment(index: number[], shape: readonly number[]): void {
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis]! += 1;
    if (index[axis]! < shape[axis]!) return;
    index[axis] = 0;
  }
}
