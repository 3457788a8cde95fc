import type { WindowGeometry } from './window-geometry.js';

// im2col for the packed Conv kernels (JS and WASM): patches as rows, in the weight's (channel, kernel) order.

/** Writable typed arrays im2col fills. */
export type PatchArray = Float32Array | Int8Array | Uint8Array;

/**
 * Copies the receptive fields of `channels` input channels (starting at `xOffset`) into `patches`, one row per
 * output position (row-major over the output's spatial dimensions) of `channels * prod(kernel)` elements in the
 * weight's order (channel, then kernel position row-major). Padding reads as 0; `valid`, when given, gets 1 for
 * elements inside the input and 0 for padding.
 */
export function im2col(
  x: ArrayLike<number>,
  xOffset: number,
  channels: number,
  geometry: WindowGeometry,
  patches: PatchArray,
  valid?: Uint8Array,
): void {
  const { input, kernel, strides, dilations, padBegin, output } = geometry;
  const rank = input.length;
  const kernelSize = kernel.reduce((a, b) => a * b, 1);
  const inputSize = input.reduce((a, b) => a * b, 1);
  const positions = output.reduce((a, b) => a * b, 1);
  const inputStrides = new Array<number>(rank);
  for (let axis = rank - 1, stride = 1; axis >= 0; axis--) {
    inputStrides[axis] = stride;
    stride *= input[axis]!;
  }
  // Each kernel position's offset along each axis, dilated.
  const taps = new Int32Array(kernelSize * rank);
  for (let q = 0; q < kernelSize; q++) {
    for (let axis = rank - 1, rest = q; axis >= 0; axis--) {
      taps[q * rank + axis] = (rest % kernel[axis]!) * dilations[axis]!;
      rest = Math.floor(rest / kernel[axis]!);
    }
  }
  const rowLength = channels * kernelSize;
  const start = new Int32Array(rank);
  const position = new Int32Array(rank);
  for (let l = 0; l < positions; l++) {
    for (let axis = 0; axis < rank; axis++) {
      start[axis] = position[axis]! * strides[axis]! - padBegin[axis]!;
    }
    const row = l * rowLength;
    for (let q = 0; q < kernelSize; q++) {
      let offset = 0;
      let inside = true;
      for (let axis = 0; axis < rank; axis++) {
        const coordinate = start[axis]! + taps[q * rank + axis]!;
        if (coordinate < 0 || coordinate >= input[axis]!) {
          inside = false;
          break;
        }
        offset += coordinate * inputStrides[axis]!;
      }
      for (let c = 0; c < channels; c++) {
        const at = row + c * kernelSize + q;
        patches[at] = inside ? x[xOffset + c * inputSize + offset]! : 0;
        if (valid !== undefined) valid[at] = inside ? 1 : 0;
      }
    }
    for (let axis = rank - 1; axis >= 0; axis--) {
      position[axis]! += 1;
      if (position[axis]! < output[axis]!) break;
      position[axis] = 0;
    }
  }
}
