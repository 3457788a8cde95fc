import { type DType, type Tensor, allocate, createSeededRandom, dtypeInfo, sizeOf } from '@quantkit/core';
import type { ConformanceCase } from '../conformance-case.js';
import { randomFloat } from '../random-tensors.js';

// ---------------------------------------------------------------------------------------------------------------
// Tensors

/** A tensor of seeded random integer codes of `dtype` in [low, high] (the type's range by default). */
function randomCodes(
  dtype: DType,
  shape: readonly number[],
  seed: number,
  low = dtypeInfo(dtype).min,
  high = dtypeInfo(dtype).max,
): Tensor {
  const random = createSeededRandom(seed);
  const data = allocate(dtype, sizeOf(shape)) as Int32Array;
  for (let i = 0; i < data.length; i++) data[i] = low + Math.floor(random() * (high - low + 1));
  return { dtype, shape: [...shape], data };
}

/** A tensor of `dtype` holding `values` (a scalar when `shape` is omitted and there is one value). */
function tensor(dtype: DType, values: readonly number[], shape?: readonly number[]): Tensor {
  const data = allocate(dtype, values.length) as Int32Array;
  values.forEach((value, index) => {
    data[index] = value;
  });
  return { dtype, shape: shape ?? (values.length === 1 ? [] : [values.length]), data };
}

const scalar = (value: number): Tensor => tensor('float32', [value]);

/** Float values at and around the rounding ties of `scale`: k/2 * scale for k in [-count, count]. */
function tieValues(scale: number, count: number): Tensor {
  const values: number[] = [];
  for (let k = -count; k <= count; k++) values.push(Math.fround((k / 2) * scale));
  return tensor('float32', values);
}

// ---------------------------------------------------------------------------------------------------------------
// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear

const quantizeCases: ConformanceCase[] = [
  {
    name: 'QuantizeLinear uint8 per tensor (opset 10)',
    opType: 'QuantizeLinear',
    opset: 10,
    inputs: [randomFloat([2, 3, 4], 1, -3, 3), scalar(0.02), tensor('uint8', [128])],
  },
  {
    name: 'QuantizeLinear uint8 without zero point saturates negatives to 0',
    opType: 'QuantizeLinear',
    opset: 13,
    inputs: [randomFloat([5, 7], 2, -2, 2), scalar(0.013)],
  },
  {
    name: 'QuantizeLinear int8 ties round to even and saturate',
    opType: 'QuantizeLinear',
    inputs: [tieValues(0.25, 600), scalar(0.25), tensor('int8', [-3])],
  },
  {
    name: 'QuantizeLinear uint8 ties round to even with an odd zero point',
    opType: 'QuantizeLinear',
    inputs: [tieValues(0.1, 400), scalar(0.1), tensor('uint8', [77])],
  },
  {
    name: 'QuantizeLinear int8 per axis 1 (opset 13)',
    opType: 'QuantizeLinear',
    opset: 13,
    attributes: { axis: 1 },
    inputs: [
      randomFloat([2, 3, 4], 3, -1, 1),
      tensor('float32', [0.01, 0.003, 0.02]),
      tensor('int8', [0, -10, 5]),
    ],
  },
  {
    name: 'QuantizeLinear uint8 per axis -1 of a rank-3 tensor',
    opType: 'QuantizeLinear',
    attributes: { axis: -1 },
    inputs: [
      randomFloat([2, 3, 4], 4, -1, 1),
      tensor('float32', [0.01, 0.003, 0.02, 0.007]),
      tensor('uint8', [128, 100, 0, 255]),
    ],
  },
  {
    name: 'QuantizeLinear int8 per axis 0 with constant parameters',
    opType: 'QuantizeLinear',
    attributes: { axis: 0 },
    inputs: [
      randomFloat([3, 2, 2], 5, -1, 1),
      tensor('float32', [0.01, 0.02, 0.004]),
      tensor('int8', [1, 0, -1]),
    ],
    constantSlots: [1, 2],
  },
  {
    name: 'QuantizeLinear int8 blocked along axis 1, block 2 over 5 (opset 21)',
    opType: 'QuantizeLinear',
    opset: 21,
    attributes: { axis: 1, block_size: 2 },
    inputs: [
      randomFloat([2, 5, 3], 6, -1, 1),
      randomFloat([2, 3, 3], 7, 0.002, 0.02),
      randomCodes('int8', [2, 3, 3], 8, -20, 20),
    ],
  },
  {
    name: 'QuantizeLinear uint8 blocked along axis 0, block 4 (opset 21)',
    opType: 'QuantizeLinear',
    opset: 21,
    attributes: { axis: 0, block_size: 4 },
    inputs: [
      randomFloat([8, 3], 9, -1, 1),
      randomFloat([2, 3], 10, 0.002, 0.02),
      randomCodes('uint8', [2, 3], 11),
    ],
  },
  {
    name: 'QuantizeLinear uint16 per tensor (opset 21)',
    opType: 'QuantizeLinear',
    opset: 21,
    inputs: [randomFloat([4, 6], 12, -5, 5), scalar(0.0001), tensor('uint16', [32768])],
  },
  {
    name: 'QuantizeLinear int16 per axis (opset 21)',
    opType: 'QuantizeLinear',
    opset: 21,
    attributes: { axis: 0 },
    inputs: [
      randomFloat([2, 6], 13, -5, 5),
      tensor('float32', [0.0001, 0.0003]),
      tensor('int16', [10, -300]),
    ],
  },
  {
    name: 'QuantizeLinear output_dtype int8 without zero point (opset 21)',
    opType: 'QuantizeLinear',
    opset: 21,
    attributes: { output_dtype: 3 },
    inputs: [randomFloat([3, 4], 14, -2, 2), scalar(0.01)],
  },
  {
    name: 'QuantizeLinear saturate attribute on int8 (opset 19)',
    opType: 'QuantizeLinear',
    opset: 19,
    attributes: { saturate: 1 },
    inputs: [randomFloat([3, 4], 15, -2, 2), scalar(0.01), tensor('int8', [0])],
  },
  {
    name: 'QuantizeLinear of an empty tensor',
    opType: 'QuantizeLinear',
    inputs: [randomFloat([2, 0, 3], 16), scalar(0.01), tensor('uint8', [3])],
  },
  {
    name: 'QuantizeLinear of a scalar',
    opType: 'QuantizeLinear',
    inputs: [scalar(0.37), scalar(0.01), tensor('int8', [5])],
  },
  {
    name: 'com.microsoft QuantizeLinear uint16 per tensor',
    opType: 'QuantizeLinear',
    domain: 'com.microsoft',
    inputs: [randomFloat([4, 5], 17, -3, 3), scalar(0.0002), tensor('uint16', [30000])],
  },
  {
    name: 'com.microsoft QuantizeLinear int16 per axis 1',
    opType: 'QuantizeLinear',
    domain: 'com.microsoft',
    attributes: { axis: 1 },
    inputs: [
      randomFloat([2, 3, 2], 18, -3, 3),
      tensor('float32', [0.0002, 0.001, 0.0004]),
      tensor('int16', [0, 7, -9]),
    ],
  },
  {
    name: 'com.microsoft QuantizeLinear int8 per tensor',
    opType: 'QuantizeLinear',
    domain: 'com.microsoft',
    inputs: [randomFloat([6], 19, -1, 1), scalar(0.01), tensor('int8', [2])],
  },
];

const dequantizeCases: ConformanceCase[] = [
  {
    name: 'DequantizeLinear uint8 per tensor (opset 10)',
    opType: 'DequantizeLinear',
    opset: 10,
    inputs: [randomCodes('uint8', [3, 4], 20), scalar(0.0137), tensor('uint8', [131])],
  },
  {
    name: 'DequantizeLinear int8 without zero point',
    opType: 'DequantizeLinear',
    inputs: [randomCodes('int8', [2, 7], 21), scalar(0.3)],
  },
  {
    name: 'DequantizeLinear int32 codes, large values',
    opType: 'DequantizeLinear',
    inputs: [tensor('int32', [2147483647, -2147483648, 16777217, -33554433, 0, 5]), scalar(0.00013)],
  },
  {
    name: 'DequantizeLinear int8 weight per axis 0 (constant)',
    opType: 'DequantizeLinear',
    opset: 13,
    attributes: { axis: 0 },
    inputs: [
      randomCodes('int8', [4, 3, 2, 2], 22),
      randomFloat([4], 23, 0.001, 0.01),
      tensor('int8', [0, 0, 0, 0]),
    ],
    constantSlots: [0, 1, 2],
  },
  {
    name: 'DequantizeLinear uint8 per axis -1',
    opType: 'DequantizeLinear',
    attributes: { axis: -1 },
    inputs: [
      randomCodes('uint8', [2, 3, 4], 24),
      randomFloat([4], 25, 0.001, 0.01),
      randomCodes('uint8', [4], 26),
    ],
  },
  {
    name: 'DequantizeLinear int8 blocked along axis 0, block 2 over 5 (opset 21)',
    opType: 'DequantizeLinear',
    opset: 21,
    attributes: { axis: 0, block_size: 2 },
    inputs: [
      randomCodes('int8', [5, 3], 27),
      randomFloat([3, 3], 28, 0.001, 0.01),
      randomCodes('int8', [3, 3], 29, -5, 5),
    ],
  },
  {
    name: 'DequantizeLinear uint16 per tensor (opset 21)',
    opType: 'DequantizeLinear',
    opset: 21,
    inputs: [randomCodes('uint16', [3, 5], 30), scalar(0.0001), tensor('uint16', [32768])],
  },
  {
    name: 'DequantizeLinear int16 per axis (opset 21)',
    opType: 'DequantizeLinear',
    opset: 21,
    attributes: { axis: 1 },
    inputs: [
      randomCodes('int16', [2, 3], 31),
      tensor('float32', [0.001, 0.0001, 0.01]),
      tensor('int16', [5, 0, -5]),
    ],
  },
  {
    name: 'DequantizeLinear int4 constant per tensor (opset 21)',
    opType: 'DequantizeLinear',
    opset: 21,
    inputs: [randomCodes('int4', [3, 5], 32), scalar(0.05), tensor('int4', [1])],
    constantSlots: [0, 1, 2],
  },
  {
    name: 'DequantizeLinear uint4 constant blocked along axis 1, block 4 (opset 21)',
    opType: 'DequantizeLinear',
    opset: 21,
    attributes: { axis: 1, block_size: 4 },
    inputs: [
      randomCodes('uint4', [3, 8], 33),
      randomFloat([3, 2], 34, 0.01, 0.1),
      randomCodes('uint4', [3, 2], 35),
    ],
    constantSlots: [0, 1, 2],
  },
  {
    name: 'com.microsoft DequantizeLinear uint16 per tensor',
    opType: 'DequantizeLinear',
    domain: 'com.microsoft',
    inputs: [randomCodes('uint16', [4, 4], 36), scalar(0.0003), tensor('uint16', [40000])],
  },
  {
    name: 'com.microsoft DequantizeLinear int16 per axis 0',
    opType: 'DequantizeLinear',
    domain: 'com.microsoft',
    attributes: { axis: 0 },
    inputs: [
      randomCodes('int16', [2, 5], 37),
      tensor('float32', [0.0003, 0.002]),
      tensor('int16', [-100, 100]),
    ],
  },
  {
    name: 'DequantizeLinear of an empty tensor',
    opType: 'DequantizeLinear',
    inputs: [randomCodes('uint8', [0, 4], 38), scalar(0.1), tensor('uint8', [1])],
  },
];

const allZero = randomFloat([3, 4], 40);
allZero.data.fill(0);

const dynamicCases: ConformanceCase[] = [
  {
    name: 'DynamicQuantizeLinear on mixed-sign values',
    opType: 'DynamicQuantizeLinear',
    inputs: [randomFloat([3, 17], 41, -3, 5)],
    outputs: 3,
  },
  {
    name: 'DynamicQuantizeLinear on positive values (range widened to 0)',
    opType: 'DynamicQuantizeLinear',
    inputs: [randomFloat([2, 9], 42, 1, 4)],
    outputs: 3,
  },
  {
    name: 'DynamicQuantizeLinear on negative values',
    opType: 'DynamicQuantizeLinear',
    inputs: [randomFloat([20], 43, -7, -0.5)],
    outputs: 3,
  },
  { name: 'DynamicQuantizeLinear on zeros', opType: 'DynamicQuantizeLinear', inputs: [allZero], outputs: 3 },
];

/** Float outputs that onnxruntime computes with the same float32 operations: they must agree bit for bit. */
const exact = (cases: ConformanceCase[]): ConformanceCase[] =>
  cases.map((testCase) => ({ ...testCase, tolerance: { abs: 0, rel: 0 } }));

export const quantizedCases: readonly ConformanceCase[] = [
  ...quantizeCases,
  ...exact(dequantizeCases),
  ...exact(dynamicCases),
];
