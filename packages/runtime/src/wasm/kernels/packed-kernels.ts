import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { type ConvAttributes, convGeometry, readConvAttributes } from '../../js/kernels/conv-geometry.js';
import { type PatchArray, im2col } from '../../js/kernels/packed-im2col.js';
import { type MatrixView, packedFormatProblem, preparePackedMatrix } from '../../js/kernels/packed-matrix.js';
import { broadcastIndex, broadcastShape, required, tensorOf } from '../../js/tensor-utils.js';
import type { WasmSimdHandle } from '../backend.js';
import { wasmKernel } from '../wasm-kernel.js';
import { matMulShape } from '../../js/kernels/matmul-shape.js';
import {
  type BinarizeScale,
  type HeapPackedWeights,
  type PackedForm,
  binaryWeightsToHeap,
  logWeightsToHeap,
  runProduct,
  workspaceBytes,
} from './packed-gemm.js';
import {
  type Activations,
  type Binarize,
  binarizeOf,
  gemmWeightView,
  matMulView,
  meanAbsolute,
  transposedActivations,
} from '../../js/kernels/packed-kernels.js';

// The wasm-simd kernels of quantkit's packed ops (domain ai.quantkit): MatMul, Gemm and Conv by a packed binary or
// log weight. They read and validate the weight as the JS kernels do (preparePackedMatrix, the same errors), move
// it into the heap in packed.wat's layouts once, and run the same forms with the same results: the integer paths
// (XNOR-popcount counts, shift-add bucket sums) exactly, the float paths (sign-bit table, log levels) within
// float32 rounding, as their sums run in float32 where the JS kernels sum in float64. Which form runs when is the
// JS kernels' rule (src/js/kernels/packed-kernels.ts).

const DOMAIN = 'ai.quantkit';
const WEIGHT_SLOT = 1;

interface PackedState {
  readonly handle: WasmSimdHandle;
  /** The logical weight shape (weight_shape). */
  readonly shape: readonly number[];
  /** Weight rows per stacked matrix (a MatMul's batched B has several). */
  readonly n: number;
  readonly k: number;
  readonly weights: HeapPackedWeights;
  readonly binarize: Binarize;
}

function supportsPacked(node: KernelNode): true | string {
  return packedFormatProblem(node, WEIGHT_SLOT) ?? true;
}

/**
 * Validates and re-packs the node's weight (as the JS kernels do) and moves it into the heap. The shift-add plan
 * goes along unless the activations are known to be float.
 */
function prepareState(
  node: KernelNode,
  handle: WasmSimdHandle,
  view: (shape: readonly number[]) => MatrixView,
): PackedState {
  const matrix = preparePackedMatrix(node, WEIGHT_SLOT, view);
  const binarize = binarizeOf(node, matrix);
  const rows = matrix.batches * matrix.n;
  const dtype = node.inputs[0]?.dtype;
  const floatInput = dtype === 'float32' || dtype === 'float64';
  const weights =
    matrix.format === 'binary'
      ? binaryWeightsToHeap(handle, matrix.weights, rows)
      : logWeightsToHeap(handle, matrix.weights, rows, !floatInput);
  return { handle, shape: matrix.shape, n: matrix.n, k: matrix.weights.k, weights, binarize };
}

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
      if (state.weights.format === 'log' && state.binarize === undefined) {
        if (state.weights.shift === undefined) {
          throw new QuantError(
            'UNSUPPORTED',
            `${what} is ${tensor.dtype}; the weights were prepared for float activations only, or rows of ` +
              `${state.k} are too long for int32 shift-add`,
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

function formOf(state: PackedState, x: Activations): PackedForm {
  if (state.weights.format === 'binary') return state.binarize === undefined ? 'sign' : 'xnor';
  return x instanceof Float32Array ? 'log' : 'shift';
}

function binarizeScale(state: PackedState, x: Activations): BinarizeScale {
  return state.binarize === 'tensor' ? meanAbsolute(x) : 'row';
}

/** Bytes per activation in the heap: float32, or int16 for the shift-add form. */
function activationBytes(form: PackedForm): number {
  return form === 'shift' ? 2 : 4;
}

/** Copies activations into the heap at `at`: float32 as is, integers widened to int16. */
function copyActivations(buffer: ArrayBuffer, at: number, x: Activations, form: PackedForm): void {
  if (form === 'shift') new Int16Array(buffer, at, x.length).set(x);
  else new Float32Array(buffer, at, x.length).set(x);
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

function invalidShape(node: KernelNode, shape: readonly number[], expected: string): QuantError {
  return new QuantError(
    'INVALID_MODEL',
    `${node.label}: attribute "weight_shape" is [${shape.join(', ')}]; expected ${expected}`,
  );
}

/** MatMul with numpy semantics, B packed: 1-D operands promoted and squeezed back, batch dimensions broadcast. */
const packedMatMul = wasmKernel<PackedState>('MatMul', {
  domain: DOMAIN,
  description:
    'MatMul by a packed binary or log weight (ai.quantkit): XNOR-popcount, sign-bit table, log-level and shift-add GEMMs in WebAssembly SIMD',
  supports: supportsPacked,
  prepare: (node, handle) => prepareState(node, handle, (shape) => matMulView(node, shape)),
  run: (state, [a]) => {
    const left = required(a, 'A');
    const x = activationsOf(left, 'A', state);
    const weightShape = state.shape;
    const aShape = left.shape.length === 1 ? [1, left.shape[0]!] : left.shape;
    const bShape = weightShape.length === 1 ? [weightShape[0]!, 1] : weightShape;
    if (aShape.length < 2)
      throw new QuantError('INVALID_MODEL', 'A is a scalar; MatMul needs rank 1 or more');
    if (bShape[bShape.length - 2] !== aShape[aShape.length - 1]) {
      throw new QuantError(
        'INVALID_MODEL',
        `inner dimensions differ: A is [${left.shape.join(', ')}], the packed B is [${weightShape.join(', ')}]`,
      );
    }
    const { m, k, n, aMatrices, bMatrices, singleB, outShape } = matMulShape(left.shape, weightShape);
    const out = new Float32Array(aMatrices.length * m * n);
    if (out.length === 0) return [tensorOf('float32', outShape, out)];
    const form = formOf(state, x);
    // With one B, every row of A (of every batch) forms one product.
    const rows = singleB ? aMatrices.length * m : m;
    const products = singleB ? [0] : aMatrices.map((_, index) => index);
    const { heap } = state.handle;
    const xBytes = align(x.length * activationBytes(form));
    const outBytes = align(out.length * 4);
    const workspace = workspaceBytes(state.weights, form, rows, n, false);
    const base = heap.scratch(xBytes + outBytes + workspace);
    const outAt = base + xBytes;
    copyActivations(heap.buffer, base, x, form);
    const binarize = binarizeScale(state, x);
    for (const index of products) {
      const product = {
        x: base + aMatrices[index]! * m * k * activationBytes(form),
        m: rows,
        firstRow: bMatrices[index]! * n,
        n,
        out: outAt + index * m * n * 4,
        rowStride: n,
        colStride: 1,
        valid: 0,
      };
      runProduct(state.handle, state.weights, form, product, outAt + outBytes, binarize);
    }
    out.set(new Float32Array(heap.buffer, outAt, out.length));
    return [tensorOf('float32', outShape, out)];
  },
});

interface GemmState extends PackedState {
  readonly transA: boolean;
  readonly alpha: number;
  readonly beta: number;
}

/** Y = alpha * A' * B' + beta * C with B packed ([K, N], or [N, K] with transB). */
const packedGemm = wasmKernel<GemmState>('Gemm', {
  domain: DOMAIN,
  description:
    'Gemm by a packed binary or log weight (ai.quantkit): XNOR-popcount, sign-bit table, log-level and shift-add GEMMs in WebAssembly SIMD',
  supports: supportsPacked,
  prepare: (node, handle) => {
    const state = prepareState(node, handle, gemmWeightView(node));
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
    if (state.k !== k) {
      throw new QuantError(
        'INVALID_MODEL',
        `A' is [${m}, ${k}], the packed B' has ${state.k} rows; they must agree`,
      );
    }
    const { n } = state;
    const out = new Float32Array(m * n);
    if (out.length > 0) {
      const form = formOf(state, x);
      const { heap } = state.handle;
      const xBytes = align(x.length * activationBytes(form));
      const outBytes = align(out.length * 4);
      const base = heap.scratch(xBytes + outBytes + workspaceBytes(state.weights, form, m, n, false));
      copyActivations(heap.buffer, base, x, form);
      const product = {
        x: base,
        m,
        firstRow: 0,
        n,
        out: base + xBytes,
        rowStride: n,
        colStride: 1,
        valid: 0,
      };
      runProduct(
        state.handle,
        state.weights,
        form,
        product,
        base + xBytes + outBytes,
        binarizeScale(state, x),
      );
      out.set(new Float32Array(heap.buffer, base + xBytes, out.length));
    }
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

/**
 * Conv (grouped, pads, strides, dilations, auto_pad; any spatial rank) by a packed weight [M, C / group, k...]:
 * the JS im2col writes each image's and group's patches into the heap, and the GEMM multiplies them by the group's
 * weight rows, writing the channels-first output directly.
 */
const packedConv = wasmKernel<ConvState>('Conv', {
  domain: DOMAIN,
  description:
    'Conv by a packed binary or log weight (ai.quantkit): im2col, then the packed MatMul GEMMs in WebAssembly SIMD',
  supports: supportsPacked,
  prepare: (node, handle) => {
    let attributes: ConvAttributes;
    try {
      attributes = readConvAttributes(node);
    } catch (error) {
      if (!(error instanceof QuantError)) throw error;
      throw new QuantError(error.code, `${node.label}: ${error.message}`);
    }
    const state = prepareState(node, handle, (shape) => {
      if (shape.length < 3) throw invalidShape(node, shape, 'a Conv weight [M, C / group, k1, ...]');
      const k = sizeOf(shape.slice(1));
      return { batches: 1, n: shape[0]!, k, batchStride: 0, nStride: k, kStride: 1, outputAxis: 0 };
    });
    return { ...state, attributes };
  },
  run: (state, [input, _w, b]) => {
    const xTensor = required(input, 'X');
    const x = activationsOf(xTensor, 'X', state);
    const geometry = convGeometry(state.attributes, xTensor.shape, state.shape);
    const { batch, channels, group, outChannels, groupChannels, groupOutputs: groupOut } = geometry;
    const inputSize = sizeOf(geometry.window.input);
    const positions = geometry.outSize;
    const rowLength = state.k;
    const out = new Float32Array(batch * outChannels * positions);
    if (out.length > 0) {
      const form = formOf(state, x);
      const masked = state.binarize !== undefined && geometry.padded;
      const patchCount = positions * rowLength;
      const { heap } = state.handle;
      const outBytes = align(out.length * 4);
      const patchBytes = align(patchCount * activationBytes(form));
      const validBytes = masked ? align(patchCount) : 0;
      const base = heap.scratch(
        outBytes + patchBytes + validBytes + workspaceBytes(state.weights, form, positions, groupOut, masked),
      );
      const patchesAt = base + outBytes;
      const validAt = masked ? patchesAt + patchBytes : 0;
      const workspace = patchesAt + patchBytes + validBytes;
      // Float patches go straight into the heap; integer ones (shift-add) are widened to int16 on the way.
      const buffer = heap.buffer;
      const patches: PatchArray =
        form === 'shift'
          ? new (x.constructor as new (length: number) => PatchArray)(patchCount)
          : new Float32Array(buffer, patchesAt, patchCount);
      const valid = masked ? new Uint8Array(buffer, validAt, patchCount) : undefined;
      const binarize = binarizeScale(state, x);
      for (let image = 0; image < batch; image++) {
        for (let g = 0; g < group; g++) {
          const from = (image * channels + g * groupChannels) * inputSize;
          im2col(x, from, groupChannels, geometry.window, patches, valid);
          if (form === 'shift') copyActivations(buffer, patchesAt, patches as Int8Array | Uint8Array, form);
          // Patches are rows of positions; the output wants channels as rows, so y is written transposed.
          const product = {
            x: patchesAt,
            m: positions,
            firstRow: g * groupOut,
            n: groupOut,
            out: base + (image * outChannels + g * groupOut) * positions * 4,
            rowStride: 1,
            colStride: positions,
            valid: validAt,
          };
          runProduct(state.handle, state.weights, form, product, workspace, binarize);
        }
      }
      out.set(new Float32Array(heap.buffer, base, out.length));
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

/** The wasm-simd kernels of quantkit's packed ops (domain ai.quantkit): MatMul, Gemm and Conv. */
export const wasmPackedKernels = [packedMatMul, packedGemm, packedConv];
