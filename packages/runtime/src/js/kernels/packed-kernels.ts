import { type KernelNode, QuantError, type Tensor, listChoices, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastIndex, broadcastShape, required, tensorOf } from '../tensor-utils.js';
import { type GemmOutput, binarizeRows, binaryGemm, xnorPopcountGemm } from './packed-binary-gemm.js';
import { type ConvAttributes, convGeometry, readConvAttributes } from './conv-geometry.js';
import { type PatchArray, im2col } from './packed-im2col.js';
import { logGemm, logShiftAddGemm } from './packed-log-gemm.js';
import {
  type MatrixView,
  type PackedMatrix,
  packedFormatProblem,
  preparePackedMatrix,
} from './packed-matrix.js';
import { matMulShape } from './matmul-shape.js';

// Kernels for the ops `quantkit quantize --mode weight-only --format packed` writes: MatMul, Gemm and Conv in
// domain ai.quantkit, whose weight input (slot 1) is packed bytes described by weight_* attributes (see
// packed-matrix.ts). prepare re-packs the weight once; run multiplies by it without unpacking it to floats.
//
// Which form runs:
// - binary weights ('binary-1bit'), float activations (the graph quantkit writes: its binary quantizer leaves
//   activations float): binaryGemm, signs applied through a per-row table of nibble sums;
// - binary weights with the node attribute binarize_activations = 1: activations are binarized as XNOR-Net does
//   (sign, times mean |x| per row, or per tensor with binarize_scale = "tensor") and multiplied by
//   xnorPopcountGemm. A Conv's row is one patch, zero padding excluded from the signs and counted in the mean;
//   quantkit does not write this attribute today (binarizeActivations in @quantkit/quantizer-binary is not part
//   of the pipeline);
// - log weights ('log', 'log-nnie'), float activations: logGemm, each weight read from a table of levels;
// - log weights, int8 or uint8 activations (taken at their integer values; the output is float32): the shift-add
//   logShiftAddGemm.

const DOMAIN = 'ai.quantkit';
const WEIGHT_SLOT = 1;

/** How activations are binarized before an XNOR-popcount product; undefined to keep them as they are. */
export type Binarize = 'row' | 'tensor' | undefined;

interface PackedState {
  readonly matrix: PackedMatrix;
  readonly binarize: Binarize;
}

function supportsPacked(node: KernelNode): true | string {
  return packedFormatProblem(node, WEIGHT_SLOT) ?? true;
}

export function binarizeOf(node: KernelNode, matrix: PackedMatrix): Binarize {
  const on = node.attributes.int('binarize_activations', 0);
  if (on !== 0 && on !== 1) {
    throw new QuantError(
      'INVALID_MODEL',
      `${node.label}: attribute "binarize_activations" is ${on}; expected 0 or 1`,
    );
  }
  const scale = node.attributes.string('binarize_scale', 'row');
  if (scale !== 'row' && scale !== 'tensor') {
    throw new QuantError(
      'INVALID_MODEL',
      `${node.label}: attribute "binarize_scale" is "${scale}"; expected ${listChoices(['row', 'tensor'])}`,
    );
  }
  if (on === 0) return undefined;
  if (matrix.format !== 'binary') {
    throw new QuantError(
      'INVALID_MODEL',
      `${node.label}: attribute "binarize_activations" needs binary weights; weight_format is ` +
        `"${node.attributes.string('weight_format')}"`,
    );
  }
  return scale;
}

/** Activation data for a product: float32, or int8/uint8 kept as integers for the shift-add form. */
export type Activations = Float32Array | Int8Array | Uint8Array;

/**
 * The input's data in the form the product takes: float32 as is (float64 narrowed), int8 and uint8 as integers
 * for log weights, converted to float32 (exactly) otherwise.
 */
function activationsOf(tensor: Tensor, what: string, state: PackedState): Activations {
  switch (tensor.dtype) {
    case 'float32':
      return tensor.data as Float32Array;
    case 'float64':
      return Float32Array.from(tensor.data as Float64Array);
    case 'int8':
    case 'uint8':
      if (state.matrix.format === 'log' && state.binarize === undefined) {
        if (state.matrix.weights.shiftPlan === undefined) {
          throw new QuantError(
            'UNSUPPORTED',
            `${what} is ${tensor.dtype}; rows of ${state.matrix.weights.k} are too long for int32 shift-add`,
          );
        }
        return tensor.data as Int8Array | Uint8Array;
      }
      return Float32Array.from(tensor.data as Int8Array | Uint8Array);
    default:
      throw new QuantError(
        'UNSUPPORTED',
        `${what} is ${tensor.dtype}; packed kernels take float32, float64, int8 or uint8 activations`,
      );
  }
}

/** Mean |x| over a whole tensor, the scale of binarize_scale "tensor". */
export function meanAbsolute(data: Activations): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Math.abs(data[i]!);
  return data.length === 0 ? 0 : sum / data.length;
}

/**
 * y = rows x weight rows [firstRow, firstRow + n) in the form the state calls for. `valid` marks a Conv patch's
 * elements inside the input (binarized rows only); `tensorScale` is the binarization scale per tensor.
 */
function multiply(
  state: PackedState,
  x: Activations,
  xOffset: number,
  m: number,
  firstRow: number,
  n: number,
  output: GemmOutput,
  tensorScale: number,
  valid?: Uint8Array,
): void {
  const { matrix, binarize } = state;
  if (matrix.format === 'binary') {
    if (binarize !== undefined) {
      const scale = binarize === 'row' ? 'row' : tensorScale;
      const activations = binarizeRows(x, xOffset, m, matrix.weights.k, scale, valid);
      xnorPopcountGemm(activations, m, matrix.weights, firstRow, n, output);
    } else {
      binaryGemm(x as Float32Array, xOffset, m, matrix.weights, firstRow, n, output);
    }
  } else if (x instanceof Float32Array) {
    logGemm(x, xOffset, m, matrix.weights, firstRow, n, output);
  } else {
    logShiftAddGemm(x, xOffset, m, matrix.weights, firstRow, n, output);
  }
}

function prepareState(node: KernelNode, view: (shape: readonly number[]) => MatrixView): PackedState {
  const matrix = preparePackedMatrix(node, WEIGHT_SLOT, view);
  return { matrix, binarize: binarizeOf(node, matrix) };
}

function invalidShape(node: KernelNode, shape: readonly number[], expected: string): QuantError {
  return new QuantError(
    'INVALID_MODEL',
    `${node.label}: attribute "weight_shape" is [${shape.join(', ')}]; expected ${expected}`,
  );
}

/** MatMul's B [..., K, N] (or [K]) as `batches` stacks of N rows of K. */
export function matMulView(node: KernelNode, shape: readonly number[]): MatrixView {
  if (shape.length === 0) throw invalidShape(node, shape, 'a MatMul operand of rank 1 or more');
  if (shape.length === 1) {
    return { batches: 1, n: 1, k: shape[0]!, batchStride: 0, nStride: 0, kStride: 1, outputAxis: undefined };
  }
  const k = shape[shape.length - 2]!;
  const n = shape[shape.length - 1]!;
  return {
    batches: sizeOf(shape.slice(0, -2)),
    n,
    k,
    batchStride: k * n,
    nStride: 1,
    kStride: n,
    outputAxis: shape.length - 1,
  };
}

/** MatMul with numpy semantics, B packed: 1-D operands promoted and squeezed back, batch dimensions broadcast. */
const packedMatMul = jsKernel<PackedState>('MatMul', {
  domain: DOMAIN,
  description: 'MatMul by a packed binary or log weight (ai.quantkit)',
  supports: supportsPacked,
  prepare: (node) => prepareState(node, (shape) => matMulView(node, shape)),
  run: (state, [a]) => {
    const left = required(a, 'A');
    const x = activationsOf(left, 'A', state);
    const { m, k, n, aMatrices, bMatrices, outShape } = matMulShape(left.shape, state.matrix.shape);
    const out = new Float32Array(aMatrices.length * m * n);
    const tensorScale = state.binarize === 'tensor' ? meanAbsolute(x) : 0;
    for (let index = 0; index < aMatrices.length; index++) {
      const output = { out, offset: index * m * n, rowStride: n, columnStride: 1 };
      multiply(state, x, aMatrices[index]! * m * k, m, bMatrices[index]! * n, n, output, tensorScale);
    }
    return [tensorOf('float32', outShape, out)];
  },
});

/** How a Gemm's packed B reads as a matrix: [K, N], or [N, K] with transB. */
export function gemmWeightView(node: KernelNode): (shape: readonly number[]) => MatrixView {
  const transB = node.attributes.int('transB', 0) !== 0;
  return (shape) => {
    if (shape.length !== 2) throw invalidShape(node, shape, 'a 2-D Gemm operand');
    const [rows, columns] = shape as [number, number];
    return transB
      ? { batches: 1, n: rows, k: columns, batchStride: 0, nStride: columns, kStride: 1, outputAxis: 0 }
      : { batches: 1, n: columns, k: rows, batchStride: 0, nStride: 1, kStride: columns, outputAxis: 1 };
  };
}

/** A row-major M x K activation matrix transposed (Gemm's transA), in the same array type. */
export function transposedActivations(x: Activations, m: number, k: number): Activations {
  const transposed = new (x.constructor as new (length: number) => Activations)(x.length);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) transposed[p * m + i] = x[i * k + p]!;
  return transposed;
}

interface GemmState extends PackedState {
  readonly transA: boolean;
  readonly alpha: number;
  readonly beta: number;
}

/** Y = alpha * A' * B' + beta * C with B packed ([K, N], or [N, K] with transB). */
const packedGemm = jsKernel<GemmState>('Gemm', {
  domain: DOMAIN,
  description: 'Gemm by a packed binary or log weight (ai.quantkit)',
  supports: supportsPacked,
  prepare: (node) => {
    const state = prepareState(node, gemmWeightView(node));
    return {
      ...state,
      transA: node.attributes.int('transA', 0) !== 0,
      alpha: node.attributes.float('alpha', 1),
      beta: node.attributes.float('beta', 1),
    };
  },
  run: (state, [a, _b, c]) => {
    const left = required(a, 'A');
    if (left.shape.length !== 2) {
      throw new QuantError('INVALID_MODEL', `A is [${left.shape.join(', ')}]; Gemm takes 2-D A`);
    }
    let x = activationsOf(left, 'A', state);
    let [m, k] = left.shape as [number, number];
    if (state.transA) {
      x = transposedActivations(x, m, k);
      [m, k] = [k, m];
    }
    const { weights } = state.matrix;
    if (weights.k !== k) {
      throw new QuantError(
        'INVALID_MODEL',
        `A' is [${m}, ${k}], the packed B' has ${weights.k} rows; they must agree`,
      );
    }
    const { n } = state.matrix;
    const out = new Float32Array(m * n);
    const tensorScale = state.binarize === 'tensor' ? meanAbsolute(x) : 0;
    multiply(state, x, 0, m, 0, n, { out, offset: 0, rowStride: n, columnStride: 1 }, tensorScale);
    if (state.alpha !== 1) for (let i = 0; i < out.length; i++) out[i] = state.alpha * out[i]!;
    if (c !== undefined && state.beta !== 0) {
      const bias = c.data as Float32Array;
      const target = [m, n];
      if (broadcastShape(c.shape, target).join() !== target.join()) {
        throw new QuantError('INVALID_MODEL', `C [${c.shape.join(', ')}] does not broadcast to [${m}, ${n}]`);
      }
      const index = broadcastIndex(c.shape, target);
      for (let i = 0; i < out.length; i++) out[i]! += state.beta * bias[index === undefined ? i : index[i]!]!;
    }
    return [tensorOf('float32', [m, n], out)];
  },
});

interface ConvState extends PackedState {
  readonly attributes: ConvAttributes;
}

/** Conv (grouped, pads, strides, dilations, auto_pad; any spatial rank) by a packed weight [M, C / group, k...]. */
const packedConv = jsKernel<ConvState>('Conv', {
  domain: DOMAIN,
  description: 'Conv by a packed binary or log weight (ai.quantkit)',
  supports: supportsPacked,
  prepare: (node) => {
    let attributes: ConvAttributes;
    try {
      attributes = readConvAttributes(node);
    } catch (error) {
      if (!(error instanceof QuantError)) throw error;
      throw new QuantError(error.code, `${node.label}: ${error.message}`);
    }
    const state = prepareState(node, (shape) => {
      if (shape.length < 3) throw invalidShape(node, shape, 'a Conv weight [M, C / group, k1, ...]');
      const k = sizeOf(shape.slice(1));
      return { batches: 1, n: shape[0]!, k, batchStride: 0, nStride: k, kStride: 1, outputAxis: 0 };
    });
    return { ...state, attributes };
  },
  run: (state, [input, _w, b]) => {
    const xTensor = required(input, 'X');
    const x = activationsOf(xTensor, 'X', state);
    const geometry = convGeometry(state.attributes, xTensor.shape, state.matrix.shape);
    const { batch, channels, group, outChannels, groupChannels, groupOutputs: groupOut } = geometry;
    const inputSize = sizeOf(geometry.window.input);
    const positions = geometry.outSize;
    const rowLength = state.matrix.weights.k;
    const out = new Float32Array(batch * outChannels * positions);
    const patches: PatchArray = new (x.constructor as new (length: number) => PatchArray)(
      positions * rowLength,
    );
    const valid =
      state.binarize !== undefined && geometry.padded ? new Uint8Array(positions * rowLength) : undefined;
    const tensorScale = state.binarize === 'tensor' ? meanAbsolute(x) : 0;
    for (let image = 0; image < batch; image++) {
      for (let g = 0; g < group; g++) {
        const from = (image * channels + g * groupChannels) * inputSize;
        im2col(x, from, groupChannels, geometry.window, patches, valid);
        // Patches are rows of positions; the output wants channels as rows, so write y transposed.
        const placement = {
          out,
          offset: (image * outChannels + g * groupOut) * positions,
          rowStride: 1,
          columnStride: positions,
        };
        multiply(state, patches, 0, positions, g * groupOut, groupOut, placement, tensorScale, valid);
      }
    }
    if (b !== undefined) {
      if (b.shape.length !== 1 || b.shape[0] !== outChannels) {
        throw new QuantError('INVALID_MODEL', `B is [${b.shape.join(', ')}]; expected [${outChannels}]`);
      }
      const bias = b.data as Float32Array;
      for (let image = 0; image < batch; image++) {
        for (let channel = 0; channel < outChannels; channel++) {
          const base = (image * outChannels + channel) * positions;
          const value = bias[channel]!;
          for (let l = 0; l < positions; l++) out[base + l]! += value;
        }
      }
    }
    return [tensorOf('float32', geometry.outShape, out)];
  },
});

/** The JS kernels of quantkit's packed ops (domain ai.quantkit): MatMul, Gemm and Conv. */
export const packedKernels = [packedMatMul, packedGemm, packedConv];
