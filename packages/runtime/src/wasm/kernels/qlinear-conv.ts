import { type KernelNode, QuantError, type Tensor } from '@quantkit/core';
import { codes8, scaleOf, scalesOf, zeroPointOf } from '../../js/kernels/quantized-values.js';
import { required, tensorOf } from '../../js/tensor-utils.js';
import type { WasmSimdHandle } from '../backend.js';
import { wasmKernel } from '../wasm-kernel.js';
import {
  type ConvAttributes,
  type ConvShape,
  GEOMETRY_BYTES,
  PANEL,
  carveScratch,
  chunkPanels,
  convShape,
  depthwisePadding,
  fillPlaneTable,
  isDepthwise,
  isPointwise,
  readConvAttributes,
  writeGeometry,
} from './conv-layout.js';

/** Rows per tile of the int8 GEMM's multi-row tiles, which read B widened to i16. */
const GROUP_ROWS = 5;

/** A constant weight packed per group as the int8 GEMM's A (kernels.wat's plain layout), with its row sums. */
interface PackedWeights {
  readonly signed: boolean;
  readonly groups: readonly { readonly a: number; readonly rowSums: number }[];
}

interface IntegerConvState {
  readonly handle: WasmSimdHandle;
  readonly attributes: ConvAttributes;
  readonly packed: PackedWeights | undefined;
}

/** What the integer convolution's sums become: int32 as they are (ConvInteger), or requantized codes. */
type Epilogue =
  | { readonly kind: 'int32' }
  | {
      readonly kind: 'requantize';
      /** Per output channel: x_scale * w_scale / y_scale in float32. */
      readonly scales: Float32Array;
      readonly bias: Int32Array | undefined;
      readonly zeroPoint: number;
      readonly signed: boolean;
    };

function kPaddedOf(k: number): number {
  return Math.ceil(k / 4) * 4;
}

function bytesOf(codes: Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(codes.buffer, codes.byteOffset, codes.length);
}

function prepareIntegerConv(node: KernelNode, handle: WasmSimdHandle, weightSlot: number): IntegerConvState {
  const attributes = readConvAttributes(node);
  const state: { -readonly [K in keyof IntegerConvState]: IntegerConvState[K] } = {
    handle,
    attributes,
    packed: undefined,
  };
  const weight = node.inputs[weightSlot]?.constant;
  const { group } = attributes;
  if (
    weight !== undefined &&
    (weight.dtype === 'uint8' || weight.dtype === 'int8') &&
    weight.shape.length >= 3 &&
    group >= 1 &&
    weight.shape[0]! % group === 0 &&
    weight.data.length > 0 &&
    // Depthwise weights (run by the direct kernel on 1-D and 2-D) are read as they are.
    !(weight.shape[1] === 1 && group > 1 && weight.shape.length <= 4)
  ) {
    const { heap } = handle;
    const rows = weight.shape[0]! / group;
    const k = weight.data.length / weight.shape[0]!;
    const kPadded = kPaddedOf(k);
    const signed = weight.dtype === 'int8';
    const raw = bytesOf(weight.data as Int8Array | Uint8Array);
    const groups = Array.from({ length: group }, () => ({
      a: heap.allocate(rows * kPadded * 2),
      rowSums: heap.allocate(rows * 4),
    }));
    const source = heap.scratch(raw.length);
    new Uint8Array(heap.buffer, source, raw.length).set(raw);
    for (const [g, { a, rowSums }] of groups.entries()) {
      handle.kernels.pack_a_i8(source + g * rows * k, rows, k, k, signed ? 1 : 0, a, rowSums, kPadded);
    }
    heap.freeWith(
      state,
      groups.flatMap(({ a, rowSums }) => [a, rowSums]),
    );
    state.packed = { signed, groups };
  }
  return state;
}

/**
 * The integer convolution QLinearConv and ConvInteger run: the sums over each window of (x - xZero)(w - wZero),
 * wZero per tensor or per output channel, then the epilogue. Returns the output data (codes or int32).
 * @throws QuantError INVALID_MODEL when the shapes or zero points do not fit; UNSUPPORTED for codes not 8-bit.
 */
function integerConv(
  state: IntegerConvState,
  x: Tensor,
  xZero: number,
  w: Tensor,
  wZeros: Int32Array,
  epilogue: Epilogue,
): { shape: ConvShape; data: Uint8Array | Int32Array } {
  const xCodes = codes8(x, 'x');
  const wCodes = codes8(w, 'w');
  const shape = convShape(x, w, state.attributes);
  if (wZeros.length !== 1 && wZeros.length !== shape.outChannels) {
    throw new QuantError(
      'INVALID_MODEL',
      `w_zero_point has ${wZeros.length} values for ${shape.outChannels} channels`,
    );
  }
  const total = shape.batch * shape.outChannels * shape.outSize;
  const outBytes = epilogue.kind === 'int32' ? 4 : 1;
  if (total === 0) return { shape, data: epilogue.kind === 'int32' ? new Int32Array(0) : new Uint8Array(0) };
  if (xCodes.length === 0) {
    throw new QuantError('UNSUPPORTED', 'x has no channels; this kernel needs at least one');
  }
  const problem = { xCodes, xSigned: x.dtype === 'int8', xZero, wCodes, wSigned: w.dtype === 'int8', wZeros };
  const data = isDepthwise(shape)
    ? depthwise(state, shape, problem, epilogue, total * outBytes)
    : im2colGemm(state, shape, problem, epilogue, total * outBytes);
  return { shape, data };
}

interface IntegerProblem {
  readonly xCodes: Int8Array | Uint8Array;
  readonly xSigned: boolean;
  readonly xZero: number;
  readonly wCodes: Int8Array | Uint8Array;
  readonly wSigned: boolean;
  readonly wZeros: Int32Array;
}

/** The output bytes at `at` copied out of the heap, as codes or int32. */
function copyOut(
  handle: WasmSimdHandle,
  at: number,
  bytes: number,
  epilogue: Epilogue,
): Uint8Array | Int32Array {
  const copy = new Uint8Array(handle.heap.buffer, at, bytes).slice();
  return epilogue.kind === 'int32' ? new Int32Array(copy.buffer) : copy;
}

function depthwise(
  state: IntegerConvState,
  shape: ConvShape,
  { xCodes, xSigned, xZero, wCodes, wZeros }: IntegerProblem,
  epilogue: Epilogue,
  outBytes: number,
): Uint8Array | Int32Array {
  const { heap, kernels } = state.handle;
  const { outChannels, kernelSize } = shape;
  const padded = depthwisePadding(shape);
  const requantize = epilogue.kind === 'requantize';
  const at = carveScratch(heap, {
    geometry: GEOMETRY_BYTES,
    x: xCodes.length,
    taps: outChannels * kernelSize * 2,
    accInit: outChannels * 4,
    scales: requantize ? outChannels * 4 : 0,
    out: outBytes,
    // The stride-2 reads may pass the padded plane's end by 8 bytes.
    padded: padded.height * padded.width + 64,
  });
  const buffer = heap.buffer;
  writeGeometry(heap, at.geometry, shape, 0, padded);
  new Uint8Array(buffer, at.x, xCodes.length).set(bytesOf(xCodes));
  // Signed codes are read plus 128 (unsigned), their zero point too; the sums do not change.
  const xZeroStored = xSigned ? xZero + 128 : xZero;
  const taps = new Int16Array(buffer, at.taps, outChannels * kernelSize);
  const accInit = new Int32Array(buffer, at.accInit, outChannels);
  const bias = epilogue.kind === 'requantize' ? epilogue.bias : undefined;
  for (let m = 0; m < outChannels; m++) {
    const zero = wZeros.length === 1 ? wZeros[0]! : wZeros[m]!;
    let sum = 0;
    for (let t = 0; t < kernelSize; t++) {
      const tap = wCodes[m * kernelSize + t]! - zero;
      taps[m * kernelSize + t] = tap;
      sum += tap;
    }
    accInit[m] = ((bias === undefined ? 0 : bias[m]!) - Math.imul(xZeroStored, sum)) | 0;
  }
  if (epilogue.kind === 'requantize') new Float32Array(buffer, at.scales, outChannels).set(epilogue.scales);
  const imageIn = shape.channels * shape.inSize;
  const imageOut = outChannels * shape.outSize * (requantize ? 1 : 4);
  for (let image = 0; image < shape.batch; image++) {
    kernels.depthwise_i8(
      at.geometry,
      at.x + image * imageIn,
      at.taps,
      at.accInit,
      outChannels / shape.channels,
      outChannels,
      xZero & 0xff,
      xSigned ? 0x80 : 0,
      requantize ? at.scales : 0,
      epilogue.kind === 'requantize' ? epilogue.zeroPoint : 0,
      epilogue.kind === 'requantize' && epilogue.signed ? 1 : 0,
      at.out + image * imageOut,
      at.padded,
    );
  }
  return copyOut(state.handle, at.out, outBytes, epilogue);
}

function im2colGemm(
  state: IntegerConvState,
  shape: ConvShape,
  { xCodes, xSigned, xZero, wCodes, wSigned, wZeros }: IntegerProblem,
  epilogue: Epilogue,
  outBytes: number,
): Uint8Array | Int32Array {
  const { heap, kernels } = state.handle;
  const { batch, group, groupChannels, groupOutputs: m, outChannels, kernelSize, outSize } = shape;
  const [, outH, outW] = shape.output;
  const [outD] = shape.output;
  const [kD] = shape.kernel;
  const k = groupChannels * kernelSize;
  const kPadded = kPaddedOf(k);
  const planes = groupChannels * kD;
  const slicePositions = outH * outW;
  const slicePanels = Math.ceil(slicePositions / PANEL);
  const wide = m >= GROUP_ROWS;
  const panelBytes = kPadded * PANEL * (wide ? 3 : 1) + m * PANEL * 4;
  const panelsPerPass = chunkPanels(panelBytes, slicePanels);
  const prepared = state.packed?.signed === wSigned ? state.packed.groups : undefined;
  const requantize = epilogue.kind === 'requantize';
  const bias = epilogue.kind === 'requantize' ? epilogue.bias : undefined;
  // With every weight zero point 0 (symmetric weights), the zero points' correction is a constant per output
  // channel, -xZero * rowSum(W): it joins the bias, and the requantization is the only pass after the GEMM.
  const folded = requantize && (wZeros.length === 1 ? wZeros[0] === 0 : wZeros.every((zero) => zero === 0));
  const at = carveScratch(heap, {
    geometry: GEOMETRY_BYTES,
    planes: planes * 4,
    // The im2col's stride-2 reads may pass a plane's end by a byte.
    x: xCodes.length + 64,
    weightsRaw: prepared === undefined ? wCodes.length : 0,
    weights: prepared === undefined ? group * m * kPadded * 2 : 0,
    rowSums: prepared === undefined ? group * m * 4 : 0,
    za: outChannels * 4,
    zb: panelsPerPass * PANEL * 4,
    colSums: panelsPerPass * PANEL * 4,
    b: panelsPerPass * kPadded * PANEL,
    bWide: wide ? panelsPerPass * kPadded * PANEL * 2 : 0,
    c: panelsPerPass * m * PANEL * 4,
    scales: requantize ? outChannels * 4 : 0,
    bias: bias === undefined && !folded ? 0 : outChannels * 4,
    out: outBytes,
  });
  const buffer = heap.buffer;
  writeGeometry(heap, at.geometry, shape, planes);
  new Uint8Array(buffer, at.x, xCodes.length).set(bytesOf(xCodes));
  let groups = prepared;
  if (groups === undefined) {
    new Uint8Array(buffer, at.weightsRaw, wCodes.length).set(bytesOf(wCodes));
    groups = Array.from({ length: group }, (_, g) => ({
      a: at.weights + g * m * kPadded * 2,
      rowSums: at.rowSums + g * m * 4,
    }));
    for (const [g, { a, rowSums }] of groups.entries()) {
      kernels.pack_a_i8(at.weightsRaw + g * m * k, m, k, k, wSigned ? 1 : 0, a, rowSums, kPadded);
    }
  }
  // Zero points in the stored codes' domain: W's as they are (A widened), x's minus 128 when unsigned (B is
  // stored as s8, unsigned codes xor 0x80).
  const za = new Int32Array(buffer, at.za, outChannels);
  if (wZeros.length === 1) za.fill(wZeros[0]!);
  else za.set(wZeros);
  const xZeroStored = xSigned ? xZero : xZero - 128;
  new Int32Array(buffer, at.zb, panelsPerPass * PANEL).fill(xZeroStored);
  // The column sums only meet a nonzero weight zero point.
  const columnSums = za.some((zero) => zero !== 0);
  new Int32Array(buffer, at.colSums, panelsPerPass * PANEL).fill(0);
  if (epilogue.kind === 'requantize') new Float32Array(buffer, at.scales, outChannels).set(epilogue.scales);
  if (folded) {
    const biases = new Int32Array(buffer, at.bias, outChannels);
    for (const [g, { rowSums }] of groups.entries()) {
      const sums = new Int32Array(buffer, rowSums, m);
      for (let row = 0; row < m; row++) {
        const channel = g * m + row;
        biases[channel] =
          ((bias === undefined ? 0 : bias[channel]!) - Math.imul(xZeroStored, sums[row]!)) | 0;
      }
    }
  } else if (bias !== undefined) new Int32Array(buffer, at.bias, outChannels).set(bias);
  const table = new Int32Array(buffer, at.planes, planes);
  const padByte = xZero & 0xff;
  const flip = xSigned ? 0 : 0x80;
  const outputBytes = requantize ? 1 : 4;
  const pointwise = isPointwise(shape);
  for (let image = 0; image < batch; image++) {
    for (let g = 0; g < group; g++) {
      const { a, rowSums } = groups[g]!;
      for (let slice = 0; slice < outD; slice++) {
        fillPlaneTable(table, shape, at.x, 1, image, g, slice);
        const target =
          at.out + ((image * outChannels + g * m) * outSize + slice * slicePositions) * outputBytes;
        for (let first = 0; first < slicePanels; first += panelsPerPass) {
          const count = Math.min(panelsPerPass, slicePanels - first);
          const columns = Math.min(count * PANEL, slicePositions - first * PANEL);
          const ldc = count * PANEL * 4;
          if (pointwise) {
            kernels.pack_rows_i8(table[0]!, shape.inSize, k, first, count, flip, kPadded, at.b);
          } else {
            kernels.im2col_i8(at.geometry, at.planes, first, count, padByte, flip, kPadded, at.b);
          }
          if (columnSums) kernels.col_sums_i8(at.b, count, kPadded, at.colSums);
          if (wide) kernels.widen_b_i8(at.b, count * kPadded * PANEL, at.bWide);
          kernels.gemm_i8(a, at.b, at.bWide, at.c, ldc, m, count, kPadded);
          if (!folded) {
            kernels.apply_zero_points(at.c, ldc, m, count, rowSums, at.za + g * m * 4, at.colSums, at.zb, k);
          }
          if (epilogue.kind === 'requantize') {
            kernels.requantize_rows(
              at.c,
              ldc,
              m,
              columns,
              at.scales + g * m * 4,
              bias === undefined && !folded ? 0 : at.bias + g * m * 4,
              epilogue.zeroPoint,
              epilogue.signed ? 1 : 0,
              target + first * PANEL,
              outSize,
            );
          } else {
            kernels.copy_rows_32(at.c, ldc, m, columns, 0, target + first * PANEL * 4, outSize * 4);
          }
        }
      }
    }
  }
  return copyOut(state.handle, at.out, outBytes, epilogue);
}

function supportsCodes(
  node: KernelNode,
  codeSlots: readonly number[],
  floatSlots: readonly number[],
): true | string {
  for (const slot of codeSlots) {
    const dtype = node.inputs[slot]?.dtype;
    if (dtype !== undefined && dtype !== 'uint8' && dtype !== 'int8') {
      return `input ${slot} is ${dtype}; this kernel takes uint8 or int8 codes`;
    }
  }
  for (const slot of floatSlots) {
    const dtype = node.inputs[slot]?.dtype;
    if (dtype !== undefined && dtype !== 'float32')
      return `scale input ${slot} is ${dtype}; expected float32`;
  }
  return true;
}

/**
 * QLinearConv: an integer convolution of x (per tensor) by w (per tensor or per output channel, zero points
 * included), an optional int32 bias at scale x_scale * w_scale added to the sums, requantized to y_zero_point's
 * type as onnxruntime does. Conv's attributes on 1 to 3 spatial axes; depthwise (1-D and 2-D) on a direct SIMD
 * kernel, any other as im2col of the codes into packed panels and the int8 GEMM (weights packed once when
 * constant) with a per-channel requantization epilogue.
 */
const qLinearConv = wasmKernel<IntegerConvState>('QLinearConv', {
  opsets: { min: 10 },
  description:
    'QLinearConv: int8 im2col and the int8 GEMM with per-channel requantization; a SIMD depthwise kernel',
  supports: (node) => supportsCodes(node, [0, 2, 3, 5, 7], [1, 4, 6]),
  prepare: (node, handle) => prepareIntegerConv(node, handle, 3),
  run(state, inputs) {
    const [x, xScaleInput, xZeroInput, w, wScaleInput, wZeroInput, yScaleInput, yZeroInput, biasInput] =
      inputs;
    const input = required(x, 'x');
    const weight = required(w, 'w');
    const yZero = required(yZeroInput, 'y_zero_point');
    if (yZero.dtype !== 'uint8' && yZero.dtype !== 'int8') {
      throw new QuantError('UNSUPPORTED', `y_zero_point is ${yZero.dtype}; this kernel writes uint8 or int8`);
    }
    const xScale = scaleOf(required(xScaleInput, 'x_scale'), 'x_scale');
    const yScale = scaleOf(required(yScaleInput, 'y_scale'), 'y_scale');
    const xZero = zeroPointOf(required(xZeroInput, 'x_zero_point'), 'x_zero_point');
    const wScales = scalesOf(required(wScaleInput, 'w_scale'), 'w_scale');
    const wZeros = Int32Array.from(required(wZeroInput, 'w_zero_point').data as ArrayLike<number>);
    const outChannels = weight.shape[0] ?? 0;
    if (wScales.length !== 1 && wScales.length !== outChannels) {
      throw new QuantError(
        'INVALID_MODEL',
        `w_scale has ${wScales.length} values for ${outChannels} channels`,
      );
    }
    const scales = new Float32Array(outChannels);
    for (let channel = 0; channel < outChannels; channel++) {
      const wScale = wScales.length === 1 ? wScales[0]! : wScales[channel]!;
      scales[channel] = Math.fround(Math.fround(xScale * wScale) / yScale);
    }
    let bias: Int32Array | undefined;
    if (biasInput !== undefined) {
      if (biasInput.dtype !== 'int32' || biasInput.data.length !== outChannels) {
        throw new QuantError(
          'INVALID_MODEL',
          `B must be int32 with one value per output channel (${outChannels})`,
        );
      }
      bias = biasInput.data as Int32Array;
    }
    const signed = yZero.dtype === 'int8';
    const { shape, data } = integerConv(state, input, xZero, weight, wZeros, {
      kind: 'requantize',
      scales,
      bias,
      zeroPoint: zeroPointOf(yZero, 'y_zero_point'),
      signed,
    });
    const codes = signed ? new Int8Array(data.buffer, data.byteOffset, data.length) : data;
    return [tensorOf(yZero.dtype, shape.outShape, codes)];
  },
});

/**
 * ConvInteger: the int32 convolution of (x - x_zero_point) by (w - w_zero_point), per tensor or with one weight
 * zero point per output channel; Conv's attributes, on the kernels QLinearConv runs.
 */
const convInteger = wasmKernel<IntegerConvState>('ConvInteger', {
  opsets: { min: 10 },
  description: 'ConvInteger: int8 im2col and the int8 GEMM; a SIMD depthwise kernel',
  supports: (node) => supportsCodes(node, [0, 1, 2, 3], []),
  prepare: (node, handle) => prepareIntegerConv(node, handle, 1),
  run(state, [x, w, xZeroInput, wZeroInput]) {
    const input = required(x, 'x');
    const weight = required(w, 'w');
    const xZero = zeroPointOf(xZeroInput, 'x_zero_point');
    const wZeros =
      wZeroInput === undefined ? new Int32Array(1) : Int32Array.from(wZeroInput.data as ArrayLike<number>);
    const { shape, data } = integerConv(state, input, xZero, weight, wZeros, { kind: 'int32' });
    return [tensorOf('int32', shape.outShape, data)];
  },
});

export const qLinearConvKernels = [qLinearConv, convInteger];
