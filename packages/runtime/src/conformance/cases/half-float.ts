import type { Tensor } from '@quantkit/core';
import { float32ToHalf } from '../../js/half-float.js';
import type { ConformanceCase } from '../conformance-case.js';
import { int64Tensor, randomFloat } from '../random-tensors.js';
import type { Tolerance } from '../run-both.js';

// float16 nodes: the JS kernels widen the inputs to float32, compute, and round each output to float16 once
// (half-float-kernel.ts), as onnxruntime's CPU provider does for the many ops it has no float16 kernel for (it
// inserts Casts around them). Both compute the same float32 value for elementwise ops, pools, normalizations,
// reductions and Resize, so the float16 bits must be equal (EXACT, the default here). Where the float32 results
// differ in their last bits (another summation order in a GEMM, a convolution or a recurrence), a value close to a
// float16 rounding midpoint can round the other way: one float16 ulp (2^-10 relative, about 1e-3), far above any
// float32 difference (ONE_ULP). A second ulp would mean a float32 difference of about 1e-3 relative: a real error.
const EXACT: Tolerance = { ulps: 0, abs: 0, rel: 0 };
const ONE_ULP: Tolerance = { ulps: 1, abs: 0, rel: 0 };

/** Seeded uniform float16 values in [low, high) (float32 values rounded to float16). */
function half(shape: readonly number[], seed: number, low = -1, high = 1): Tensor<'float16'> {
  const values = randomFloat(shape, seed, low, high);
  return { dtype: 'float16', shape: [...shape], data: float32ToHalf(values.data, 'float16') };
}

function float32(values: readonly number[]): Tensor<'float32'> {
  return { dtype: 'float32', shape: [values.length], data: Float32Array.from(values) };
}

const elementwise: ConformanceCase[] = [
  ...['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} float16 broadcasts [2, 3, 4] with [4]`,
      opType,
      inputs: [half([2, 3, 4], 1000 + index, 0.1, 3), half([4], 1010 + index, 0.5, 2)],
    }),
  ),
  {
    name: 'Mul float16 by a constant [1, 8, 1, 1] (the constant widened once)',
    opType: 'Mul',
    inputs: [half([1, 8, 5, 5], 1020, -4, 4), half([1, 8, 1, 1], 1021, -2, 2)],
    constantSlots: [1],
  },
  {
    name: 'Add float16 overflows to infinity past 65504',
    opType: 'Add',
    inputs: [half([6], 1022, 40000, 60000), half([6], 1023, 10000, 30000)],
  },
  {
    name: 'Sum of three float16 inputs',
    opType: 'Sum',
    inputs: [half([3, 4], 1024), half([4], 1025), half([3, 1], 1026)],
  },
  {
    name: 'Mean of two float16 inputs',
    opType: 'Mean',
    inputs: [half([3, 4], 1027), half([3, 4], 1028)],
  },
  ...['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Neg', 'Abs', 'Floor', 'Ceil', 'Erf', 'Softsign', 'Softplus'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} on float16 values from -6 to 6`,
      opType,
      inputs: [half([3, 50], 1030 + index, -6, 6)],
    }),
  ),
  ...['Log', 'Sqrt', 'Reciprocal'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} on positive float16 values`,
      opType,
      inputs: [half([4, 25], 1050 + index, 0.01, 10)],
    }),
  ),
  {
    name: 'LeakyRelu float16 alpha 0.2',
    opType: 'LeakyRelu',
    attributes: { alpha: 0.2 },
    inputs: [half([2, 30], 1060, -3, 3)],
  },
  {
    name: 'HardSigmoid float16',
    opType: 'HardSigmoid',
    inputs: [half([2, 30], 1061, -4, 4)],
  },
  {
    name: 'HardSwish float16',
    opType: 'HardSwish',
    inputs: [half([2, 30], 1062, -4, 4)],
  },
  {
    name: 'Clip float16 with float16 min and max inputs',
    opType: 'Clip',
    opset: 13,
    inputs: [half([3, 10], 1063, -3, 3), half([], 1064, -1, -0.5), half([], 1065, 0.5, 1)],
  },
  {
    name: 'Gelu float16 (opset 20)',
    opType: 'Gelu',
    opset: 20,
    inputs: [half([2, 30], 1066, -4, 4)],
  },
  {
    name: 'PRelu float16 slope per channel',
    opType: 'PRelu',
    inputs: [half([2, 3, 4], 1067, -2, 2), half([3, 1], 1068, 0, 0.5)],
  },
];

const equalLeft = half([2, 3], 1102, 0, 2);

const comparisons: ConformanceCase[] = [
  {
    name: 'Greater on float16 gives bool',
    opType: 'Greater',
    inputs: [half([3, 4], 1100), half([4], 1101)],
  },
  {
    name: 'Equal on float16 gives bool',
    opType: 'Equal',
    inputs: [
      equalLeft,
      { dtype: 'float16', shape: [3], data: Uint16Array.of(equalLeft.data[0]!, equalLeft.data[4]!, 0x3c00) },
    ],
  },
  {
    name: 'ArgMax over float16 gives int64',
    opType: 'ArgMax',
    attributes: { axis: 1, keepdims: 0 },
    inputs: [half([3, 7], 1103)],
  },
];

const matrices: ConformanceCase[] = [
  {
    name: 'MatMul float16 [2, 3, 40] x constant [40, 24]',
    opType: 'MatMul',
    inputs: [half([2, 3, 40], 1200), half([40, 24], 1201, -0.5, 0.5)],
    constantSlots: [1],
    tolerance: ONE_ULP,
  },
  {
    name: 'MatMul float16 batches broadcast [2, 1, 4, 9] x [3, 9, 5]',
    opType: 'MatMul',
    inputs: [half([2, 1, 4, 9], 1202), half([3, 9, 5], 1203)],
    tolerance: ONE_ULP,
  },
  {
    name: 'Gemm float16 transB alpha 0.5 beta 1.5, constant B and C [16]',
    opType: 'Gemm',
    attributes: { transB: 1, alpha: 0.5, beta: 1.5 },
    inputs: [half([4, 50], 1204), half([16, 50], 1205, -0.5, 0.5), half([16], 1206)],
    constantSlots: [1, 2],
    tolerance: ONE_ULP,
  },
  {
    name: 'Gemm float16 transA without C',
    opType: 'Gemm',
    attributes: { transA: 1 },
    inputs: [half([20, 3], 1207), half([20, 6], 1208)],
    tolerance: ONE_ULP,
  },
];

const convolutions: ConformanceCase[] = [
  {
    name: 'Conv float16 3x3 pads 1 stride 2, constant W and B',
    opType: 'Conv',
    attributes: { pads: [1, 1, 1, 1], strides: [2, 2] },
    inputs: [half([2, 3, 9, 9], 1300), half([8, 3, 3, 3], 1301, -0.5, 0.5), half([8], 1302)],
    constantSlots: [1, 2],
    tolerance: ONE_ULP,
  },
  {
    name: 'Conv float16 depthwise 3x3 SAME_UPPER',
    opType: 'Conv',
    attributes: { group: 4, auto_pad: 'SAME_UPPER' },
    inputs: [half([1, 4, 7, 7], 1303), half([4, 1, 3, 3], 1304)],
    constantSlots: [1],
    tolerance: ONE_ULP,
  },
  {
    name: 'Conv float16 1x1, W fed at run time',
    opType: 'Conv',
    inputs: [half([1, 16, 5, 5], 1305), half([8, 16, 1, 1], 1306, -0.3, 0.3)],
    tolerance: ONE_ULP,
  },
  {
    name: 'ConvTranspose float16 stride 2 with bias',
    opType: 'ConvTranspose',
    attributes: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
    inputs: [half([1, 4, 5, 5], 1307), half([4, 3, 3, 3], 1308, -0.5, 0.5), half([3], 1309)],
    constantSlots: [1, 2],
    tolerance: ONE_ULP,
  },
  {
    name: 'MaxPool float16 3x3 stride 2',
    opType: 'MaxPool',
    attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    inputs: [half([1, 3, 8, 8], 1310, -5, 5)],
  },
  {
    name: 'AveragePool float16 2x2 count_include_pad',
    opType: 'AveragePool',
    attributes: { kernel_shape: [2, 2], pads: [1, 1, 0, 0], count_include_pad: 1 },
    inputs: [half([1, 3, 7, 7], 1311, -5, 5)],
  },
  {
    name: 'GlobalAveragePool float16',
    opType: 'GlobalAveragePool',
    inputs: [half([2, 5, 6, 6], 1312, -5, 5)],
  },
];

const normalizations: ConformanceCase[] = [
  {
    name: 'BatchNormalization float16 (inference)',
    opType: 'BatchNormalization',
    inputs: [
      half([2, 3, 4, 4], 1400, -3, 3),
      half([3], 1401, 0.5, 2),
      half([3], 1402),
      half([3], 1403),
      half([3], 1404, 0.5, 2),
    ],
    constantSlots: [1, 2, 3, 4],
  },
  {
    name: 'InstanceNormalization float16',
    opType: 'InstanceNormalization',
    inputs: [half([2, 3, 5, 5], 1405, -3, 3), half([3], 1406, 0.5, 2), half([3], 1407)],
  },
  {
    name: 'LayerNormalization float16 over the last axis; Mean and InvStdDev stay float32',
    opType: 'LayerNormalization',
    inputs: [half([3, 4, 16], 1408, -2, 3), half([16], 1409, 0.5, 2), half([16], 1410)],
    outputs: 3,
    // onnxruntime's float16 kernel rounds Mean and InvStdDev to float16 before storing them as float32; the
    // runtime keeps their float32 values: up to half a float16 ulp apart (2^-11 relative).
    tolerance: { ulps: 0, abs: 0, rel: 2 ** -11 },
  },
  {
    name: 'Softmax float16 over the last axis',
    opType: 'Softmax',
    inputs: [half([3, 4, 20], 1411, -6, 6)],
  },
  {
    name: 'Softmax float16 axis 1 (opset 11, coerced to 2-D)',
    opType: 'Softmax',
    opset: 11,
    inputs: [half([2, 3, 5], 1412, -6, 6)],
  },
  {
    name: 'LogSoftmax float16',
    opType: 'LogSoftmax',
    inputs: [half([3, 20], 1413, -6, 6)],
  },
];

const reductions: ConformanceCase[] = [
  {
    name: 'ReduceMean float16 axes [2, 3] (opset 13 attribute)',
    opType: 'ReduceMean',
    opset: 13,
    attributes: { axes: [2, 3] },
    inputs: [half([2, 3, 4, 5], 1500, -4, 4)],
  },
  {
    name: 'ReduceMean float16 axes input [-1], keepdims 0 (opset 18)',
    opType: 'ReduceMean',
    opset: 18,
    attributes: { keepdims: 0 },
    inputs: [half([3, 4, 30], 1501, -4, 4), int64Tensor([-1])],
    constantSlots: [1],
  },
  {
    name: 'ReduceSum float16 over every axis',
    opType: 'ReduceSum',
    inputs: [half([4, 6], 1502)],
  },
  {
    name: 'ReduceMax float16 axis 1',
    opType: 'ReduceMax',
    opset: 13,
    attributes: { axes: [1] },
    inputs: [half([4, 6], 1503)],
  },
  {
    name: 'ReduceL2 float16 axis 0',
    opType: 'ReduceL2',
    opset: 13,
    attributes: { axes: [0] },
    inputs: [half([4, 6], 1504)],
  },
];

const resizes: ConformanceCase[] = [
  {
    name: 'Resize float16 linear x2 half_pixel (float32 scales)',
    opType: 'Resize',
    opset: 13,
    attributes: { mode: 'linear' },
    inputs: [half([1, 2, 4, 5], 1600, -3, 3), undefined, float32([1, 1, 2, 2])],
    constantSlots: [2],
  },
  {
    name: 'Resize float16 nearest to sizes [1, 2, 7, 3]',
    opType: 'Resize',
    opset: 13,
    attributes: { mode: 'nearest' },
    inputs: [half([1, 2, 4, 5], 1601, -3, 3), undefined, undefined, int64Tensor([1, 2, 7, 3])],
    constantSlots: [3],
  },
  {
    name: 'Resize float16 cubic x1.5 align_corners',
    opType: 'Resize',
    opset: 13,
    attributes: { mode: 'cubic', coordinate_transformation_mode: 'align_corners' },
    inputs: [half([1, 1, 4, 4], 1602, -3, 3), undefined, float32([1, 1, 1.5, 1.5])],
    constantSlots: [2],
  },
];

/** LSTM, GRU and RNN on float16: X, W, R, B and the initial states all float16. */
function recurrent(opType: 'LSTM' | 'GRU' | 'RNN', gates: number, seed: number): ConformanceCase {
  const [sequence, batch, input, hidden] = [5, 2, 6, 4];
  return {
    name: `${opType} float16 bidirectional with bias and initial state`,
    opType,
    attributes: { hidden_size: hidden, direction: 'bidirectional' },
    inputs: [
      half([sequence, batch, input], seed, -2, 2),
      half([2, gates * hidden, input], seed + 1, -0.6, 0.6),
      half([2, gates * hidden, hidden], seed + 2, -0.6, 0.6),
      half([2, 2 * gates * hidden], seed + 3, -0.5, 0.5),
      undefined,
      half([2, batch, hidden], seed + 4),
      ...(opType === 'LSTM' ? [half([2, batch, hidden], seed + 5)] : []),
    ],
    constantSlots: [1, 2, 3],
    outputs: opType === 'LSTM' ? 3 : 2,
    tolerance: ONE_ULP,
  };
}

const layoutAndQuantize: ConformanceCase[] = [
  {
    name: 'Concat float16 along axis 1 (bits moved as they are)',
    opType: 'Concat',
    attributes: { axis: 1 },
    inputs: [half([2, 3], 1700), half([2, 5], 1701)],
  },
  {
    name: 'Pad float16 reflect',
    opType: 'Pad',
    attributes: { mode: 'reflect' },
    inputs: [half([2, 5], 1702), int64Tensor([0, 2, 0, 1])],
    constantSlots: [1],
  },
  {
    name: 'Pad float16 constant value input',
    opType: 'Pad',
    inputs: [half([2, 5], 1703), int64Tensor([1, 0, 0, 2]), half([], 1704, 2, 3)],
    constantSlots: [1, 2],
  },
  {
    name: 'Where picks float16 bits',
    opType: 'Where',
    inputs: [
      { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) },
      half([2, 3], 1705),
      half([3], 1706),
    ],
  },
  {
    name: 'DequantizeLinear int8 with a float16 scale gives float16 (opset 19)',
    opType: 'DequantizeLinear',
    opset: 19,
    inputs: [
      { dtype: 'int8', shape: [2, 5], data: Int8Array.of(-128, -3, 0, 7, 127, 1, 2, 3, -4, 100) },
      half([], 1707, 0.01, 0.05),
      { dtype: 'int8', shape: [], data: Int8Array.of(3) },
    ],
  },
  {
    // onnxruntime's float16 QuantizeLinear truncates x / scale toward zero instead of rounding it to nearest even
    // (microsoft/onnxruntime#18576): here every x / scale is an integer, where both agree. half-float-kernel.test.ts
    // holds the runtime to the float32 result on other values.
    name: 'QuantizeLinear float16 input and scale to uint8, saturating (opset 19)',
    opType: 'QuantizeLinear',
    opset: 19,
    inputs: [
      {
        dtype: 'float16',
        shape: [3, 8],
        data: float32ToHalf(
          Float32Array.from({ length: 24 }, (_, i) => ((i * 37) % 300) / 16 - 9),
          'float16',
        ),
      },
      { dtype: 'float16', shape: [], data: float32ToHalf(Float32Array.of(0.0625), 'float16') },
      { dtype: 'uint8', shape: [], data: Uint8Array.of(128) },
    ],
  },
];

export const halfFloatCases: readonly ConformanceCase[] = (
  [
    ...elementwise,
    ...comparisons,
    ...matrices,
    ...convolutions,
    ...normalizations,
    ...reductions,
    ...resizes,
    recurrent('LSTM', 4, 1800),
    recurrent('GRU', 3, 1810),
    recurrent('RNN', 1, 1820),
    ...layoutAndQuantize,
  ] as ConformanceCase[]
).map((testCase) => ({ tolerance: EXACT, ...testCase }));
