import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { broadcastIndex, broadcastShape, required, tensorOf } from '../../js/tensor-utils.js';
import type { WasmSimdHandle } from '../backend.js';
import { wasmKernel } from '../wasm-kernel.js';
import { matMulShape } from '../../js/kernels/matmul-shape.js';

/** Columns per packed panel of B (the micro-kernels' tile width). */
const PANEL = 8;

/** B packed for gemm_f32, one block per matrix (per batch matrix of a batched constant B). */
interface PackedFloatB {
  readonly k: number;
  readonly n: number;
  readonly matrices: readonly number[];
}

function panelsOf(n: number): number {
  return Math.ceil(n / PANEL);
}

/** Bytes of one packed K x N matrix. */
function packedBytes(k: number, n: number): number {
  return panelsOf(n) * PANEL * k * 4;
}

/**
 * Packs `count` K x N matrices of `data` (each N x K when `transposed`) into blocks of the heap that live as long as
 * `owner`.
 */
function packConstant(
  handle: WasmSimdHandle,
  owner: object,
  data: Float32Array,
  count: number,
  k: number,
  n: number,
  transposed: boolean,
): PackedFloatB {
  const { heap, kernels } = handle;
  const matrices: number[] = [];
  for (let index = 0; index < count; index++) {
    const packed = heap.allocate(packedBytes(k, n));
    const raw = heap.scratch(k * n * 4);
    new Float32Array(heap.buffer, raw, k * n).set(data.subarray(index * k * n, (index + 1) * k * n));
    kernels.pack_b_f32(raw, k, n, transposed ? 1 : n, transposed ? k : 1, packed);
    matrices.push(packed);
  }
  heap.freeWith(owner, matrices);
  return { k, n, matrices };
}

/** One M x K times K x N product of a kernel run: where A's rows start in the input, and which B matrix. */
interface Product {
  readonly aOffset: number;
  readonly bMatrix: number;
  readonly outOffset: number;
}

/**
 * Computes each product into `out` (row-major M x N blocks): A copied into the scratch arena and packed into the
 * tiles' row groups (transposed when `transposeA`, A then being K x M), B taken packed or packed now from `b`
 * (transposed when `transposeB`), gemm_f32, and the first N of each padded row copied out.
 */
function multiply(
  handle: WasmSimdHandle,
  a: Float32Array,
  transposeA: boolean,
  b: PackedFloatB | { data: Float32Array; transposed: boolean },
  products: readonly Product[],
  m: number,
  k: number,
  n: number,
  out: Float32Array,
): void {
  const { heap, kernels } = handle;
  const panels = panelsOf(n);
  const width = panels * PANEL;
  const aBytes = align(m * k * 4);
  const cBytes = align(m * width * 4);
  const rawBytes = 'matrices' in b ? 0 : align(k * n * 4);
  const bBytes = 'matrices' in b ? 0 : align(packedBytes(k, n));
  const base = heap.scratch(2 * aBytes + cBytes + rawBytes + bBytes);
  const aRawAt = base;
  const aAt = aRawAt + aBytes;
  const cAt = aAt + aBytes;
  const rawAt = cAt + cBytes;
  const bAt = rawAt + rawBytes;
  for (const product of products) {
    const buffer = heap.buffer;
    new Float32Array(buffer, aRawAt, m * k).set(a.subarray(product.aOffset, product.aOffset + m * k));
    // A (M x K, or K x M when transposed) into the tiles' row groups.
    kernels.pack_a_f32(aRawAt, m, k, transposeA ? 1 : k, transposeA ? m : 1, aAt);
    let bPacked: number;
    if ('matrices' in b) bPacked = b.matrices[product.bMatrix]!;
    else {
      const from = product.bMatrix * k * n;
      new Float32Array(buffer, rawAt, k * n).set(b.data.subarray(from, from + k * n));
      kernels.pack_b_f32(rawAt, k, n, b.transposed ? 1 : n, b.transposed ? k : 1, bAt);
      bPacked = bAt;
    }
    kernels.gemm_f32(aAt, bPacked, cAt, width * 4, m, panels, k);
    const c = new Float32Array(heap.buffer, cAt, m * width);
    if (width === n) out.set(c, product.outOffset);
    else {
      for (let i = 0; i < m; i++) out.set(c.subarray(i * width, i * width + n), product.outOffset + i * n);
    }
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

function float32Input(tensor: Tensor, what: string): Float32Array {
  if (tensor.dtype !== 'float32') {
    throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel computes on float32`);
  }
  return tensor.data as Float32Array;
}

/** float32 inputs, or inputs of a type the planner does not know yet (checked when the kernel runs). */
function supportsFloat32(node: KernelNode, slots: readonly number[]): true | string {
  for (const slot of slots) {
    const dtype = node.inputs[slot]?.dtype;
    if (dtype !== undefined && dtype !== 'float32')
      return `input ${slot} is ${dtype}; this kernel takes float32`;
  }
  return true;
}

interface MatMulState {
  readonly handle: WasmSimdHandle;
  readonly packed: PackedFloatB | undefined;
}

/** float32 MatMul (numpy semantics); a constant B is packed once, and A's batches fold into M when B is 2-D. */
const matMul = wasmKernel<MatMulState>('MatMul', {
  description: 'float32 MatMul on a 4x8 f32x4 GEMM micro-kernel over panel-packed B',
  supports: (node) => supportsFloat32(node, [0, 1]),
  prepare(node, handle) {
    const constant = node.inputs[1]?.constant;
    const state: { handle: WasmSimdHandle; packed: PackedFloatB | undefined } = { handle, packed: undefined };
    if (constant !== undefined && constant.dtype === 'float32' && constant.shape.length >= 1) {
      const shape = constant.shape.length === 1 ? [constant.shape[0]!, 1] : constant.shape;
      const k = shape[shape.length - 2]!;
      const n = shape[shape.length - 1]!;
      const count = sizeOf(shape.slice(0, -2));
      state.packed = packConstant(handle, state, constant.data as Float32Array, count, k, n, false);
    }
    return state;
  },
  run({ handle, packed }, [a, b]) {
    const left = required(a, 'A');
    const right = required(b, 'B');
    const shape = matMulShape(left.shape, right.shape);
    const { m, k, n } = shape;
    const x = float32Input(left, 'A');
    const bData = packed ?? { data: float32Input(right, 'B'), transposed: false };
    const out = new Float32Array(sizeOf(shape.outShape));
    if (out.length > 0) {
      if (shape.singleB) {
        // Every row of A (of every batch) times the one B: a single product with all rows.
        const rows = shape.aMatrices.length * m;
        multiply(handle, x, false, bData, [{ aOffset: 0, bMatrix: 0, outOffset: 0 }], rows, k, n, out);
      } else {
        const products = shape.aMatrices.map((aMatrix, index) => ({
          aOffset: aMatrix * m * k,
          bMatrix: shape.bMatrices[index]!,
          outOffset: index * m * n,
        }));
        multiply(handle, x, false, bData, products, m, k, n, out);
      }
    }
    return [tensorOf('float32', shape.outShape, out)];
  },
});

interface GemmState {
  readonly handle: WasmSimdHandle;
  readonly alpha: number;
  readonly beta: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly packed: PackedFloatB | undefined;
}

/** float32 Gemm (opset 7+): Y = alpha * A' * B' + beta * C, C broadcast to M x N; a constant B packed once. */
const gemm = wasmKernel<GemmState>('Gemm', {
  opsets: { min: 7 },
  description: 'float32 Gemm on the MatMul micro-kernel, transposes folded into packing',
  supports: (node) => supportsFloat32(node, [0, 1, 2]),
  prepare(node, handle) {
    const transB = node.attributes.int('transB', 0) !== 0;
    const state: { -readonly [K in keyof GemmState]: GemmState[K] } = {
      handle,
      alpha: node.attributes.float('alpha', 1),
      beta: node.attributes.float('beta', 1),
      transA: node.attributes.int('transA', 0) !== 0,
      transB,
      packed: undefined,
    };
    const constant = node.inputs[1]?.constant;
    if (constant !== undefined && constant.dtype === 'float32' && constant.shape.length === 2) {
      const [rows, columns] = constant.shape as [number, number];
      const [k, n] = transB ? [columns, rows] : [rows, columns];
      state.packed = packConstant(handle, state, constant.data as Float32Array, 1, k, n, transB);
    }
    return state;
  },
  run({ handle, alpha, beta, transA, transB, packed }, [a, b, c]) {
    const left = required(a, 'A');
    const right = required(b, 'B');
    if (left.shape.length !== 2 || right.shape.length !== 2) {
      throw new QuantError(
        'INVALID_MODEL',
        `Gemm takes 2-D A and B; got [${left.shape.join(', ')}] and [${right.shape.join(', ')}]`,
      );
    }
    const [m, k] = (transA ? [left.shape[1], left.shape[0]] : left.shape) as [number, number];
    const [kB, n] = (transB ? [right.shape[1], right.shape[0]] : right.shape) as [number, number];
    if (kB !== k) {
      throw new QuantError(
        'INVALID_MODEL',
        `inner dimensions differ: A is [${left.shape.join(', ')}]${transA ? ' (transposed)' : ''}, B is [${right.shape.join(', ')}]${transB ? ' (transposed)' : ''}`,
      );
    }
    const out = new Float32Array(m * n);
    if (out.length > 0) {
      const bData = packed ?? { data: float32Input(right, 'B'), transposed: transB };
      const x = float32Input(left, 'A');
      multiply(handle, x, transA, bData, [{ aOffset: 0, bMatrix: 0, outOffset: 0 }], m, k, n, out);
      if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i] = alpha * out[i]!;
      if (c !== undefined && beta !== 0) addBias(out, c, beta, m, n);
    }
    return [tensorOf('float32', [m, n], out)];
  },
});

/** out += beta * C, C broadcast (unidirectionally) to [m, n]. */
function addBias(out: Float32Array, c: Tensor, beta: number, m: number, n: number): void {
  const bias = float32Input(c, 'C');
  const target = [m, n];
  if (broadcastShape(c.shape, target).join() !== target.join()) {
    throw new QuantError(
      'INVALID_MODEL',
      `C of shape [${c.shape.join(', ')}] does not broadcast to [${m}, ${n}]`,
    );
  }
  const index = broadcastIndex(c.shape, target);
  if (index === undefined) for (let i = 0; i < out.length; i++) out[i] = out[i]! + beta * bias[i]!;
  else for (let i = 0; i < out.length; i++) out[i] = out[i]! + beta * bias[index[i]!]!;
}

export const floatMatMulKernels = [matMul, gemm];
