import { type DType, type Tensor, allocate, createSeededRandom, sizeOf } from '@quantkit/core';
import type { ConformanceCase } from '../conformance-case.js';
import { int64Tensor, randomFloat } from '../random-tensors.js';

/** A tensor of `dtype` holding `values` (bigints made for int64). */
function tensor(dtype: DType, shape: readonly number[], values: readonly number[]): Tensor {
  const data = allocate(dtype, values.length);
  if (dtype === 'int64') (data as BigInt64Array).set(values.map(BigInt));
  else (data as Float64Array).set(values);
  return { dtype, shape: [...shape], data } as Tensor;
}

/** Seeded integers in [low, high] as a tensor of `dtype`. */
function randomInts(dtype: DType, shape: readonly number[], seed: number, low: number, high: number): Tensor {
  const random = createSeededRandom(seed);
  const values = Array.from({ length: sizeOf(shape) }, () => low + Math.floor(random() * (high - low + 1)));
  return tensor(dtype, shape, values);
}

/** Seeded booleans. */
function randomBools(shape: readonly number[], seed: number): Tensor {
  return randomInts('bool', shape, seed, 0, 1);
}

/** Float32 values on a coarse grid (so comparisons meet ties and equal values). */
function gridFloat(shape: readonly number[], seed: number): Tensor {
  const random = createSeededRandom(seed);
  return tensor(
    'float32',
    shape,
    Array.from({ length: sizeOf(shape) }, () => Math.floor(random() * 7) / 2 - 1.5),
  );
}

const float = (value: number) => ({ type: 'float', value }) as const;
const scalar = (dtype: DType, value: number) => tensor(dtype, [], [value]);

// ---------------------------------------------------------------------------------------------------------------
// Activations

const activationCases: ConformanceCase[] = [
  {
    name: 'Clip opset 6 min/max attributes',
    opType: 'Clip',
    opset: 6,
    attributes: { min: -0.5, max: float(1) },
    inputs: [randomFloat([3, 20], 1, -3, 3)],
  },
  {
    name: 'Clip opset 6 without attributes is identity',
    opType: 'Clip',
    opset: 6,
    inputs: [randomFloat([2, 5], 2, -1e30, 1e30)],
  },
  {
    name: 'Clip opset 11 min and max inputs',
    opType: 'Clip',
    opset: 11,
    inputs: [randomFloat([4, 10], 3, -3, 3), scalar('float32', -1), scalar('float32', 0.5)],
    constantSlots: [1, 2],
  },
  {
    name: 'Clip opset 13 max input only',
    opType: 'Clip',
    opset: 13,
    inputs: [randomFloat([4, 10], 4, -3, 3), undefined, scalar('float32', 0.25)],
  },
  {
    name: 'Clip opset 13 min input only (relu6-like lower bound) on float64',
    opType: 'Clip',
    opset: 13,
    inputs: [tensor('float64', [6], [-2, -0.5, 0, 0.5, 6, 7]), scalar('float64', 0)],
  },
  {
    name: 'Clip opset 13 keeps NaN',
    opType: 'Clip',
    opset: 13,
    inputs: [tensor('float32', [4], [Number.NaN, -5, 5, 0.5]), scalar('float32', 0), scalar('float32', 1)],
  },
  {
    name: 'Clip opset 13 no bounds',
    opType: 'Clip',
    opset: 13,
    inputs: [randomFloat([7], 5, -3, 3)],
  },
  {
    name: 'Clip opset 13 min above max gives max',
    opType: 'Clip',
    opset: 13,
    inputs: [randomFloat([10], 6, -3, 3), scalar('float32', 1), scalar('float32', -1)],
  },
  ...(['int64', 'int32', 'int8', 'uint8'] as const).map(
    (dtype, index): ConformanceCase => ({
      name: `Clip opset 13 on ${dtype}`,
      opType: 'Clip',
      opset: 13,
      inputs: [randomInts(dtype, [3, 8], 7 + index, 0, 100), scalar(dtype, 10), scalar(dtype, 60)],
    }),
  ),
  {
    name: 'HardSigmoid default alpha and beta',
    opType: 'HardSigmoid',
    inputs: [randomFloat([3, 30], 11, -6, 6)],
  },
  {
    name: 'HardSigmoid alpha 0.1666 beta 0.5 (hard-swish gate)',
    opType: 'HardSigmoid',
    attributes: { alpha: 1 / 6, beta: float(0.5) },
    inputs: [randomFloat([2, 3, 4, 5], 12, -5, 5)],
  },
  { name: 'HardSwish', opType: 'HardSwish', opset: 14, inputs: [randomFloat([3, 40], 13, -5, 5)] },
  { name: 'LeakyRelu default alpha', opType: 'LeakyRelu', inputs: [randomFloat([3, 20], 14, -3, 3)] },
  {
    name: 'LeakyRelu alpha 0.2 on float64',
    opType: 'LeakyRelu',
    attributes: { alpha: 0.2 },
    inputs: [tensor('float64', [5], [-2, -0.1, 0, 0.3, 4])],
  },
  { name: 'Elu default alpha', opType: 'Elu', inputs: [randomFloat([3, 20], 15, -5, 3)] },
  {
    name: 'Elu alpha 0.5',
    opType: 'Elu',
    attributes: { alpha: 0.5 },
    inputs: [randomFloat([20], 16, -5, 3)],
  },
  { name: 'Selu default', opType: 'Selu', inputs: [randomFloat([3, 20], 17, -5, 3)] },
  {
    name: 'Selu alpha 2 gamma 0.5',
    opType: 'Selu',
    attributes: { alpha: float(2), gamma: 0.5 },
    inputs: [randomFloat([20], 18, -5, 3)],
  },
  {
    name: 'Softplus including large magnitudes',
    opType: 'Softplus',
    inputs: [randomFloat([3, 20], 19, -100, 100)],
  },
  { name: 'Softsign', opType: 'Softsign', inputs: [randomFloat([3, 20], 20, -10, 10)] },
  { name: 'Gelu opset 20 exact', opType: 'Gelu', opset: 20, inputs: [randomFloat([3, 30], 21, -5, 5)] },
  {
    name: 'Gelu opset 20 tanh approximation',
    opType: 'Gelu',
    opset: 20,
    attributes: { approximate: 'tanh' },
    inputs: [randomFloat([3, 30], 22, -5, 5)],
  },
  { name: 'Sin', opType: 'Sin', inputs: [randomFloat([40], 23, -10, 10)], tolerance: { abs: 1e-6 } },
  { name: 'Cos', opType: 'Cos', inputs: [randomFloat([40], 24, -10, 10)], tolerance: { abs: 1e-6 } },
];

// ---------------------------------------------------------------------------------------------------------------
// Elementwise math beyond the basics: Round, Sign, Mod, Pow, variadic Max/Min/Sum/Mean

const mathCases: ConformanceCase[] = [
  {
    name: 'Round halves to even',
    opType: 'Round',
    inputs: [tensor('float32', [10], [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6, 0.49999997, 1e7 + 0.5])],
  },
  {
    name: 'Sign on float32 with zeros',
    opType: 'Sign',
    inputs: [tensor('float32', [6], [-3, -0, 0, 2, -1e-30, 7])],
  },
  { name: 'Sign on int64', opType: 'Sign', inputs: [int64Tensor([-5, 0, 9])] },
  { name: 'Sign on int32', opType: 'Sign', inputs: [tensor('int32', [3], [-5, 0, 9])] },
  {
    name: 'Mod on int64 takes the divisor sign (fmod 0)',
    opType: 'Mod',
    inputs: [int64Tensor([7, -7, 7, -7, 6, 0]), int64Tensor([3, 3, -3, -3, 3, 5])],
  },
  {
    name: 'Mod on int32 broadcasts',
    opType: 'Mod',
    inputs: [randomInts('int32', [3, 4], 30, -20, 20), tensor('int32', [4], [3, -4, 5, 7])],
  },
  {
    name: 'Mod on float32 fmod 1 takes the dividend sign',
    opType: 'Mod',
    attributes: { fmod: 1 },
    inputs: [randomFloat([3, 4], 31, -10, 10), tensor('float32', [4], [3, -2.5, 1.5, 7])],
  },
  {
    name: 'Pow float32 by float32 broadcasts',
    opType: 'Pow',
    inputs: [randomFloat([2, 3, 4], 32, 0.1, 3), randomFloat([4], 33, -2, 2)],
  },
  {
    name: 'Pow float32 by constant 2',
    opType: 'Pow',
    inputs: [randomFloat([3, 8], 34, -3, 3), scalar('float32', 2)],
    constantSlots: [1],
  },
  {
    name: 'Pow float32 by constant 0.5',
    opType: 'Pow',
    inputs: [randomFloat([3, 8], 35, 0, 3), scalar('float32', 0.5)],
    constantSlots: [1],
  },
  {
    name: 'Pow float32 by int64 exponents (negative base)',
    opType: 'Pow',
    inputs: [randomFloat([2, 4], 36, -3, 3), int64Tensor([0, 1, 2, 3])],
  },
  {
    name: 'Pow float32 by int32 exponent',
    opType: 'Pow',
    inputs: [randomFloat([5], 37, -3, 3), tensor('int32', [], [3])],
  },
  {
    name: 'Pow int64 by int64',
    opType: 'Pow',
    inputs: [int64Tensor([2, -3, 5, 10]), int64Tensor([10, 3, 0, 15])],
  },
  {
    name: 'Pow int32 by int32',
    opType: 'Pow',
    inputs: [tensor('int32', [4], [2, -3, 5, 7]), tensor('int32', [4], [10, 3, 0, 2])],
  },
  {
    name: 'Pow float64 by float64',
    opType: 'Pow',
    inputs: [tensor('float64', [3], [2, 0.5, 9]), tensor('float64', [3], [0.5, -1, 1.5])],
  },
  ...['Max', 'Min', 'Sum', 'Mean'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} of three inputs broadcast`,
      opType,
      inputs: [
        randomFloat([2, 1, 4], 40 + index),
        randomFloat([3, 1], 44 + index),
        randomFloat([4], 48 + index),
      ],
    }),
  ),
  ...['Max', 'Min', 'Sum', 'Mean'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} of one input`,
      opType,
      inputs: [randomFloat([2, 3], 52 + index)],
    }),
  ),
  {
    name: 'Max on int64 shape values',
    opType: 'Max',
    inputs: [int64Tensor([1, 5, -3, 8]), int64Tensor([2])],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Comparisons, logic, Where

const comparisonOps = ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual'];

const compareCases: ConformanceCase[] = [
  ...comparisonOps.flatMap((opType, index): ConformanceCase[] => [
    {
      name: `${opType} float32 broadcast with ties`,
      opType,
      inputs: [gridFloat([2, 3, 4], 60 + index), gridFloat([3, 1], 65 + index)],
    },
    {
      name: `${opType} int64 broadcast`,
      opType,
      inputs: [randomInts('int64', [3, 4], 70 + index, -3, 3), randomInts('int64', [4], 75 + index, -3, 3)],
    },
    {
      name: `${opType} int32 with a scalar`,
      opType,
      inputs: [randomInts('int32', [6], 80 + index, -3, 3), scalar('int32', 0)],
    },
  ]),
  {
    name: 'Equal on bool',
    opType: 'Equal',
    inputs: [randomBools([3, 4], 85), randomBools([4], 86)],
  },
  {
    name: 'Equal float32 NaN is never equal',
    opType: 'Equal',
    inputs: [tensor('float32', [3], [Number.NaN, 1, 0]), tensor('float32', [3], [Number.NaN, 1, -0])],
  },
  { name: 'Not', opType: 'Not', inputs: [randomBools([3, 5], 87)] },
  ...['And', 'Or', 'Xor'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} broadcast`,
      opType,
      inputs: [randomBools([2, 3, 4], 88 + index), randomBools([3, 1], 91 + index)],
    }),
  ),
  {
    name: 'Where float32 broadcasts condition, X and Y',
    opType: 'Where',
    inputs: [randomBools([3, 1], 94), randomFloat([1, 4], 95), randomFloat([2, 3, 4], 96)],
  },
  {
    name: 'Where int64 with scalar Y',
    opType: 'Where',
    inputs: [randomBools([5], 97), int64Tensor([1, 2, 3, 4, 5]), int64Tensor([-1], [])],
  },
  {
    name: 'Where uint8 values',
    opType: 'Where',
    inputs: [
      randomBools([4], 98),
      randomInts('uint8', [4], 99, 0, 255),
      randomInts('uint8', [4], 100, 0, 255),
    ],
  },
  {
    name: 'Where with a size-0 condition',
    opType: 'Where',
    inputs: [randomBools([0, 3], 101), randomFloat([3], 102), randomFloat([1], 103)],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Reductions

const reductions = [
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceSumSquare',
  'ReduceLogSum',
  'ReduceLogSumExp',
];

/** Reduction inputs: positive values keep ReduceLogSum finite. */
const reduceInput = (seed: number) => randomFloat([2, 3, 4, 5], seed, 0.1, 2);

const reduceCases: ConformanceCase[] = reductions.flatMap((opType, index): ConformanceCase[] => {
  const axesInputOpset = opType === 'ReduceSum' ? 13 : 18;
  const attributeOpset = opType === 'ReduceSum' ? 11 : 13;
  const seed = 200 + 10 * index;
  return [
    {
      name: `${opType} opset ${attributeOpset} axes attribute [1] keepdims`,
      opType,
      opset: attributeOpset,
      attributes: { axes: [1] },
      inputs: [reduceInput(seed)],
    },
    {
      name: `${opType} opset ${attributeOpset} axes attribute [0, 2] no keepdims`,
      opType,
      opset: attributeOpset,
      attributes: { axes: [0, 2], keepdims: 0 },
      inputs: [reduceInput(seed + 1)],
    },
    {
      name: `${opType} opset ${attributeOpset} negative axes [-1, -3]`,
      opType,
      opset: attributeOpset,
      attributes: { axes: [-1, -3] },
      inputs: [reduceInput(seed + 2)],
    },
    {
      name: `${opType} opset ${attributeOpset} without axes reduces all`,
      opType,
      opset: attributeOpset,
      inputs: [reduceInput(seed + 3)],
    },
    {
      name: `${opType} opset ${axesInputOpset} axes input [3, 1] no keepdims`,
      opType,
      opset: axesInputOpset,
      attributes: { keepdims: 0 },
      inputs: [reduceInput(seed + 4), int64Tensor([3, 1])],
      constantSlots: [1],
    },
    {
      name: `${opType} opset ${axesInputOpset} fed axes input [-2]`,
      opType,
      opset: axesInputOpset,
      inputs: [reduceInput(seed + 5), int64Tensor([-2])],
    },
    {
      name: `${opType} opset ${axesInputOpset} no axes input reduces all`,
      opType,
      opset: axesInputOpset,
      attributes: { keepdims: 0 },
      inputs: [reduceInput(seed + 6)],
    },
    {
      name: `${opType} opset ${axesInputOpset} empty axes with noop_with_empty_axes is identity`,
      opType,
      opset: axesInputOpset,
      attributes: { noop_with_empty_axes: 1 },
      inputs: [reduceInput(seed + 7), int64Tensor([])],
      constantSlots: [1],
    },
    {
      name: `${opType} opset ${axesInputOpset} empty axes input reduces all`,
      opType,
      opset: axesInputOpset,
      inputs: [reduceInput(seed + 8), int64Tensor([])],
    },
  ];
});

const reduceTypeCases: ConformanceCase[] = [
  ...['ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} on int64`,
      opType,
      opset: 13,
      attributes: opType === 'ReduceSum' ? {} : { axes: [1] },
      inputs: [
        randomInts('int64', [3, 4], 300 + index, -5, 5),
        ...(opType === 'ReduceSum' ? [int64Tensor([1])] : []),
      ],
    }),
  ),
  ...['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin'].map(
    (opType, index): ConformanceCase => ({
      name: `${opType} on int32`,
      opType,
      opset: 13,
      attributes: opType === 'ReduceSum' ? { keepdims: 0 } : { axes: [0], keepdims: 0 },
      inputs: [
        randomInts('int32', [4, 3], 310 + index, -50, 50),
        ...(opType === 'ReduceSum' ? [int64Tensor([0])] : []),
      ],
    }),
  ),
  {
    name: 'ReduceMax on uint8 opset 18',
    opType: 'ReduceMax',
    opset: 18,
    inputs: [randomInts('uint8', [3, 4], 320, 0, 255), int64Tensor([1])],
  },
  {
    name: 'ReduceMean on float64',
    opType: 'ReduceMean',
    opset: 13,
    attributes: { axes: [1] },
    inputs: [tensor('float64', [2, 3], [1, 2, 3, 4, 5, 7])],
  },
  {
    name: 'ReduceMean over 1000 values',
    opType: 'ReduceMean',
    opset: 13,
    attributes: { axes: [2, 3] },
    inputs: [randomFloat([1, 4, 25, 40], 321)],
  },
  {
    name: 'ReduceLogSumExp of large values',
    opType: 'ReduceLogSumExp',
    opset: 13,
    attributes: { axes: [1] },
    inputs: [randomFloat([3, 6], 322, 50, 100)],
  },
  ...reductions.map(
    (opType, index): ConformanceCase => ({
      name: `${opType} over a size-0 axis`,
      opType,
      opset: 18,
      attributes: { keepdims: 1 },
      inputs: [randomFloat([2, 0, 3], 330 + index), int64Tensor([1])],
    }),
  ),
  {
    name: 'ReduceSum of a scalar',
    opType: 'ReduceSum',
    opset: 13,
    inputs: [scalar('float32', 2.5)],
  },
];

const argCases: ConformanceCase[] = ['ArgMax', 'ArgMin'].flatMap((opType, index): ConformanceCase[] => [
  {
    name: `${opType} default axis 0 keepdims`,
    opType,
    inputs: [randomFloat([4, 3, 5], 400 + index)],
  },
  {
    name: `${opType} axis -1 no keepdims`,
    opType,
    attributes: { axis: -1, keepdims: 0 },
    inputs: [randomFloat([4, 3, 5], 402 + index)],
  },
  {
    name: `${opType} ties take the first index`,
    opType,
    attributes: { axis: 1 },
    inputs: [randomInts('int32', [4, 6], 404 + index, 0, 2)],
  },
  {
    name: `${opType} select_last_index takes the last tie`,
    opType,
    attributes: { axis: 1, select_last_index: 1 },
    inputs: [gridFloat([4, 6], 406 + index)],
  },
  {
    name: `${opType} on int64 axis 1`,
    opType,
    attributes: { axis: 1, keepdims: 0 },
    inputs: [randomInts('int64', [3, 5], 408 + index, -100, 100)],
  },
  {
    name: `${opType} opset 11 on uint8`,
    opType,
    opset: 11,
    attributes: { axis: 0 },
    inputs: [randomInts('uint8', [5, 2], 410 + index, 0, 255)],
  },
]);

// ---------------------------------------------------------------------------------------------------------------
// Layout: Transpose, Flatten, Squeeze, Unsqueeze, Concat, Split, Slice, Gather, Expand, Tile, Pad

const layoutCases: ConformanceCase[] = [
  { name: 'Transpose default reverses axes', opType: 'Transpose', inputs: [randomFloat([2, 3, 4], 500)] },
  {
    name: 'Transpose NCHW to NHWC',
    opType: 'Transpose',
    attributes: { perm: [0, 2, 3, 1] },
    inputs: [randomFloat([2, 3, 4, 5], 501)],
  },
  {
    name: 'Transpose keeps inner rows whole',
    opType: 'Transpose',
    attributes: { perm: [1, 0, 2] },
    inputs: [randomFloat([3, 4, 20], 502)],
  },
  {
    name: 'Transpose int64',
    opType: 'Transpose',
    attributes: { perm: [1, 0] },
    inputs: [randomInts('int64', [3, 5], 503, -9, 9)],
  },
  {
    name: 'Transpose bool 3-D',
    opType: 'Transpose',
    attributes: { perm: [2, 0, 1] },
    inputs: [randomBools([2, 3, 4], 504)],
  },
  {
    name: 'Transpose uint8 with a size-0 axis',
    opType: 'Transpose',
    inputs: [randomInts('uint8', [2, 0, 3], 505, 0, 255)],
  },
  {
    name: 'Transpose float16 bits move unchanged',
    opType: 'Transpose',
    inputs: [randomInts('float16', [3, 4], 506, 0, 0x7bff)],
  },
  ...[0, 1, 2, 3, -1, -3].map(
    (axis): ConformanceCase => ({
      name: `Flatten axis ${axis}`,
      opType: 'Flatten',
      attributes: { axis },
      inputs: [randomFloat([2, 3, 4], 510 + axis)],
    }),
  ),
  {
    name: 'Flatten default axis on int64',
    opType: 'Flatten',
    inputs: [randomInts('int64', [2, 3, 2], 520, 0, 9)],
  },
  {
    name: 'Squeeze opset 11 axes attribute',
    opType: 'Squeeze',
    opset: 11,
    attributes: { axes: [0, -1] },
    inputs: [randomFloat([1, 3, 1, 4, 1], 521)],
  },
  {
    name: 'Squeeze opset 13 axes input',
    opType: 'Squeeze',
    opset: 13,
    inputs: [randomFloat([1, 3, 1, 4, 1], 522), int64Tensor([2])],
    constantSlots: [1],
  },
  {
    name: 'Squeeze opset 13 without axes drops every 1',
    opType: 'Squeeze',
    opset: 13,
    inputs: [randomInts('int64', [1, 3, 1, 1], 523, 0, 9)],
  },
  {
    name: 'Squeeze opset 11 without axes on bool',
    opType: 'Squeeze',
    opset: 11,
    inputs: [randomBools([1, 2, 1], 524)],
  },
  {
    name: 'Unsqueeze opset 11 axes attribute, unsorted',
    opType: 'Unsqueeze',
    opset: 11,
    attributes: { axes: [3, 0] },
    inputs: [randomFloat([2, 3], 525)],
  },
  {
    name: 'Unsqueeze opset 13 axes input with negative axis',
    opType: 'Unsqueeze',
    opset: 13,
    inputs: [randomFloat([2, 3], 526), int64Tensor([-1, 1])],
    constantSlots: [1],
  },
  {
    name: 'Unsqueeze opset 13 of an int64 scalar',
    opType: 'Unsqueeze',
    opset: 13,
    inputs: [int64Tensor([7], []), int64Tensor([0])],
  },
  {
    name: 'Concat axis 1 of three inputs',
    opType: 'Concat',
    attributes: { axis: 1 },
    inputs: [randomFloat([2, 1, 3], 530), randomFloat([2, 4, 3], 531), randomFloat([2, 2, 3], 532)],
  },
  {
    name: 'Concat negative axis',
    opType: 'Concat',
    attributes: { axis: -1 },
    inputs: [randomFloat([2, 3, 20], 533), randomFloat([2, 3, 17], 534)],
  },
  {
    name: 'Concat with a size-0 input',
    opType: 'Concat',
    attributes: { axis: 0 },
    inputs: [randomFloat([0, 3], 535), randomFloat([2, 3], 536)],
  },
  {
    name: 'Concat int64 shape pieces',
    opType: 'Concat',
    attributes: { axis: 0 },
    inputs: [int64Tensor([1, 3]), int64Tensor([-1]), int64Tensor([4, 4])],
  },
  {
    name: 'Concat bool axis 0',
    opType: 'Concat',
    attributes: { axis: 0 },
    inputs: [randomBools([1, 4], 537), randomBools([2, 4], 538)],
  },
  {
    name: 'Concat opset 4 of one input',
    opType: 'Concat',
    opset: 4,
    attributes: { axis: 0 },
    inputs: [randomFloat([3, 2], 539)],
  },
  {
    name: 'Split opset 11 split attribute',
    opType: 'Split',
    opset: 11,
    attributes: { axis: 1, split: [1, 3, 2] },
    inputs: [randomFloat([2, 6, 3], 540)],
    outputs: 3,
  },
  {
    name: 'Split opset 11 equal parts',
    opType: 'Split',
    opset: 11,
    inputs: [randomFloat([6, 2], 541)],
    outputs: 3,
  },
  {
    name: 'Split opset 13 split input, negative axis',
    opType: 'Split',
    opset: 13,
    attributes: { axis: -1 },
    inputs: [randomFloat([2, 7], 542), int64Tensor([4, 0, 3])],
    constantSlots: [1],
    outputs: 3,
  },
  {
    name: 'Split opset 13 equal parts of int64',
    opType: 'Split',
    opset: 13,
    inputs: [randomInts('int64', [4, 3], 543, 0, 99)],
    outputs: 2,
  },
  {
    name: 'Split opset 18 num_outputs uneven',
    opType: 'Split',
    opset: 18,
    attributes: { axis: 1, num_outputs: 3 },
    inputs: [randomFloat([2, 7, 2], 544)],
    outputs: 3,
  },
  {
    name: 'Split opset 18 num_outputs even on uint8',
    opType: 'Split',
    opset: 18,
    attributes: { num_outputs: 2 },
    inputs: [randomInts('uint8', [4, 3], 545, 0, 255)],
    outputs: 2,
  },
  {
    name: 'Slice opset 1 attributes',
    opType: 'Slice',
    opset: 1,
    attributes: { starts: [1, 0], ends: [3, -1], axes: [0, 2] },
    inputs: [randomFloat([4, 3, 5], 550)],
  },
  {
    name: 'Slice opset 9 attributes without axes, clamped end',
    opType: 'Slice',
    opset: 9,
    attributes: { starts: [0, 1], ends: [1000, 2] },
    inputs: [randomFloat([4, 3], 551)],
  },
  {
    name: 'Slice opset 10 inputs with steps',
    opType: 'Slice',
    opset: 10,
    inputs: [
      randomFloat([6, 8], 552),
      int64Tensor([1, 0]),
      int64Tensor([6, 8]),
      int64Tensor([0, 1]),
      int64Tensor([2, 3]),
    ],
    constantSlots: [1, 2, 3, 4],
  },
  {
    name: 'Slice negative step reverses an axis',
    opType: 'Slice',
    opset: 13,
    inputs: [
      randomFloat([3, 5], 553),
      int64Tensor([-1]),
      int64Tensor([-1000]),
      int64Tensor([1]),
      int64Tensor([-1]),
    ],
  },
  {
    name: 'Slice negative step 2 with clamped start',
    opType: 'Slice',
    opset: 13,
    inputs: [
      randomFloat([10], 554),
      int64Tensor([100]),
      int64Tensor([1]),
      int64Tensor([0]),
      int64Tensor([-2]),
    ],
  },
  {
    name: 'Slice to INT64_MAX end and negative axis',
    opType: 'Slice',
    opset: 13,
    inputs: [
      randomFloat([2, 3, 4], 555),
      int64Tensor([1]),
      { dtype: 'int64', shape: [1], data: BigInt64Array.of(2n ** 63n - 1n) },
      int64Tensor([-2]),
    ],
    constantSlots: [1, 2, 3],
  },
  {
    name: 'Slice with int32 indices and omitted axes',
    opType: 'Slice',
    opset: 13,
    inputs: [randomFloat([4, 5], 556), tensor('int32', [2], [-3, 1]), tensor('int32', [2], [-1, 4])],
  },
  {
    name: 'Slice empty result',
    opType: 'Slice',
    opset: 13,
    inputs: [randomFloat([4, 5], 557), int64Tensor([3]), int64Tensor([1]), int64Tensor([1])],
  },
  {
    name: 'Slice int64 shape tensor',
    opType: 'Slice',
    opset: 13,
    inputs: [int64Tensor([1, 3, 224, 224]), int64Tensor([2]), int64Tensor([4])],
  },
  {
    name: 'Slice bool with steps',
    opType: 'Slice',
    opset: 13,
    inputs: [
      randomBools([3, 9], 558),
      int64Tensor([0, 8]),
      int64Tensor([3, 0]),
      int64Tensor([0, 1]),
      int64Tensor([2, -3]),
    ],
  },
  {
    name: 'Gather axis 0 of rows',
    opType: 'Gather',
    inputs: [randomFloat([5, 20], 560), int64Tensor([4, 0, 2, 2])],
  },
  {
    name: 'Gather axis 1 with 2-D negative indices',
    opType: 'Gather',
    attributes: { axis: 1 },
    inputs: [randomFloat([2, 5, 3], 561), int64Tensor([-1, 0, 3, -5], [2, 2])],
  },
  {
    name: 'Gather scalar index drops the axis (int32 indices)',
    opType: 'Gather',
    attributes: { axis: -1 },
    inputs: [randomFloat([3, 4], 562), tensor('int32', [], [2])],
  },
  {
    name: 'Gather from an int64 shape',
    opType: 'Gather',
    inputs: [int64Tensor([1, 3, 224, 224]), int64Tensor([0], [])],
    constantSlots: [1],
  },
  {
    name: 'Gather uint8 with empty indices',
    opType: 'Gather',
    inputs: [randomInts('uint8', [4, 2], 563, 0, 255), int64Tensor([], [0])],
  },
  {
    name: 'GatherElements axis 0',
    opType: 'GatherElements',
    inputs: [randomFloat([3, 4], 564), randomInts('int64', [2, 4], 565, -3, 2)],
  },
  {
    name: 'GatherElements axis 1 of int64',
    opType: 'GatherElements',
    attributes: { axis: 1 },
    inputs: [randomInts('int64', [2, 3, 4], 566, 0, 99), randomInts('int32', [2, 5, 3], 567, -3, 2)],
  },
  {
    name: 'Expand to a larger rank',
    opType: 'Expand',
    inputs: [randomFloat([3, 1], 570), int64Tensor([2, 3, 4])],
  },
  {
    name: 'Expand both ways (shape dims of 1 keep the input)',
    opType: 'Expand',
    inputs: [randomFloat([2, 1, 5], 571), int64Tensor([3, 1])],
    constantSlots: [1],
  },
  {
    name: 'Expand int64 scalar',
    opType: 'Expand',
    inputs: [int64Tensor([5], []), int64Tensor([2, 3])],
  },
  {
    name: 'Expand bool',
    opType: 'Expand',
    inputs: [randomBools([1, 4], 572), int64Tensor([3, 4])],
  },
  { name: 'Tile 2-D', opType: 'Tile', inputs: [randomFloat([2, 3], 573), int64Tensor([3, 2])] },
  {
    name: 'Tile 3-D with ones',
    opType: 'Tile',
    inputs: [randomFloat([2, 1, 3], 574), int64Tensor([1, 4, 1])],
    constantSlots: [1],
  },
  { name: 'Tile int64 with a 0 repeat', opType: 'Tile', inputs: [int64Tensor([1, 2]), int64Tensor([0])] },
  {
    name: 'Tile uint8',
    opType: 'Tile',
    inputs: [randomInts('uint8', [2, 2], 575, 0, 255), int64Tensor([2, 3])],
  },
  {
    name: 'Pad opset 2 constant with value attribute',
    opType: 'Pad',
    opset: 2,
    attributes: { pads: [0, 1, 2, 1, 0, 3], value: 1.5 },
    inputs: [randomFloat([2, 3, 4], 580)],
  },
  {
    name: 'Pad opset 2 edge',
    opType: 'Pad',
    opset: 2,
    attributes: { pads: [1, 2, 2, 1], mode: 'edge' },
    inputs: [randomFloat([3, 4], 581)],
  },
  {
    name: 'Pad opset 11 constant pads input, default zero',
    opType: 'Pad',
    opset: 11,
    inputs: [randomFloat([1, 2, 3, 3], 582), int64Tensor([0, 0, 1, 1, 0, 0, 1, 1])],
    constantSlots: [1],
  },
  {
    name: 'Pad opset 11 constant_value input',
    opType: 'Pad',
    opset: 11,
    inputs: [randomFloat([2, 3], 583), int64Tensor([1, 0, 0, 2]), scalar('float32', -7)],
    constantSlots: [1, 2],
  },
  {
    name: 'Pad opset 13 reflect',
    opType: 'Pad',
    opset: 13,
    attributes: { mode: 'reflect' },
    inputs: [randomFloat([3, 5], 584), int64Tensor([2, 3, 1, 4])],
  },
  {
    name: 'Pad opset 13 edge 4-D',
    opType: 'Pad',
    opset: 13,
    attributes: { mode: 'edge' },
    inputs: [randomFloat([1, 2, 3, 4], 585), int64Tensor([0, 0, 2, 1, 0, 0, 3, 2])],
  },
  {
    name: 'Pad negative pads crop',
    opType: 'Pad',
    opset: 13,
    inputs: [randomFloat([4, 5], 586), int64Tensor([-1, 2, 1, -2])],
  },
  {
    name: 'Pad opset 18 axes input',
    opType: 'Pad',
    opset: 18,
    inputs: [
      randomFloat([2, 3, 4], 587),
      int64Tensor([1, 2, 0, 1]),
      scalar('float32', 3),
      int64Tensor([-1, 0]),
    ],
    constantSlots: [1, 3],
  },
  {
    name: 'Pad opset 19 wrap',
    opType: 'Pad',
    opset: 19,
    attributes: { mode: 'wrap' },
    inputs: [randomFloat([3, 4], 588), int64Tensor([1, 3, 2, 1])],
  },
  {
    name: 'Pad int64 with constant',
    opType: 'Pad',
    opset: 13,
    inputs: [int64Tensor([1, 2, 3]), int64Tensor([2, 1]), int64Tensor([-9], [])],
  },
  {
    name: 'Pad uint8 reflect',
    opType: 'Pad',
    opset: 13,
    attributes: { mode: 'reflect' },
    inputs: [randomInts('uint8', [2, 4], 589, 0, 255), int64Tensor([1, 2, 1, 3])],
  },
  {
    name: 'Pad bool with default false',
    opType: 'Pad',
    opset: 13,
    inputs: [randomBools([2, 2], 590), int64Tensor([1, 1, 0, 1])],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// ConstantOfShape, Size, Range, Identity

const generatorCases: ConformanceCase[] = [
  { name: 'ConstantOfShape default float32 zero', opType: 'ConstantOfShape', inputs: [int64Tensor([2, 3])] },
  {
    name: 'ConstantOfShape int64 value',
    opType: 'ConstantOfShape',
    attributes: { value: int64Tensor([-4]) },
    inputs: [int64Tensor([3])],
  },
  {
    name: 'ConstantOfShape float value with a 0 dim',
    opType: 'ConstantOfShape',
    attributes: { value: tensor('float32', [1], [2.5]) },
    inputs: [int64Tensor([2, 0])],
  },
  {
    name: 'ConstantOfShape bool true of an empty shape (scalar)',
    opType: 'ConstantOfShape',
    attributes: { value: tensor('bool', [1], [1]) },
    inputs: [int64Tensor([], [0])],
  },
  { name: 'Size of a float tensor', opType: 'Size', inputs: [randomFloat([2, 3, 4], 600)] },
  { name: 'Size of a size-0 tensor', opType: 'Size', inputs: [randomInts('int64', [3, 0], 601, 0, 1)] },
  {
    name: 'Range float32',
    opType: 'Range',
    inputs: [scalar('float32', 0.5), scalar('float32', 10), scalar('float32', 0.7)],
  },
  {
    name: 'Range int64 negative delta',
    opType: 'Range',
    inputs: [int64Tensor([10], []), int64Tensor([-3], []), int64Tensor([-3], [])],
  },
  {
    name: 'Range int32 empty',
    opType: 'Range',
    inputs: [scalar('int32', 5), scalar('int32', 5), scalar('int32', 1)],
  },
  {
    name: 'Range int64 as constants',
    opType: 'Range',
    inputs: [int64Tensor([0], []), int64Tensor([7], []), int64Tensor([2], [])],
    constantSlots: [0, 1, 2],
  },
  { name: 'Identity int64', opType: 'Identity', inputs: [int64Tensor([1, -2, 3])] },
  { name: 'Identity bool', opType: 'Identity', inputs: [randomBools([2, 2], 602)] },
];

// ---------------------------------------------------------------------------------------------------------------
// Cast and CastLike

/** ONNX TensorProto data type codes. */
const ONNX_TYPE: Partial<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

const castTargets = Object.keys(ONNX_TYPE) as DType[];

/** Fractions, negatives, halves, values beyond each integer range, infinities and NaN. */
const awkwardValues = [
  0,
  -0,
  0.5,
  -0.5,
  1.7,
  -1.7,
  2.5,
  127.9,
  128,
  200,
  255.5,
  256,
  300,
  -129,
  -200,
  1e10,
  -1e10,
  3e9,
  65535.9,
  70000,
  2147483648,
  65504,
  65520,
  1e-8,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

const castCases: ConformanceCase[] = [
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast float32 to ${to} (rounding, wrapping and saturation as onnxruntime)`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      inputs: [tensor('float32', [awkwardValues.length], awkwardValues)],
    }),
  ),
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast float64 to ${to}`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      inputs: [tensor('float64', [awkwardValues.length + 1], [...awkwardValues, 0.1])],
    }),
  ),
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast int64 to ${to}`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      inputs: [
        {
          dtype: 'int64',
          shape: [8],
          data: BigInt64Array.of(0n, 1n, -1n, 300n, -129n, 70000n, 2n ** 40n + 5n, -(2n ** 35n) - 3n),
        },
      ],
    }),
  ),
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast int32 to ${to}`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      inputs: [tensor('int32', [7], [0, 1, -1, 300, -129, 70000, -2147483648])],
    }),
  ),
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast bool to ${to}`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      inputs: [tensor('bool', [3], [0, 1, 1])],
    }),
  ),
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast uint8 to ${to}`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      inputs: [tensor('uint8', [4], [0, 1, 128, 255])],
    }),
  ),
  ...castTargets.map(
    (to): ConformanceCase => ({
      name: `Cast float16 to ${to}`,
      opType: 'Cast',
      attributes: { to: ONNX_TYPE[to]! },
      // 0, -0, 1, -2.5, 65504, tiny subnormal, 300, inf, NaN
      inputs: [tensor('float16', [9], [0, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x0001, 0x5cb0, 0x7c00, 0x7e00])],
    }),
  ),
  {
    name: 'Cast int8 to uint16 wraps',
    opType: 'Cast',
    attributes: { to: 4 },
    inputs: [tensor('int8', [3], [-1, -128, 127])],
  },
  {
    name: 'Cast uint16 to int16 wraps',
    opType: 'Cast',
    attributes: { to: 5 },
    inputs: [tensor('uint16', [3], [65535, 32768, 7])],
  },
  {
    name: 'Cast opset 9 float32 to int64',
    opType: 'Cast',
    opset: 9,
    attributes: { to: 7 },
    inputs: [randomFloat([10], 610, -100, 100)],
  },
  {
    name: 'CastLike float32 like int64',
    opType: 'CastLike',
    opset: 15,
    inputs: [randomFloat([10], 611, -100, 100), int64Tensor([0])],
  },
  {
    name: 'CastLike int64 like float16',
    opType: 'CastLike',
    opset: 15,
    inputs: [int64Tensor([1, 2049, -7]), tensor('float16', [1], [0])],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The ops of the models quantkit targets at opset 9, where several took attributes that later became inputs

const opset9Cases: ConformanceCase[] = [
  {
    name: 'opset 9 Squeeze axes attribute',
    opType: 'Squeeze',
    opset: 9,
    attributes: { axes: [1] },
    inputs: [randomFloat([2, 1, 3], 700)],
  },
  {
    name: 'opset 9 Unsqueeze axes attribute',
    opType: 'Unsqueeze',
    opset: 9,
    attributes: { axes: [0, 3] },
    inputs: [int64Tensor([1, 2, 3, 4], [2, 2])],
  },
  {
    name: 'opset 9 Split split attribute',
    opType: 'Split',
    opset: 9,
    attributes: { axis: 1, split: [2, 1] },
    inputs: [randomFloat([2, 3], 701)],
    outputs: 2,
  },
  {
    name: 'opset 9 Gather',
    opType: 'Gather',
    opset: 9,
    inputs: [randomFloat([4, 3], 702), int64Tensor([3, 1])],
  },
  { name: 'opset 9 Flatten', opType: 'Flatten', opset: 9, inputs: [randomFloat([2, 3, 4], 703)] },
  {
    name: 'opset 9 Equal int64',
    opType: 'Equal',
    opset: 9,
    inputs: [int64Tensor([1, 2, 3]), int64Tensor([2], [])],
  },
  {
    name: 'opset 9 Max of two',
    opType: 'Max',
    opset: 9,
    inputs: [randomFloat([2, 3], 704), randomFloat([3], 705)],
  },
  {
    name: 'opset 9 Pow',
    opType: 'Pow',
    opset: 9,
    inputs: [randomFloat([2, 3], 706, 0, 2), scalar('float32', 3)],
  },
  {
    name: 'opset 9 ReduceMean',
    opType: 'ReduceMean',
    opset: 9,
    attributes: { axes: [2, 3], keepdims: 1 },
    inputs: [randomFloat([1, 3, 4, 4], 707)],
  },
  {
    name: 'opset 9 ReduceMax',
    opType: 'ReduceMax',
    opset: 9,
    attributes: { axes: [1], keepdims: 0 },
    inputs: [randomFloat([2, 5], 708)],
  },
  {
    name: 'opset 9 ConstantOfShape',
    opType: 'ConstantOfShape',
    opset: 9,
    attributes: { value: tensor('float32', [1], [1]) },
    inputs: [int64Tensor([2, 2])],
  },
  { name: 'opset 9 Not', opType: 'Not', opset: 9, inputs: [randomBools([4], 709)] },
  { name: 'opset 9 HardSigmoid', opType: 'HardSigmoid', opset: 9, inputs: [randomFloat([8], 710, -4, 4)] },
  { name: 'opset 9 LeakyRelu', opType: 'LeakyRelu', opset: 9, inputs: [randomFloat([8], 711)] },
  {
    name: 'opset 9 Transpose',
    opType: 'Transpose',
    opset: 9,
    attributes: { perm: [0, 2, 1] },
    inputs: [randomFloat([2, 3, 4], 712)],
  },
  {
    name: 'opset 9 Concat',
    opType: 'Concat',
    opset: 9,
    attributes: { axis: 1 },
    inputs: [randomFloat([1, 2], 713), randomFloat([1, 3], 714)],
  },
  {
    name: 'opset 9 Clip',
    opType: 'Clip',
    opset: 9,
    attributes: { min: float(0), max: float(6) },
    inputs: [randomFloat([10], 715, -3, 9)],
  },
  {
    name: 'opset 9 Pad reflect',
    opType: 'Pad',
    opset: 9,
    attributes: { pads: [0, 1, 0, 2], mode: 'reflect' },
    inputs: [randomFloat([2, 4], 716)],
  },
  { name: 'opset 9 Size', opType: 'Size', opset: 9, inputs: [randomFloat([2, 3], 717)] },
  {
    name: 'opset 12 GreaterOrEqual',
    opType: 'GreaterOrEqual',
    opset: 12,
    inputs: [gridFloat([6], 718), gridFloat([6], 719)],
  },
  {
    name: 'opset 9 Where',
    opType: 'Where',
    opset: 9,
    inputs: [randomBools([3], 720), randomFloat([3], 721), randomFloat([3], 722)],
  },
  { name: 'Transpose of a scalar', opType: 'Transpose', inputs: [scalar('float32', 3)] },
  {
    name: 'Squeeze opset 13 empty axes input drops every 1',
    opType: 'Squeeze',
    opset: 13,
    inputs: [randomFloat([1, 3, 1], 723), int64Tensor([])],
  },
];

export const tensorCases: readonly ConformanceCase[] = [
  ...activationCases,
  ...mathCases,
  ...compareCases,
  ...reduceCases,
  ...reduceTypeCases,
  ...argCases,
  ...layoutCases,
  ...generatorCases,
  ...castCases,
  ...opset9Cases,
];
