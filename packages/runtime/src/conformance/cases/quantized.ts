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
    name: 'DequantizeLinear uint8 blocked along axis -1, block 3 (opset 21)',
    opType: 'DequantizeLinear',
    opset: 21,
    attributes: { axis: -1, block_size: 3 },
    inputs: [
      randomCodes('uint8', [2, 2, 7], 39),
      randomFloat([2, 2, 3], 40, 0.001, 0.01),
      randomCodes('uint8', [2, 2, 3], 41),
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

// ---------------------------------------------------------------------------------------------------------------
// QLinearMatMul / MatMulInteger / QGemm / MatMulIntegerToFloat / DynamicQuantizeMatMul

type Code8 = 'uint8' | 'int8';

/** A zero point of `dtype` near the middle of its range, seeded. */
function zeroPoint(dtype: Code8, seed: number, shape?: readonly number[]): Tensor {
  const middle = dtype === 'uint8' ? 128 : 0;
  return randomCodes(dtype, shape ?? [], seed, middle - 20, middle + 20);
}

interface QLinearMatMulOptions {
  readonly opset?: number;
  readonly constantB?: boolean;
  /** Shape of b_scale and b_zero_point (per tensor when omitted). */
  readonly bParamShape?: readonly number[];
  readonly yScale?: number;
  /** a_scale, b_scale, y_scale as powers of two, so that requantized values hit rounding ties. */
  readonly powerOfTwoScales?: boolean;
}

function qLinearMatMulCase(
  name: string,
  types: [Code8, Code8],
  aShape: readonly number[],
  bShape: readonly number[],
  seed: number,
  options: QLinearMatMulOptions = {},
): ConformanceCase {
  const [aType, bType] = types;
  const bParamShape = options.bParamShape ?? [];
  return {
    name: `QLinearMatMul ${name}`,
    opType: 'QLinearMatMul',
    ...(options.opset !== undefined && { opset: options.opset }),
    inputs: [
      randomCodes(aType, aShape, seed),
      scalar(options.powerOfTwoScales === true ? 0.5 : 0.02),
      zeroPoint(aType, seed + 1),
      randomCodes(bType, bShape, seed + 2),
      options.powerOfTwoScales === true
        ? tensor('float32', [0.0625])
        : randomFloat(bParamShape, seed + 3, 0.005, 0.015),
      zeroPoint(bType, seed + 4, bParamShape),
      scalar(options.powerOfTwoScales === true ? 4 : (options.yScale ?? 0.05)),
      zeroPoint(aType, seed + 5),
    ],
    ...(options.constantB === true && { constantSlots: [3, 4, 5] }),
  };
}

const qLinearMatMulCases: ConformanceCase[] = [
  qLinearMatMulCase('u8 x u8 [4, 8] x [8, 5]', ['uint8', 'uint8'], [4, 8], [8, 5], 100),
  qLinearMatMulCase('u8 x s8, constant B', ['uint8', 'int8'], [3, 16], [16, 6], 110, { constantB: true }),
  qLinearMatMulCase('s8 x s8, per-column B parameters', ['int8', 'int8'], [5, 8], [8, 6], 120, {
    bParamShape: [6],
    constantB: true,
  }),
  qLinearMatMulCase('u8 x u8, per-column B parameters fed', ['uint8', 'uint8'], [2, 8], [8, 3], 130, {
    bParamShape: [3],
  }),
  qLinearMatMulCase('u8 x s8 batched [2, 3, 8] x [8, 4]', ['uint8', 'int8'], [2, 3, 8], [8, 4], 140),
  qLinearMatMulCase('s8 x s8 batched [2, 3, 8] x [2, 8, 4]', ['int8', 'int8'], [2, 3, 8], [2, 8, 4], 150),
  qLinearMatMulCase('u8 x u8 broadcast [1, 3, 8] x [3, 8, 2]', ['uint8', 'uint8'], [1, 3, 8], [3, 8, 2], 160),
  qLinearMatMulCase('u8 x s8 1-D A', ['uint8', 'int8'], [8], [8, 5], 170),
  qLinearMatMulCase('u8 x u8 1-D B', ['uint8', 'uint8'], [3, 8], [8], 180),
  qLinearMatMulCase(
    'u8 x s8 per-matrix column parameters [2, 1, 4]',
    ['uint8', 'int8'],
    [2, 3, 8],
    [2, 8, 4],
    190,
    {
      bParamShape: [2, 1, 4],
    },
  ),
  qLinearMatMulCase('s8 x s8 K 300, opset 21', ['int8', 'int8'], [4, 300], [300, 7], 200, {
    opset: 21,
    yScale: 0.3,
  }),
  qLinearMatMulCase('u8 x u8 saturating', ['uint8', 'uint8'], [4, 32], [32, 4], 210, { yScale: 0.005 }),
  qLinearMatMulCase('u8 x s8 requantization ties round to even', ['uint8', 'int8'], [32, 4], [4, 32], 230, {
    powerOfTwoScales: true,
  }),
  qLinearMatMulCase('u8 x u8 empty M', ['uint8', 'uint8'], [0, 8], [8, 4], 220),
];

function matMulIntegerCase(
  name: string,
  types: [Code8, Code8],
  aShape: readonly number[],
  bShape: readonly number[],
  seed: number,
  zeroPoints: { a?: readonly number[] | 'none'; b?: readonly number[] | 'none'; constantB?: boolean } = {},
): ConformanceCase {
  const [aType, bType] = types;
  const a = zeroPoints.a === 'none' ? undefined : zeroPoint(aType, seed + 1, zeroPoints.a ?? []);
  const b = zeroPoints.b === 'none' ? undefined : zeroPoint(bType, seed + 2, zeroPoints.b ?? []);
  const inputs = [randomCodes(aType, aShape, seed), randomCodes(bType, bShape, seed + 3), a, b];
  while (inputs.length > 2 && inputs[inputs.length - 1] === undefined) inputs.pop();
  return {
    name: `MatMulInteger ${name}`,
    opType: 'MatMulInteger',
    inputs,
    ...(zeroPoints.constantB === true && { constantSlots: [1, 3] }),
  };
}

const matMulIntegerCases: ConformanceCase[] = [
  matMulIntegerCase('u8 x u8 with zero points', ['uint8', 'uint8'], [4, 9], [9, 5], 300),
  matMulIntegerCase('u8 x s8 without zero points', ['uint8', 'int8'], [3, 16], [16, 4], 310, {
    a: 'none',
    b: 'none',
  }),
  matMulIntegerCase('s8 x s8 constant B', ['int8', 'int8'], [3, 16], [16, 4], 320, { constantB: true }),
  matMulIntegerCase('u8 x u8 per-column B zero points', ['uint8', 'uint8'], [2, 7], [7, 6], 330, { b: [6] }),
  matMulIntegerCase('u8 x s8 batched [2, 3, 5] x [2, 5, 4]', ['uint8', 'int8'], [2, 3, 5], [2, 5, 4], 340),
  matMulIntegerCase('u8 x u8 1-D A', ['uint8', 'uint8'], [6], [6, 3], 350),
  matMulIntegerCase('u8 x u8 K 1000', ['uint8', 'uint8'], [2, 1000], [1000, 3], 360),
];

function qGemmCase(
  name: string,
  types: [Code8, Code8],
  m: number,
  k: number,
  n: number,
  seed: number,
  options: {
    transA?: boolean;
    transB?: boolean;
    alpha?: number;
    perColumn?: boolean;
    c?: readonly number[];
    floatOutput?: boolean;
    constantB?: boolean;
  } = {},
): ConformanceCase {
  const [aType, bType] = types;
  const bParamShape = options.perColumn === true ? [n] : [];
  const attributes: Record<string, number | { type: 'float'; value: number }> = {};
  if (options.transA === true) attributes['transA'] = 1;
  if (options.transB === true) attributes['transB'] = 1;
  if (options.alpha !== undefined) attributes['alpha'] = { type: 'float', value: options.alpha };
  const inputs: (Tensor | undefined)[] = [
    randomCodes(aType, options.transA === true ? [k, m] : [m, k], seed),
    scalar(0.02),
    zeroPoint(aType, seed + 1),
    randomCodes(bType, options.transB === true ? [n, k] : [k, n], seed + 2),
    randomFloat(bParamShape, seed + 3, 0.005, 0.015),
    zeroPoint(bType, seed + 4, bParamShape),
    options.c === undefined ? undefined : randomCodes('int32', options.c, seed + 5, -20000, 20000),
  ];
  if (options.floatOutput !== true) inputs.push(scalar(0.05), zeroPoint(aType, seed + 6));
  while (inputs[inputs.length - 1] === undefined) inputs.pop();
  return {
    name: `QGemm ${name}`,
    opType: 'QGemm',
    domain: 'com.microsoft',
    attributes,
    inputs,
    ...(options.constantB === true && { constantSlots: [3, 4, 5] }),
  };
}

const qGemmCases: ConformanceCase[] = [
  qGemmCase('u8 x s8 per tensor, quantized output', ['uint8', 'int8'], 4, 8, 5, 400),
  qGemmCase('u8 x u8 transA transB, per-column B, C [N]', ['uint8', 'uint8'], 3, 8, 4, 410, {
    transA: true,
    transB: true,
    perColumn: true,
    c: [4],
  }),
  qGemmCase('u8 x s8 constant transposed B, C [M, N]', ['uint8', 'int8'], 3, 16, 4, 420, {
    transB: true,
    constantB: true,
    c: [3, 4],
  }),
  qGemmCase('s8 x s8 alpha 0.5, C scalar, s8 output', ['int8', 'int8'], 5, 8, 3, 430, { alpha: 0.5, c: [] }),
  qGemmCase('u8 x s8 float output with C [M, 1]', ['uint8', 'int8'], 3, 8, 4, 440, {
    floatOutput: true,
    c: [3, 1],
  }),
  qGemmCase('s8 x s8 float output, alpha 1.7, per column', ['int8', 'int8'], 2, 12, 5, 450, {
    floatOutput: true,
    alpha: 1.7,
    perColumn: true,
  }),
];

const matMulToFloatCases: ConformanceCase[] = [
  {
    name: 'MatMulIntegerToFloat u8 x s8 per-column b_scale with bias',
    opType: 'MatMulIntegerToFloat',
    domain: 'com.microsoft',
    inputs: [
      randomCodes('uint8', [3, 8], 500),
      randomCodes('int8', [8, 4], 501),
      scalar(0.02),
      randomFloat([4], 502, 0.005, 0.02),
      zeroPoint('uint8', 503),
      zeroPoint('int8', 504, [4]),
      randomFloat([4], 505, -1, 1),
    ],
    constantSlots: [1, 3, 5],
  },
  {
    name: 'MatMulIntegerToFloat u8 x u8 batched without bias',
    opType: 'MatMulIntegerToFloat',
    domain: 'com.microsoft',
    inputs: [
      randomCodes('uint8', [2, 3, 8], 510),
      randomCodes('uint8', [8, 5], 511),
      scalar(0.02),
      scalar(0.01),
      zeroPoint('uint8', 512),
      zeroPoint('uint8', 513),
    ],
  },
  {
    name: 'DynamicQuantizeMatMul s8 B per tensor with bias',
    opType: 'DynamicQuantizeMatMul',
    domain: 'com.microsoft',
    inputs: [
      randomFloat([3, 16], 520, -2, 3),
      randomCodes('int8', [16, 8], 521),
      scalar(0.01),
      tensor('int8', [0]),
      randomFloat([8], 522),
    ],
    constantSlots: [1, 2, 3, 4],
  },
  {
    name: 'DynamicQuantizeMatMul u8 B per column, batched A',
    opType: 'DynamicQuantizeMatMul',
    domain: 'com.microsoft',
    inputs: [
      randomFloat([2, 3, 16], 530, -1, 1),
      randomCodes('uint8', [16, 5], 531),
      randomFloat([5], 532, 0.005, 0.02),
      zeroPoint('uint8', 533, [5]),
    ],
    constantSlots: [1, 2, 3],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// QLinearConv / ConvInteger

interface ConvOptions {
  readonly attributes?: Record<string, number | readonly number[] | string>;
  readonly group?: number;
  readonly perChannel?: boolean;
  readonly bias?: boolean;
  readonly fedWeight?: boolean;
  readonly powerOfTwoScales?: boolean;
}

function qLinearConvCase(
  name: string,
  types: [Code8, Code8],
  xShape: readonly number[],
  wShape: readonly number[],
  seed: number,
  options: ConvOptions = {},
): ConformanceCase {
  const [xType, wType] = types;
  const channels = wShape[0]!;
  const kernelDim = sizeOf(wShape.slice(1));
  const paramShape = options.perChannel === true ? [channels] : [];
  const twos = options.powerOfTwoScales === true;
  // y_scale puts typical accumulators (about sqrt(kernelDim) * 5500 for codes spread over the range) mid-range.
  const yScale = twos ? 4 : 0.02 * 0.01 * 85 * Math.sqrt(kernelDim);
  const inputs: (Tensor | undefined)[] = [
    randomCodes(xType, xShape, seed),
    scalar(twos ? 0.5 : 0.02),
    zeroPoint(xType, seed + 1),
    randomCodes(wType, wShape, seed + 2),
    twos ? tensor('float32', [0.0625]) : randomFloat(paramShape, seed + 3, 0.007, 0.013),
    // onnxruntime takes one weight zero point for all channels.
    tensor(wType, new Array<number>(sizeOf(paramShape)).fill(wType === 'uint8' ? 128 : 0), paramShape),
    scalar(yScale),
    zeroPoint(xType, seed + 5),
    options.bias === true ? randomCodes('int32', [channels], seed + 6, -30000, 30000) : undefined,
  ];
  while (inputs[inputs.length - 1] === undefined) inputs.pop();
  return {
    name: `QLinearConv ${name}`,
    opType: 'QLinearConv',
    attributes: { ...options.attributes, ...(options.group !== undefined && { group: options.group }) },
    inputs,
    ...(options.fedWeight !== true && { constantSlots: [3, 4, 5, ...(options.bias === true ? [8] : [])] }),
  };
}

const qLinearConvCases: ConformanceCase[] = [
  qLinearConvCase('u8 x u8 3x3 pads 1 with bias', ['uint8', 'uint8'], [1, 3, 8, 8], [4, 3, 3, 3], 600, {
    attributes: { pads: [1, 1, 1, 1] },
    bias: true,
  }),
  qLinearConvCase(
    'u8 x s8 per channel, strides 2, dilations 2',
    ['uint8', 'int8'],
    [2, 3, 9, 9],
    [5, 3, 3, 3],
    610,
    {
      attributes: { strides: [2, 2], dilations: [2, 2] },
      perChannel: true,
      bias: true,
    },
  ),
  qLinearConvCase('s8 x s8 depthwise 3x3 pads 1', ['int8', 'int8'], [1, 4, 7, 7], [4, 1, 3, 3], 620, {
    attributes: { pads: [1, 1, 1, 1] },
    group: 4,
    perChannel: true,
  }),
  qLinearConvCase('u8 x s8 depthwise with multiplier 2', ['uint8', 'int8'], [1, 3, 6, 6], [6, 1, 3, 3], 630, {
    group: 3,
    bias: true,
  }),
  qLinearConvCase('u8 x u8 group 2', ['uint8', 'uint8'], [2, 4, 6, 6], [6, 2, 3, 3], 640, {
    group: 2,
    bias: true,
  }),
  qLinearConvCase(
    'u8 x s8 auto_pad SAME_UPPER stride 2',
    ['uint8', 'int8'],
    [1, 2, 7, 8],
    [3, 2, 3, 3],
    650,
    {
      attributes: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
    },
  ),
  qLinearConvCase('u8 x s8 auto_pad SAME_LOWER 4x4', ['uint8', 'int8'], [1, 2, 7, 7], [3, 2, 4, 4], 660, {
    attributes: { auto_pad: 'SAME_LOWER' },
  }),
  qLinearConvCase('s8 x s8 auto_pad VALID', ['int8', 'int8'], [1, 2, 6, 5], [2, 2, 3, 2], 670, {
    attributes: { auto_pad: 'VALID' },
  }),
  qLinearConvCase('u8 x s8 asymmetric pads', ['uint8', 'int8'], [1, 2, 5, 6], [3, 2, 3, 3], 680, {
    attributes: { pads: [0, 1, 2, 0] },
  }),
  qLinearConvCase('u8 x u8 1-D', ['uint8', 'uint8'], [2, 2, 10], [3, 2, 3], 690, {
    attributes: { pads: [1, 2], strides: [2] },
    bias: true,
  }),
  qLinearConvCase('u8 x s8 3-D', ['uint8', 'int8'], [1, 2, 4, 5, 4], [2, 2, 2, 3, 2], 700, {
    attributes: { pads: [1, 0, 1, 0, 1, 1] },
    perChannel: true,
  }),
  qLinearConvCase('s8 x s8 1x1 with kernel_shape', ['int8', 'int8'], [1, 8, 4, 4], [6, 8, 1, 1], 710, {
    attributes: { kernel_shape: [1, 1] },
    perChannel: true,
    bias: true,
  }),
  qLinearConvCase('u8 x s8 fed weight and parameters', ['uint8', 'int8'], [1, 3, 5, 5], [4, 3, 3, 3], 720, {
    fedWeight: true,
    perChannel: true,
  }),
  qLinearConvCase(
    'u8 x s8 requantization ties round to even',
    ['uint8', 'int8'],
    [1, 2, 9, 9],
    [8, 2, 2, 2],
    730,
    {
      powerOfTwoScales: true,
    },
  ),
];

function convIntegerCase(
  name: string,
  types: [Code8, Code8],
  xShape: readonly number[],
  wShape: readonly number[],
  seed: number,
  options: { attributes?: Record<string, number | readonly number[] | string>; zeroPoints?: boolean } = {},
): ConformanceCase {
  const [xType, wType] = types;
  return {
    name: `ConvInteger ${name}`,
    opType: 'ConvInteger',
    ...(options.attributes !== undefined && { attributes: options.attributes }),
    inputs: [
      randomCodes(xType, xShape, seed),
      randomCodes(wType, wShape, seed + 1),
      ...(options.zeroPoints === false ? [] : [zeroPoint(xType, seed + 2), zeroPoint(wType, seed + 3)]),
    ],
    constantSlots: [1],
  };
}

const convIntegerCases: ConformanceCase[] = [
  convIntegerCase('u8 x u8 with zero points, pads 1', ['uint8', 'uint8'], [1, 3, 6, 6], [4, 3, 3, 3], 800, {
    attributes: { pads: [1, 1, 1, 1] },
  }),
  convIntegerCase(
    'u8 x u8 without zero points, stride 2',
    ['uint8', 'uint8'],
    [2, 2, 7, 7],
    [3, 2, 3, 3],
    810,
    {
      attributes: { strides: [2, 2] },
      zeroPoints: false,
    },
  ),
  convIntegerCase('u8 x u8 group 2 dilations 2', ['uint8', 'uint8'], [1, 4, 8, 8], [4, 2, 3, 3], 820, {
    attributes: { group: 2, dilations: [2, 2], pads: [2, 2, 2, 2] },
  }),
  convIntegerCase('u8 x u8 1-D SAME_UPPER', ['uint8', 'uint8'], [1, 2, 9], [2, 2, 4], 830, {
    attributes: { auto_pad: 'SAME_UPPER' },
  }),
];

// ---------------------------------------------------------------------------------------------------------------
// MatMulNBits

/** Packs codes ([N][K] row-major, `bits` each) into MatMulNBits' B: [N, blocks, blockSize * bits / 8], low bits first. */
function packBits(codes: Tensor, n: number, k: number, bits: number, blockSize: number): Tensor {
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const bytes = new Uint8Array(n * blocks * blob);
  for (let column = 0; column < n; column++) {
    for (let row = 0; row < k; row++) {
      const block = Math.floor(row / blockSize);
      const bit = (row % blockSize) * bits;
      const at = (column * blocks + block) * blob + (bit >> 3);
      bytes[at]! |= Number(codes.data[column * k + row]) << (bit & 7);
    }
  }
  return { dtype: 'uint8', shape: [n, blocks, blob], data: bytes };
}

/** Packs per-block zero points ([N][blocks]) `bits` each into MatMulNBits' uint8 zero_points. */
function packZeroPoints(zeros: Tensor, n: number, blocks: number, bits: number): Tensor {
  const perColumn = Math.ceil((blocks * bits) / 8);
  const bytes = new Uint8Array(n * perColumn);
  for (let column = 0; column < n; column++) {
    for (let block = 0; block < blocks; block++) {
      const bit = block * bits;
      bytes[column * perColumn + (bit >> 3)]! |= Number(zeros.data[column * blocks + block]) << (bit & 7);
    }
  }
  return { dtype: 'uint8', shape: [n * perColumn], data: bytes };
}

function matMulNBitsCase(
  name: string,
  aShape: readonly number[],
  n: number,
  bits: number,
  blockSize: number,
  seed: number,
  options: { zeroPoints?: 'packed' | 'float'; bias?: boolean; accuracyLevel?: number } = {},
): ConformanceCase {
  const k = aShape[aShape.length - 1]!;
  const blocks = Math.ceil(k / blockSize);
  const top = 2 ** bits - 1;
  const codes = randomCodes('uint8', [n, k], seed, 0, top);
  const zeros =
    options.zeroPoints === 'packed'
      ? packZeroPoints(randomCodes('uint8', [n, blocks], seed + 1, 0, top), n, blocks, bits)
      : options.zeroPoints === 'float'
        ? randomFloat([n * blocks], seed + 1, 0, top)
        : undefined;
  const inputs: (Tensor | undefined)[] = [
    randomFloat(aShape, seed + 2),
    packBits(codes, n, k, bits, blockSize),
    randomFloat([n * blocks], seed + 3, 0.01, 0.1),
    zeros,
    undefined,
    options.bias === true ? randomFloat([n], seed + 4) : undefined,
  ];
  while (inputs[inputs.length - 1] === undefined) inputs.pop();
  return {
    name: `MatMulNBits ${name}`,
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    attributes: {
      K: k,
      N: n,
      bits,
      block_size: blockSize,
      ...(options.accuracyLevel !== undefined && { accuracy_level: options.accuracyLevel }),
    },
    inputs,
    constantSlots: [1, 2, 3, 5].filter((slot) => inputs[slot] !== undefined),
    // The sums run in another order than onnxruntime's blocked kernels.
    tolerance: { abs: 1e-4, rel: 1e-4 },
  };
}

const matMulNBitsCases: ConformanceCase[] = [
  matMulNBitsCase('4 bits, block 16, default zero point', [3, 32], 8, 4, 16, 900),
  matMulNBitsCase(
    '4 bits, block 16, K 40 (padded last block), packed zero points, bias',
    [2, 40],
    5,
    4,
    16,
    910,
    {
      zeroPoints: 'packed',
      bias: true,
    },
  ),
  matMulNBitsCase('4 bits, block 32, float zero points, batched A', [2, 3, 64], 6, 4, 32, 920, {
    zeroPoints: 'float',
  }),
  matMulNBitsCase('8 bits, block 32, packed zero points', [4, 64], 7, 8, 32, 930, { zeroPoints: 'packed' }),
  matMulNBitsCase('8 bits, block 16, default zero point, bias', [1, 48], 3, 8, 16, 940, { bias: true }),
  matMulNBitsCase('4 bits, block 128, accuracy_level 0', [5, 256], 9, 4, 128, 960, { accuracyLevel: 0 }),
];

// ---------------------------------------------------------------------------------------------------------------
// com.microsoft QLinearAdd / QLinearMul / QLinearSigmoid / QLinearLeakyRelu / QLinearConcat

const MS = 'com.microsoft';

function qLinearBinaryCase(
  opType: string,
  name: string,
  dtype: Code8,
  aShape: readonly number[],
  bShape: readonly number[],
  seed: number,
  scales: [number, number, number],
  options: { constantB?: boolean } = {},
): ConformanceCase {
  // onnxruntime's type inference refuses these ops without their (optional) zero points.
  const zero = (offset: number) => zeroPoint(dtype, seed + offset);
  return {
    name: `${opType} ${name}`,
    opType,
    domain: MS,
    inputs: [
      randomCodes(dtype, aShape, seed),
      scalar(scales[0]),
      zero(1),
      randomCodes(dtype, bShape, seed + 2),
      scalar(scales[1]),
      zero(3),
      scalar(scales[2]),
      zero(4),
    ],
    ...(options.constantB === true && { constantSlots: [3, 4, 5] }),
  };
}

const qLinearBinaryCases: ConformanceCase[] = ['QLinearAdd', 'QLinearMul'].flatMap((opType) => {
  const outScale = opType === 'QLinearAdd' ? 0.05 : 0.5;
  return [
    qLinearBinaryCase(opType, 'u8 same shape', 'uint8', [2, 3, 9], [2, 3, 9], 1000, [0.02, 0.03, outScale]),
    qLinearBinaryCase(opType, 's8 broadcast [2, 3, 4] with [4]', 'int8', [2, 3, 4], [4], 1010, [
      0.02,
      0.01,
      outScale,
    ]),
    qLinearBinaryCase(
      opType,
      'u8 broadcast [2, 1, 4] with [3, 1], constant B',
      'uint8',
      [2, 1, 4],
      [3, 1],
      1020,
      [0.04, 0.02, outScale],
      { constantB: true },
    ),
    qLinearBinaryCase(opType, 'u8 scalar B', 'uint8', [5, 7], [], 1030, [0.02, 0.03, outScale]),
    // Scales whose products land on and near rounding ties, where adding the zero point in float32 matters.
    qLinearBinaryCase(opType, 'u8 near rounding ties', 'uint8', [4096], [4096], 1045, [
      0.1,
      0.2,
      opType === 'QLinearAdd' ? 0.3 : 12,
    ]),
    qLinearBinaryCase(opType, 'u8 saturating', 'uint8', [64], [64], 1050, [0.2, 0.3, 0.01]),
    qLinearBinaryCase(opType, 'u8 empty', 'uint8', [0, 3], [3], 1060, [0.2, 0.3, 0.4]),
  ];
});

function qLinearUnaryCase(
  opType: string,
  name: string,
  dtype: Code8,
  scales: [number, number],
  seed: number,
  attributes?: Record<string, number | { type: 'float'; value: number }>,
): ConformanceCase {
  // Every code of the type, so every table entry is checked.
  const all = tensor(
    dtype,
    Array.from({ length: 256 }, (_, i) => (dtype === 'int8' ? i - 128 : i)),
    [16, 16],
  );
  return {
    name: `${opType} ${name}`,
    opType,
    domain: MS,
    ...(attributes !== undefined && { attributes }),
    inputs: [all, scalar(scales[0]), zeroPoint(dtype, seed), scalar(scales[1]), zeroPoint(dtype, seed + 1)],
  };
}

const qLinearUnaryCases: ConformanceCase[] = [
  qLinearUnaryCase('QLinearSigmoid', 'u8 every code', 'uint8', [0.05, 1 / 256], 1100),
  qLinearUnaryCase('QLinearSigmoid', 's8 every code', 'int8', [0.03, 1 / 200], 1110),
  qLinearUnaryCase('QLinearLeakyRelu', 'u8 every code, default alpha', 'uint8', [0.05, 0.04], 1120),
  qLinearUnaryCase('QLinearLeakyRelu', 's8 every code, alpha 0.2', 'int8', [0.05, 0.03], 1130, {
    alpha: { type: 'float', value: 0.2 },
  }),
  {
    name: 'QLinearSigmoid without zero points, fed scales',
    opType: 'QLinearSigmoid',
    domain: MS,
    // The absent Y_zero_point is written as an empty input name: onnxruntime reads input 4 unchecked.
    inputs: [randomCodes('uint8', [3, 5], 1140), scalar(0.1), undefined, scalar(1 / 256), undefined],
  },
];

const qLinearConcatCases: ConformanceCase[] = [
  {
    name: 'QLinearConcat u8 axis 1, inputs with their own scales and one like the output',
    opType: 'QLinearConcat',
    domain: MS,
    attributes: { axis: 1 },
    inputs: [
      scalar(0.05),
      tensor('uint8', [128]),
      randomCodes('uint8', [2, 3, 4], 1200),
      scalar(0.05),
      tensor('uint8', [128]),
      randomCodes('uint8', [2, 1, 4], 1201),
      scalar(0.02),
      tensor('uint8', [100]),
      randomCodes('uint8', [2, 2, 4], 1202),
      scalar(0.11),
      tensor('uint8', [140]),
    ],
  },
  {
    name: 'QLinearConcat s8 axis -1, constant parameters',
    opType: 'QLinearConcat',
    domain: MS,
    attributes: { axis: -1 },
    inputs: [
      scalar(0.04),
      tensor('int8', [-5]),
      randomCodes('int8', [3, 2], 1210),
      scalar(0.01),
      tensor('int8', [3]),
      randomCodes('int8', [3, 5], 1211),
      scalar(0.09),
      tensor('int8', [0]),
    ],
    constantSlots: [0, 1, 3, 4, 6, 7],
  },
  {
    name: 'QLinearConcat u8 axis 0 of a single input',
    opType: 'QLinearConcat',
    domain: MS,
    attributes: { axis: 0 },
    inputs: [
      scalar(0.05),
      tensor('uint8', [10]),
      randomCodes('uint8', [4, 3], 1220),
      scalar(0.07),
      tensor('uint8', [20]),
    ],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// com.microsoft QLinearGlobalAveragePool / QLinearAveragePool / QLinearSoftmax

function poolCase(
  opType: string,
  name: string,
  dtype: Code8,
  shape: readonly number[],
  seed: number,
  attributes: Record<string, number | readonly number[] | string> = {},
  scales: [number, number] = [0.05, 0.03],
): ConformanceCase {
  return {
    name: `${opType} ${name}`,
    opType,
    domain: MS,
    attributes,
    inputs: [
      randomCodes(dtype, shape, seed),
      scalar(scales[0]),
      zeroPoint(dtype, seed + 1),
      scalar(scales[1]),
      zeroPoint(dtype, seed + 2),
    ],
  };
}

const poolCases: ConformanceCase[] = [
  poolCase('QLinearGlobalAveragePool', 'u8 NCHW', 'uint8', [2, 3, 5, 7], 1300, { channels_last: 0 }),
  poolCase('QLinearGlobalAveragePool', 's8 NCHW 1-D', 'int8', [1, 4, 9], 1310),
  poolCase('QLinearGlobalAveragePool', 'u8 channels last', 'uint8', [2, 4, 4, 5], 1320, { channels_last: 1 }),
  poolCase('QLinearGlobalAveragePool', 's8 channels last 3-D', 'int8', [1, 2, 3, 2, 6], 1330, {
    channels_last: 1,
  }),
  poolCase('QLinearGlobalAveragePool', 'u8 scale ratio ties', 'uint8', [1, 8, 4, 4], 1340, {}, [0.5, 0.5]),
  poolCase('QLinearAveragePool', 'u8 2x2 stride 2', 'uint8', [1, 3, 6, 6], 1400, {
    kernel_shape: [2, 2],
    strides: [2, 2],
  }),
  poolCase('QLinearAveragePool', 's8 3x3 pads 1 excluding padding', 'int8', [2, 2, 5, 5], 1410, {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  }),
  poolCase('QLinearAveragePool', 'u8 3x3 pads 1 including padding', 'uint8', [1, 2, 5, 6], 1420, {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
    count_include_pad: 1,
  }),
  poolCase('QLinearAveragePool', 'u8 channels last 3x2 stride [1, 2]', 'uint8', [2, 5, 6, 3], 1430, {
    kernel_shape: [3, 2],
    strides: [1, 2],
    channels_last: 1,
  }),
  poolCase('QLinearAveragePool', 's8 ceil_mode', 'int8', [1, 2, 7, 7], 1440, {
    kernel_shape: [2, 2],
    strides: [2, 2],
    ceil_mode: 1,
  }),
  poolCase('QLinearAveragePool', 'u8 ceil_mode with pads, including padding', 'uint8', [1, 2, 6, 7], 1445, {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
    ceil_mode: 1,
    count_include_pad: 1,
  }),
  poolCase('QLinearAveragePool', 'u8 auto_pad SAME_LOWER stride 2', 'uint8', [1, 2, 6, 5], 1447, {
    kernel_shape: [3, 2],
    strides: [2, 2],
    auto_pad: 'SAME_LOWER',
  }),
  poolCase('QLinearAveragePool', 'u8 auto_pad SAME_UPPER', 'uint8', [1, 2, 5, 5], 1450, {
    kernel_shape: [2, 2],
    auto_pad: 'SAME_UPPER',
  }),
  poolCase('QLinearAveragePool', 'u8 1-D', 'uint8', [2, 3, 10], 1460, {
    kernel_shape: [3],
    strides: [2],
    pads: [1, 0],
  }),
  poolCase('QLinearAveragePool', 'u8 3-D', 'uint8', [1, 2, 4, 4, 4], 1470, { kernel_shape: [2, 2, 2] }),
  poolCase('QLinearAveragePool', 's8 channels last 1-D with padding', 'int8', [2, 7, 3], 1475, {
    kernel_shape: [3],
    pads: [1, 1],
    channels_last: 1,
  }),
  poolCase('QLinearAveragePool', 'u8 whole image (integer global path)', 'uint8', [1, 3, 4, 5], 1480, {
    kernel_shape: [4, 5],
  }),
];

function softmaxCase(
  name: string,
  dtype: Code8,
  shape: readonly number[],
  seed: number,
  attributes: Record<string, number>,
  yZero: number,
  yScale = 1 / 256,
  xScale = 0.1,
): ConformanceCase {
  return {
    name: `QLinearSoftmax ${name}`,
    opType: 'QLinearSoftmax',
    domain: MS,
    attributes,
    inputs: [
      randomCodes(dtype, shape, seed),
      scalar(xScale),
      zeroPoint(dtype, seed + 1),
      scalar(yScale),
      tensor(dtype, [yZero]),
    ],
  };
}

const softmaxCases: ConformanceCase[] = [
  softmaxCase('u8 opset 13 last axis', 'uint8', [3, 10], 1500, { opset: 13 }, 0),
  softmaxCase(
    'u8 opset 13, y_scale 0.00994 (1 / y_scale floored)',
    'uint8',
    [16, 7],
    1505,
    { opset: 13 },
    3,
    0.00994,
    0.02,
  ),
  softmaxCase('u8 opset 13 axis 1 of 3', 'uint8', [2, 5, 3], 1510, { opset: 13, axis: 1 }, 0),
  softmaxCase('s8 opset 13 (wrapping int8 output)', 'int8', [4, 6], 1520, { opset: 13, axis: -1 }, -128),
  softmaxCase('s8 opset 13, smooth rows', 'int8', [8, 9], 1525, { opset: 13 }, -128, 1 / 256, 0.01),
  softmaxCase('u8 opset 12 flattened from axis 1', 'uint8', [2, 3, 4], 1530, { opset: 12, axis: 1 }, 0),
  softmaxCase('u8 opset 12 default axis (-1)', 'uint8', [2, 3, 4], 1535, { opset: 12 }, 0),
  softmaxCase('s8 opset 11 axis 2', 'int8', [2, 2, 8], 1540, { opset: 11, axis: 2 }, -128),
];

/** Float outputs that onnxruntime computes with the same float32 operations: they must agree bit for bit. */
const exact = (cases: ConformanceCase[]): ConformanceCase[] =>
  cases.map((testCase) => ({ ...testCase, tolerance: { abs: 0, rel: 0 } }));

export const quantizedCases: readonly ConformanceCase[] = [
  ...quantizeCases,
  ...exact(dequantizeCases),
  ...exact(dynamicCases),
  ...qLinearMatMulCases,
  ...matMulIntegerCases,
  ...qGemmCases,
  ...matMulToFloatCases,
  ...qLinearConvCases,
  ...convIntegerCases,
  ...matMulNBitsCases,
  ...qLinearBinaryCases,
  ...qLinearUnaryCases,
  ...qLinearConcatCases,
  ...poolCases,
  ...softmaxCases,
];
