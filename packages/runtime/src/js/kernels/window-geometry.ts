import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';

/** The auto_pad values of Conv, ConvTranspose and the pools. */
export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

const autoPads: readonly AutoPad[] = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** The sliding-window attributes as a node gives them (undefined where the node leaves them out). */
export interface WindowAttributes {
  readonly kernelShape: readonly number[] | undefined;
  readonly strides: readonly number[] | undefined;
  readonly dilations: readonly number[] | undefined;
  readonly pads: readonly number[] | undefined;
  readonly autoPad: AutoPad;
  readonly ceilMode: boolean;
}

/**
 * Reads kernel_shape, strides, dilations, pads, auto_pad and ceil_mode of a node.
 * @throws QuantError INVALID_MODEL for an auto_pad outside NOTSET, SAME_UPPER, SAME_LOWER, VALID.
 */
export function readWindowAttributes(node: KernelNode): WindowAttributes {
  const attributes = node.attributes;
  const optional = (name: string) => (attributes.has(name) ? attributes.ints(name) : undefined);
  const autoPad = attributes.string('auto_pad', 'NOTSET') as AutoPad;
  if (!autoPads.includes(autoPad)) {
    throw new QuantError('INVALID_MODEL', `auto_pad is "${autoPad}"; expected one of ${autoPads.join(', ')}`);
  }
  return {
    kernelShape: optional('kernel_shape'),
    strides: optional('strides'),
    dilations: optional('dilations'),
    pads: optional('pads'),
    autoPad,
    ceilMode: attributes.int('ceil_mode', 0) !== 0,
  };
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

/**
 * The spatial shape of an [N, C, ...spatial] tensor, checked to have 1 to 3 spatial axes.
 * @throws QuantError INVALID_MODEL below rank 3; UNSUPPORTED above rank 5.
 */
export function spatialShape(x: Tensor, what: string): readonly number[] {
  if (x.shape.length < 3) {
    throw new QuantError('INVALID_MODEL', `${what} is [${x.shape.join(', ')}]; expected [N, C, ...spatial]`);
  }
  if (x.shape.length > 5) {
    throw new QuantError(
      'UNSUPPORTED',
      `${what} has ${x.shape.length - 2} spatial axes; at most 3 are implemented`,
    );
  }
  return x.shape.slice(2);
}

/** Per-axis values padded in front to three axes (depth, height, width), so one loop nest serves 1-D to 3-D. */
export function asThreeAxes(values: readonly number[], fill: number): [number, number, number] {
  const padded = [...new Array<number>(3 - values.length).fill(fill), ...values];
  return [padded[0]!, padded[1]!, padded[2]!];
}

/**
 * For each kernel offset `k` along one axis, the output positions `[first[k], last[k])` whose input position
 * `o * stride - padBegin + k * dilation` falls inside `[0, size)`.
 */
export function validRanges(
  size: number,
  outSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
): { first: Int32Array; last: Int32Array } {
  const first = new Int32Array(kernel);
  const last = new Int32Array(kernel);
  for (let k = 0; k < kernel; k++) {
    const shift = k * dilation - padBegin;
    const lo = Math.max(0, Math.ceil(-shift / stride));
    const hi = Math.min(outSize, Math.floor((size - 1 - shift) / stride) + 1);
    first[k] = Math.min(lo, outSize);
    last[k] = Math.max(hi, first[k]!);
  }
  return { first, last };
}

/**
 * For each kernel position (row-major over the kernel) and output position (row-major over the output), the
 * offset of the input element the window reads there, or -1 in the padding: a [kernelSize, outputSize] table
 * that turns im2col into one lookup per element.
 */
export function patchOffsets(geometry: WindowGeometry): Int32Array {
  const { input, kernel, output, strides, dilations, padBegin } = geometry;
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
          outputIndex[axis]! * strides[axis]! - padBegin[axis]! + kernelIndex[axis]! * dilations[axis]!;
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
