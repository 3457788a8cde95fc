import { type DType, type Tensor, allocate, createSeededRandom, dtypeInfo, sizeOf } from '@quantkit/core';
import type { AttributeInit } from '@quantkit/onnx';
import type { ConformanceCase } from '../conformance-case.js';
import { randomFloat } from '../random-tensors.js';

// Conv, QLinearConv and ConvInteger on shapes large enough for the paths the small cases of nn.ts and
// quantized.ts do not reach: output rows wider than a vector with tails left over, patches split over several GEMM
// passes, output-channel counts that leave rows past the GEMM's row groups, strides 1, 2 and 3 in the im2col and
// depthwise kernels, several depth slices of a 3-D convolution, and weights fed rather than constant.

/** Float sums of tens to hundreds of products, added in another order than onnxruntime's. */
const longSums = { abs: 1e-4, rel: 1e-4 };

type Code8 = 'uint8' | 'int8';

/** Seeded random codes of `dtype` in [low, high] (the type's range by default). */
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

/** A tensor of `dtype` holding `values`, a scalar when `shape` is omitted. */
function tensor(dtype: DType, values: readonly number[], shape: readonly number[] = []): Tensor {
  const data = allocate(dtype, values.length) as Int32Array;
  data.set(values);
  return { dtype, shape: [...shape], data };
}

function ints(values: Record<string, number | readonly number[] | string>): Record<string, AttributeInit> {
  return values as Record<string, AttributeInit>;
}

// ---------------------------------------------------------------------------------------------------------------
// Conv

interface FloatSpec {
  readonly name: string;
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly bias?: boolean;
  readonly attributes?: Record<string, number | readonly number[] | string>;
  /** Weight and bias fed rather than initializers. */
  readonly fed?: boolean;
}

const floatSpecs: readonly FloatSpec[] = [
  {
    name: '3x3 pads 1 on 3x40x37, 16 output channels (rows crossing panels, three GEMM passes)',
    x: [1, 3, 40, 37],
    w: [16, 3, 3, 3],
    bias: true,
    attributes: { pads: [1, 1, 1, 1] },
  },
  {
    name: '3x3 stride 2 pads 1 on 4x33x50, 7 output channels, fed weight',
    x: [1, 4, 33, 50],
    w: [7, 4, 3, 3],
    bias: true,
    fed: true,
    attributes: { pads: [1, 1, 1, 1], strides: [2, 2] },
  },
  {
    name: '3x3 stride 3 dilations 2 on 5x31x44 (strided gathers)',
    x: [1, 5, 31, 44],
    w: [6, 5, 3, 3],
    attributes: { strides: [3, 3], dilations: [2, 2], pads: [2, 1, 0, 2] },
  },
  {
    name: '1x1 pointwise on 24x20x30, 40 output channels (two GEMM passes)',
    x: [1, 24, 20, 30],
    w: [40, 24, 1, 1],
    bias: true,
  },
  {
    name: '1x1 pointwise fed weight and bias, batch 2',
    x: [2, 6, 9, 11],
    w: [9, 6, 1, 1],
    bias: true,
    fed: true,
  },
  {
    name: '3x3 on 64 channels of 10x12 (sums of 576 products)',
    x: [1, 64, 10, 12],
    w: [11, 64, 3, 3],
    bias: true,
    attributes: { pads: [1, 1, 1, 1] },
  },
  {
    name: 'group 4 3x3 on 8x12x19, 12 output channels',
    x: [2, 8, 12, 19],
    w: [12, 2, 3, 3],
    attributes: { group: 4, pads: [0, 1, 1, 0] },
  },
  {
    name: 'depthwise 3x3 stride 1 pads 1 on 6x21x35 with bias (8-wide steps and a tail)',
    x: [1, 6, 21, 35],
    w: [6, 1, 3, 3],
    bias: true,
    attributes: { group: 6, pads: [1, 1, 1, 1] },
  },
  {
    name: 'depthwise 3x3 stride 2 pads 1 on 6x22x41, batch 2',
    x: [2, 6, 22, 41],
    w: [6, 1, 3, 3],
    bias: true,
    attributes: { group: 6, pads: [1, 1, 1, 1], strides: [2, 2] },
  },
  {
    name: 'depthwise 3x3 stride 2 dilations 2 on 4x19x30, fed weight',
    x: [1, 4, 19, 30],
    w: [4, 1, 3, 3],
    fed: true,
    attributes: { group: 4, pads: [2, 2, 2, 2], strides: [2, 2], dilations: [2, 2] },
  },
  {
    name: 'depthwise 5x5 stride 1 pads 2 on 3x17x29, channel multiplier 2',
    x: [1, 3, 17, 29],
    w: [6, 1, 5, 5],
    bias: true,
    attributes: { group: 3, pads: [2, 2, 2, 2] },
  },
  {
    name: 'depthwise 3x3 stride 3 on 2x16x40 (strided loads)',
    x: [1, 2, 16, 40],
    w: [2, 1, 3, 3],
    attributes: { group: 2, strides: [3, 3], pads: [1, 0, 1, 2] },
  },
  {
    name: '1-D depthwise kernel 3 stride 2 on 4x70',
    x: [1, 4, 70],
    w: [4, 1, 3],
    bias: true,
    attributes: { group: 4, strides: [2], pads: [1, 1] },
  },
  {
    name: '3-D 3x3x3 pads 1 on 4x6x9x10 (depth slices and depth padding)',
    x: [1, 4, 6, 9, 10],
    w: [6, 4, 3, 3, 3],
    bias: true,
    attributes: { pads: [1, 1, 1, 1, 1, 1], strides: [2, 1, 1] },
  },
];

const floatCases: ConformanceCase[] = floatSpecs.map((spec, index) => {
  const seed = 2000 + 4 * index;
  const inputs = [randomFloat(spec.x, seed), randomFloat(spec.w, seed + 1, -0.5, 0.5)];
  if (spec.bias === true) inputs.push(randomFloat([spec.w[0]!], seed + 2));
  return {
    name: `Conv ${spec.name}`,
    opType: 'Conv',
    inputs,
    ...(spec.attributes !== undefined && { attributes: ints(spec.attributes) }),
    ...(spec.fed !== true && { constantSlots: [1, 2] }),
    tolerance: longSums,
  };
});

// ---------------------------------------------------------------------------------------------------------------
// QLinearConv

interface IntegerSpec {
  readonly name: string;
  readonly types: readonly [Code8, Code8];
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly attributes?: Record<string, number | readonly number[] | string>;
  readonly perChannel?: boolean;
  readonly bias?: boolean;
  readonly fed?: boolean;
}

const qLinearSpecs: readonly IntegerSpec[] = [
  {
    name: 'u8 x s8 3x3 pads 1 on 8x20x27, 12 output channels per channel, with bias',
    types: ['uint8', 'int8'],
    x: [1, 8, 20, 27],
    w: [12, 8, 3, 3],
    attributes: { pads: [1, 1, 1, 1] },
    perChannel: true,
    bias: true,
  },
  {
    name: 'u8 x u8 3x3 stride 2 on 5x25x34, 7 output channels (weight zero point 128)',
    types: ['uint8', 'uint8'],
    x: [1, 5, 25, 34],
    w: [7, 5, 3, 3],
    attributes: { strides: [2, 2], pads: [1, 0, 1, 1] },
    bias: true,
  },
  {
    name: 's8 x s8 1x1 on 16x30x41, 24 output channels (two GEMM passes)',
    types: ['int8', 'int8'],
    x: [1, 16, 30, 41],
    w: [24, 16, 1, 1],
    perChannel: true,
    bias: true,
  },
  {
    name: 'u8 x s8 1x1 on 7x20x23, 9 output channels (odd K)',
    types: ['uint8', 'int8'],
    x: [1, 7, 20, 23],
    w: [9, 7, 1, 1],
    perChannel: true,
  },
  {
    name: 'u8 x s8 3x3 stride 3 on 3x20x31 (strided gathers), fed weight',
    types: ['uint8', 'int8'],
    x: [1, 3, 20, 31],
    w: [4, 3, 3, 3],
    attributes: { strides: [3, 3], pads: [1, 1, 1, 1] },
    fed: true,
  },
  {
    name: 'u8 x s8 3x3 on one channel (odd K, fewer than 5 output channels)',
    types: ['uint8', 'int8'],
    x: [2, 1, 15, 17],
    w: [3, 1, 3, 3],
    attributes: { pads: [1, 1, 1, 1] },
  },
  {
    name: 'u8 x s8 3-D 3x3x3 pads 1 on 3x5x8x9',
    types: ['uint8', 'int8'],
    x: [1, 3, 5, 8, 9],
    w: [6, 3, 3, 3, 3],
    attributes: { pads: [1, 1, 1, 1, 1, 1] },
    perChannel: true,
    bias: true,
  },
  {
    name: 's8 x s8 group 3 dilations [2, 1] on 6x14x20',
    types: ['int8', 'int8'],
    x: [1, 6, 14, 20],
    w: [9, 2, 3, 3],
    attributes: { group: 3, dilations: [2, 1], pads: [2, 1, 2, 1] },
    bias: true,
  },
  {
    name: 'u8 x s8 depthwise 3x3 stride 1 pads 1 on 6x19x45 per channel, with bias',
    types: ['uint8', 'int8'],
    x: [1, 6, 19, 45],
    w: [6, 1, 3, 3],
    attributes: { group: 6, pads: [1, 1, 1, 1] },
    perChannel: true,
    bias: true,
  },
  {
    name: 's8 x s8 depthwise 3x3 stride 2 pads 1 on 4x21x38, batch 2',
    types: ['int8', 'int8'],
    x: [2, 4, 21, 38],
    w: [4, 1, 3, 3],
    attributes: { group: 4, pads: [1, 1, 1, 1], strides: [2, 2] },
    bias: true,
  },
  {
    name: 'u8 x u8 depthwise 5x5 stride 3 on 2x23x40, channel multiplier 2',
    types: ['uint8', 'uint8'],
    x: [1, 2, 23, 40],
    w: [4, 1, 5, 5],
    attributes: { group: 2, strides: [3, 3], pads: [2, 2, 2, 2] },
  },
  {
    name: 'u8 x s8 1-D depthwise kernel 5 stride 2 on 4x50, fed weight',
    types: ['uint8', 'int8'],
    x: [1, 4, 50],
    w: [4, 1, 5],
    attributes: { group: 4, strides: [2], pads: [2, 2] },
    fed: true,
  },
];

const qLinearCases: ConformanceCase[] = qLinearSpecs.map((spec, index) => {
  const seed = 2100 + 8 * index;
  const [xType, wType] = spec.types;
  const channels = spec.w[0]!;
  const kernelDim = sizeOf(spec.w.slice(1));
  const parameterShape = spec.perChannel === true ? [channels] : [];
  const inputs: (Tensor | undefined)[] = [
    randomCodes(xType, spec.x, seed),
    tensor('float32', [0.02]),
    randomCodes(xType, [], seed + 1, xType === 'uint8' ? 100 : -20, xType === 'uint8' ? 150 : 20),
    randomCodes(wType, spec.w, seed + 2),
    randomFloat(parameterShape, seed + 3, 0.007, 0.013),
    // onnxruntime takes one weight zero point for all channels.
    tensor(
      wType,
      new Array<number>(sizeOf(parameterShape)).fill(wType === 'uint8' ? 128 : 0),
      parameterShape,
    ),
    // Typical sums (about sqrt(kernelDim) * 5500 for codes spread over the range) land mid-range.
    tensor('float32', [0.02 * 0.01 * 85 * Math.sqrt(kernelDim)]),
    randomCodes(xType, [], seed + 5, xType === 'uint8' ? 100 : -20, xType === 'uint8' ? 150 : 20),
    spec.bias === true ? randomCodes('int32', [channels], seed + 6, -30000, 30000) : undefined,
  ];
  while (inputs[inputs.length - 1] === undefined) inputs.pop();
  return {
    name: `QLinearConv ${spec.name}`,
    opType: 'QLinearConv',
    ...(spec.attributes !== undefined && { attributes: ints(spec.attributes) }),
    inputs,
    ...(spec.fed !== true && { constantSlots: [3, 4, 5, ...(spec.bias === true ? [8] : [])] }),
  };
});

// ---------------------------------------------------------------------------------------------------------------
// ConvInteger (onnxruntime runs uint8 x uint8)

const convIntegerSpecs: readonly IntegerSpec[] = [
  {
    name: 'u8 x u8 3x3 pads 1 on 4x18x29, 10 output channels, zero points',
    types: ['uint8', 'uint8'],
    x: [1, 4, 18, 29],
    w: [10, 4, 3, 3],
    attributes: { pads: [1, 1, 1, 1] },
  },
  {
    name: 'u8 x u8 depthwise 3x3 pads 1 on 5x13x22 (int32 row tails)',
    types: ['uint8', 'uint8'],
    x: [1, 5, 13, 22],
    w: [5, 1, 3, 3],
    attributes: { group: 5, pads: [1, 1, 1, 1] },
  },
  {
    name: 'u8 x u8 1-D depthwise stride 2 on 3x41, fed weight',
    types: ['uint8', 'uint8'],
    x: [2, 3, 41],
    w: [3, 1, 4],
    attributes: { group: 3, strides: [2], pads: [1, 2] },
    fed: true,
  },
];

const convIntegerCases: ConformanceCase[] = convIntegerSpecs.map((spec, index) => {
  const seed = 2200 + 4 * index;
  const [xType, wType] = spec.types;
  return {
    name: `ConvInteger ${spec.name}`,
    opType: 'ConvInteger',
    ...(spec.attributes !== undefined && { attributes: ints(spec.attributes) }),
    inputs: [
      randomCodes(xType, spec.x, seed),
      randomCodes(wType, spec.w, seed + 1),
      randomCodes(xType, [], seed + 2),
      randomCodes(wType, [], seed + 3),
    ],
    ...(spec.fed !== true && { constantSlots: [1] }),
  };
});

/** Conv, QLinearConv and ConvInteger on larger shapes: the vector paths, tails and passes of the fast kernels. */
export const convolutionCases: readonly ConformanceCase[] = [
  ...floatCases,
  ...qLinearCases,
  ...convIntegerCases,
];
