import { QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { type ConvAttributes, type ConvGeometry, convGeometry } from '../../js/kernels/conv-geometry.js';
import { asThreeAxes } from '../../js/kernels/window-geometry.js';
import type { WasmHeap } from '../wasm-heap.js';

/** Output positions per packed-B panel (the GEMM tiles' width). */
export const PANEL = 8;

/**
 * Bytes of packed B (plus C) a GEMM pass over a range of panels aims at, so im2col's output is still in cache when
 * the GEMM reads it and the weights stay in cache across the range.
 */
const CHUNK_BYTES = 96 * 1024;

export type { ConvAttributes } from '../../js/kernels/conv-geometry.js';
export { readConvAttributes } from '../../js/kernels/conv-geometry.js';

/**
 * A convolution's geometry (convGeometry) with its window on up to three spatial axes as (depth, height, width),
 * 1-D and 2-D padded with unit axes in front: the layout the WebAssembly loops read.
 */
export interface ConvShape extends ConvGeometry {
  readonly spatialRank: number;
  readonly input: readonly [number, number, number];
  readonly output: readonly [number, number, number];
  readonly kernel: readonly [number, number, number];
  readonly strides: readonly [number, number, number];
  readonly dilations: readonly [number, number, number];
  readonly padBegin: readonly [number, number, number];
  readonly inSize: number;
}

/**
 * @throws QuantError INVALID_MODEL when X, W, group and kernel_shape do not fit together (see convGeometry);
 *   UNSUPPORTED for more than three spatial axes.
 */
export function convShape(x: Tensor, w: Tensor, attributes: ConvAttributes): ConvShape {
  const spatialRank = x.shape.length - 2;
  if (spatialRank > 3) {
    throw new QuantError('UNSUPPORTED', `X has ${spatialRank} spatial axes; at most 3 are implemented`);
  }
  const geometry = convGeometry(attributes, x.shape, w.shape);
  const { window } = geometry;
  return {
    ...geometry,
    spatialRank,
    input: asThreeAxes(window.input, 1),
    output: asThreeAxes(window.output, 1),
    kernel: asThreeAxes(window.kernel, 1),
    strides: asThreeAxes(window.strides, 1),
    dilations: asThreeAxes(window.dilations, 1),
    padBegin: asThreeAxes(window.padBegin, 0),
    inSize: sizeOf(window.input),
  };
}

/** Depthwise (each output channel reads one input channel) on at most two spatial axes: the direct kernels. */
export function isDepthwise(shape: ConvShape): boolean {
  return shape.groupChannels === 1 && shape.group > 1 && shape.spatialRank <= 2;
}

/**
 * A 1x1 window without stride or pads on at most two spatial axes: the patches are the input planes themselves,
 * packed as they are.
 */
export function isPointwise(shape: ConvShape): boolean {
  const [, inH, inW] = shape.input;
  const [, outH, outW] = shape.output;
  return (
    shape.spatialRank <= 2 &&
    shape.kernelSize === 1 &&
    shape.strides.every((stride) => stride === 1) &&
    shape.padBegin.every((pad) => pad === 0) &&
    inH * inW === outH * outW
  );
}

/** Bytes of the geometry block the convolution functions of kernels.wat read (15 i32s, rounded up). */
export const GEOMETRY_BYTES = 64;

/**
 * Writes the geometry block of the height and width axes (see kernels.wat): `planes` entries in the plane table
 * (im2col), `padded` the depthwise kernels' padded plane.
 */
export function writeGeometry(
  heap: WasmHeap,
  at: number,
  shape: ConvShape,
  planes: number,
  padded: { readonly height: number; readonly width: number } = { height: 0, width: 0 },
): void {
  const { input, output, kernel, strides, dilations, padBegin } = shape;
  new Int32Array(heap.buffer, at, 15).set([
    input[1],
    input[2],
    output[1],
    output[2],
    kernel[1],
    kernel[2],
    strides[1],
    strides[2],
    dilations[1],
    dilations[2],
    padBegin[1],
    padBegin[2],
    planes,
    padded.height,
    padded.width,
  ]);
}

/**
 * The padded plane the depthwise kernels read: the input with its leading padding, and room for every row a
 * window reaches and for the vector reads of up to 8 positions past each output row's end.
 */
export function depthwisePadding(shape: ConvShape): { height: number; width: number } {
  const [, inH, inW] = shape.input;
  const [, outH, outW] = shape.output;
  const [, kH, kW] = shape.kernel;
  const [, sH, sW] = shape.strides;
  const [, dH, dW] = shape.dilations;
  const [, pH, pW] = shape.padBegin;
  return {
    height: Math.max(pH + inH, (outH - 1) * sH + (kH - 1) * dH + 1),
    width: Math.max(pW + inW, Math.ceil(outW / 8) * 8 * sW + (kW - 1) * dW),
  };
}

/** Panels of one GEMM pass: as many as keep `bytesPerPanel` (B and C of one panel) near CHUNK_BYTES. */
export function chunkPanels(bytesPerPanel: number, panels: number): number {
  return Math.max(1, Math.min(panels, Math.floor(CHUNK_BYTES / Math.max(1, bytesPerPanel))));
}

/**
 * Addresses in the heap's scratch arena for operands of these byte sizes (each 64-byte aligned), taken once for
 * the run; read heap.buffer after this call (the arena may have grown the memory).
 */
export function carveScratch<K extends string>(heap: WasmHeap, sizes: Record<K, number>): Record<K, number> {
  const at = {} as Record<K, number>;
  let total = 0;
  for (const name of Object.keys(sizes) as K[]) {
    at[name] = total;
    total += Math.ceil(sizes[name] / 64) * 64;
  }
  const base = heap.scratch(total);
  for (const name of Object.keys(at) as K[]) at[name] += base;
  return at;
}

/**
 * The plane table of one image, group and output depth slice: for each input channel of the group and kernel
 * depth tap, the byte address of the input plane (height x width) it reads, or -1 for a plane in the depth
 * padding. `x` is the input's address, `elementBytes` 4 (float) or 1 (codes).
 */
export function fillPlaneTable(
  table: Int32Array,
  shape: ConvShape,
  x: number,
  elementBytes: number,
  image: number,
  group: number,
  slice: number,
): void {
  const [inD, inH, inW] = shape.input;
  const [kD] = shape.kernel;
  const [sD] = shape.strides;
  const [dD] = shape.dilations;
  const [pD] = shape.padBegin;
  const planeSize = inH * inW;
  let entry = 0;
  for (let c = 0; c < shape.groupChannels; c++) {
    const channel = image * shape.channels + group * shape.groupChannels + c;
    for (let kd = 0; kd < kD; kd++, entry++) {
      const depth = slice * sD - pD + kd * dD;
      table[entry] = depth < 0 || depth >= inD ? -1 : x + (channel * inD + depth) * planeSize * elementBytes;
    }
  }
}
