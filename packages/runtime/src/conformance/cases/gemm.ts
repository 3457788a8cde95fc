import type { ConformanceCase } from '../conformance-case.js';
import { randomFloat } from '../random-tensors.js';

/** Sums over long K drift from onnxruntime's blocked order by a few float32 ulps of the partial sums. */
const longSum = { abs: 1e-4, rel: 1e-4 };

// [A shape, B shape]: M = 1, K and N that are not multiples of the 4x8 tile, exact tiles, 1-D operands, size 0.
const matMulShapes: [number[], number[]][] = [
  [
    [1, 64],
    [64, 32],
  ],
  [
    [1, 13],
    [13, 3],
  ],
  [
    [5, 13],
    [13, 11],
  ],
  [
    [7, 3],
    [3, 17],
  ],
  [
    [8, 8],
    [8, 16],
  ],
  [
    [9, 33],
    [33, 25],
  ],
  [
    [2, 1],
    [1, 9],
  ],
  [[7], [7, 5]],
  [[3, 4, 7], [7]],
  [[6], [6]],
  [
    [0, 5],
    [5, 3],
  ],
  [
    [4, 5],
    [5, 0],
  ],
  [
    [3, 0],
    [0, 4],
  ],
  // Batched: A's batches over one B, both batched, and batches that broadcast.
  [
    [2, 3, 5, 7],
    [7, 6],
  ],
  [
    [2, 3, 5, 7],
    [2, 3, 7, 6],
  ],
  [
    [3, 5, 7],
    [2, 1, 7, 9],
  ],
  [
    [5, 7],
    [4, 7, 10],
  ],
];

const matMulCases = matMulShapes.flatMap(([a, b], index): ConformanceCase[] =>
  [false, true].map((constantB) => ({
    name: `MatMul [${a}] x [${b}]${constantB ? ' (B constant)' : ''}`,
    opType: 'MatMul',
    inputs: [randomFloat(a, 100 + index), randomFloat(b, 200 + index)],
    ...(constantB && { constantSlots: [1] }),
  })),
);

const largeMatMulCases: ConformanceCase[] = [
  {
    name: 'MatMul [16, 300] x [300, 45] (B constant, long K)',
    opType: 'MatMul',
    inputs: [randomFloat([16, 300], 1), randomFloat([300, 45], 2)],
    constantSlots: [1],
    tolerance: longSum,
  },
  {
    name: 'MatMul [1, 515] x [515, 70] (M = 1, long odd K)',
    opType: 'MatMul',
    inputs: [randomFloat([1, 515], 3), randomFloat([515, 70], 4)],
    constantSlots: [1],
    tolerance: longSum,
  },
  {
    name: 'MatMul [2, 6, 130] x [130, 19] (batched A over constant B)',
    opType: 'MatMul',
    inputs: [randomFloat([2, 6, 130], 5), randomFloat([130, 19], 6)],
    constantSlots: [1],
    tolerance: longSum,
  },
];

interface GemmVariant {
  readonly label: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
  /** Shape of C; absent for no C. */
  readonly c?: number[];
  readonly opset?: number;
  readonly constantB?: boolean;
}

const gemmVariants: GemmVariant[] = [
  { label: 'plain', m: 4, k: 6, n: 5, c: [5] },
  { label: 'C of shape [M, N]', m: 5, k: 9, n: 11, c: [5, 11] },
  { label: 'C of shape [M, 1]', m: 5, k: 9, n: 11, c: [5, 1] },
  { label: 'C scalar', m: 3, k: 4, n: 9, c: [] },
  { label: 'C of shape [1, N]', m: 6, k: 7, n: 13, c: [1, 13] },
  { label: 'no C (opset 11)', m: 6, k: 7, n: 13, opset: 11 },
  { label: 'no C (opset 13)', m: 6, k: 7, n: 13, opset: 13 },
  { label: 'transA', m: 5, k: 7, n: 9, transA: true, c: [9] },
  { label: 'transB', m: 5, k: 7, n: 9, transB: true, c: [9] },
  { label: 'transB, B constant', m: 5, k: 7, n: 9, transB: true, c: [9], constantB: true },
  { label: 'transA and transB', m: 6, k: 10, n: 17, transA: true, transB: true, c: [6, 17] },
  { label: 'alpha and beta', m: 4, k: 8, n: 8, alpha: 0.5, beta: -2, c: [4, 8] },
  { label: 'beta 0 ignores C', m: 4, k: 8, n: 8, beta: 0, c: [4, 8] },
  { label: 'M = 1', m: 1, k: 31, n: 10, c: [10], constantB: true },
  { label: 'opset 7', m: 3, k: 5, n: 7, c: [7], opset: 7 },
  { label: 'opset 9, B constant', m: 3, k: 5, n: 7, c: [3, 7], opset: 9, constantB: true },
  { label: 'size 0 M', m: 0, k: 5, n: 7, c: [7], opset: 13 },
  { label: 'long K, transB, B constant', m: 9, k: 200, n: 33, transB: true, c: [33], constantB: true },
];

const gemmCasesList = gemmVariants.map((variant, index): ConformanceCase => {
  const { m, k, n } = variant;
  const a = randomFloat(variant.transA ? [k, m] : [m, k], 300 + index);
  const b = randomFloat(variant.transB ? [n, k] : [k, n], 400 + index);
  const c = variant.c === undefined ? undefined : randomFloat(variant.c, 500 + index);
  return {
    name: `Gemm ${variant.label} (M ${m}, K ${k}, N ${n})`,
    opType: 'Gemm',
    ...(variant.opset !== undefined && { opset: variant.opset }),
    attributes: {
      ...(variant.transA !== undefined && { transA: variant.transA ? 1 : 0 }),
      ...(variant.transB !== undefined && { transB: variant.transB ? 1 : 0 }),
      ...(variant.alpha !== undefined && { alpha: { type: 'float', value: variant.alpha } }),
      ...(variant.beta !== undefined && { beta: { type: 'float', value: variant.beta } }),
    },
    inputs: c === undefined ? [a, b] : [a, b, c],
    ...(variant.constantB === true && { constantSlots: [1] }),
    ...(k > 64 && { tolerance: longSum }),
  };
});

/** float32 MatMul and Gemm across shapes: the GEMM kernels' edges (tile remainders, M = 1, batches, transposes). */
export const gemmCases: readonly ConformanceCase[] = [...matMulCases, ...largeMatMulCases, ...gemmCasesList];
