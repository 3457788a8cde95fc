import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { AUTO_PADS, type AutoPad, type WindowAttributes, type WindowGeometry } from '@quantkit/onnx';

export { type AutoPad, type WindowAttributes, type WindowGeometry, windowGeometry } from '@quantkit/onnx';

/**
 * Reads kernel_shape, strides, dilations, pads, auto_pad and ceil_mode of a node.
 * @throws QuantError INVALID_MODEL for an auto_pad outside NOTSET, SAME_UPPER, SAME_LOWER, VALID.
 */
export function readWindowAttributes(node: KernelNode): WindowAttributes {
  const attributes = node.attributes;
  const optional = (name: string) => (attributes.has(name) ? attributes.ints(name) : undefined);
  const autoPad = attributes.string('auto_pad', 'NOTSET') as AutoPad;
  if (!AUTO_PADS.includes(autoPad)) {
    throw new QuantError(
      'INVALID_MODEL',
      `auto_pad is "${autoPad}"; expected one of ${AUTO_PADS.join(', ')}`,
    );
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
