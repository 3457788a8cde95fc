import type { AttributeInit } from '@quantkit/onnx';
import type { ConformanceCase } from '../conformance-case.js';
import type { Tolerance } from '../run-both.js';
import { int64Tensor, randomFloat } from '../random-tensors.js';

/**
 * Sums of tens to hundreds of float32 products: onnxruntime's MLAS kernels add them in another order (and with
 * fused multiply-adds), so results differ by a few float32 ulps of the partial sums.
 */
const longSums: Tolerance = { abs: 1e-4, rel: 1e-4 };

/** A float attribute whose value may be whole (a plain 1 would be written as an int). */
function float(value: number): AttributeInit {
  return { type: 'float', value };
}

// ---------------------------------------------------------------------------------------------------------------
// Conv

interface ConvSpec {
  readonly name: string;
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly bias?: boolean;
  readonly attributes?: Record<string, AttributeInit>;
  /** Weight and bias as initializers (the kernel packs them in prepare). */
  readonly constant?: boolean;
}

function convCase(spec: ConvSpec, seed: number, biasSize = spec.w[0]!): ConformanceCase {
  const inputs = [randomFloat(spec.x, seed), randomFloat(spec.w, seed + 1)];
  if (spec.bias === true) inputs.push(randomFloat([biasSize], seed + 2));
  return {
    name: `Conv ${spec.name}`,
    opType: 'Conv',
    inputs,
    ...(spec.attributes !== undefined && { attributes: spec.attributes }),
    ...(spec.constant === true && { constantSlots: [1, 2] }),
    tolerance: longSums,
  };
}

const convSpecs: ConvSpec[] = [
  { name: '2-D 3x3 without pads', x: [1, 3, 7, 6], w: [4, 3, 3, 3] },
  {
    name: '2-D 3x3 pads 1 with bias',
    x: [1, 3, 7, 6],
    w: [5, 3, 3, 3],
    bias: true,
    attributes: { pads: [1, 1, 1, 1] },
  },
  {
    name: '2-D 3x3 stride 2 pads 1, constant weight and bias, batch 2',
    x: [2, 4, 9, 8],
    w: [6, 4, 3, 3],
    bias: true,
    constant: true,
    attributes: { pads: [1, 1, 1, 1], strides: [2, 2] },
  },
  {
    name: '2-D asymmetric pads and strides',
    x: [1, 2, 8, 9],
    w: [3, 2, 3, 2],
    attributes: { pads: [0, 1, 2, 1], strides: [2, 3] },
  },
  {
    name: '2-D dilations 2 pads 2',
    x: [1, 2, 9, 9],
    w: [3, 2, 3, 3],
    attributes: { dilations: [2, 2], pads: [2, 2, 2, 2] },
  },
  { name: '2-D dilations [1, 3]', x: [1, 2, 7, 10], w: [2, 2, 2, 3], attributes: { dilations: [1, 3] } },
  { name: '2-D kernel_shape given', x: [1, 2, 5, 5], w: [2, 2, 3, 3], attributes: { kernel_shape: [3, 3] } },
  {
    name: '2-D auto_pad SAME_UPPER stride 2 (odd total pad goes to the end)',
    x: [1, 2, 9, 8],
    w: [3, 2, 4, 3],
    attributes: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  {
    name: '2-D auto_pad SAME_LOWER stride 2 (odd total pad goes to the start)',
    x: [1, 2, 9, 8],
    w: [3, 2, 4, 3],
    attributes: { auto_pad: 'SAME_LOWER', strides: [2, 2] },
  },
  {
    name: '2-D auto_pad SAME_UPPER stride 1',
    x: [1, 2, 6, 6],
    w: [2, 2, 3, 3],
    attributes: { auto_pad: 'SAME_UPPER' },
  },
  {
    name: '2-D auto_pad VALID stride 2',
    x: [1, 2, 9, 8],
    w: [2, 2, 3, 3],
    attributes: { auto_pad: 'VALID', strides: [2, 2] },
  },
  {
    name: '2-D auto_pad NOTSET with pads',
    x: [1, 2, 5, 5],
    w: [2, 2, 3, 3],
    attributes: { auto_pad: 'NOTSET', pads: [1, 0, 1, 0] },
  },
  {
    name: '2-D group 2',
    x: [1, 4, 6, 6],
    w: [6, 2, 3, 3],
    bias: true,
    attributes: { group: 2, pads: [1, 1, 1, 1] },
  },
  {
    name: '2-D group 3 stride 2 constant weight',
    x: [2, 6, 7, 7],
    w: [3, 2, 3, 3],
    constant: true,
    attributes: { group: 3, strides: [2, 2] },
  },
  {
    name: '2-D depthwise 3x3 pads 1 with bias',
    x: [1, 8, 10, 9],
    w: [8, 1, 3, 3],
    bias: true,
    attributes: { group: 8, pads: [1, 1, 1, 1] },
  },
  {
    name: '2-D depthwise 3x3 stride 2 pads 1 constant weight, batch 2',
    x: [2, 5, 11, 10],
    w: [5, 1, 3, 3],
    bias: true,
    constant: true,
    attributes: { group: 5, pads: [1, 1, 1, 1], strides: [2, 2] },
  },
  {
    name: '2-D depthwise 3x3 without pads, channel multiplier 3',
    x: [1, 2, 7, 8],
    w: [6, 1, 3, 3],
    bias: true,
    attributes: { group: 2 },
  },
  {
    name: '2-D depthwise 3x3 on an input narrower than the kernel, asymmetric pads, strides [1, 2]',
    x: [2, 3, 5, 2],
    w: [3, 1, 3, 3],
    attributes: { group: 3, pads: [0, 2, 1, 1], strides: [1, 2] },
  },
  {
    name: '2-D depthwise channel multiplier 2, dilations 2',
    x: [1, 3, 9, 9],
    w: [6, 1, 3, 3],
    attributes: { group: 3, dilations: [2, 2], pads: [2, 1, 2, 1] },
  },
  {
    name: '2-D depthwise 5x5 SAME_UPPER stride 2',
    x: [1, 4, 12, 11],
    w: [4, 1, 5, 5],
    attributes: { group: 4, auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  {
    name: '2-D depthwise stride 3 with pads larger than the kernel reach',
    x: [1, 2, 4, 5],
    w: [2, 1, 2, 2],
    attributes: { group: 2, pads: [3, 2, 3, 4], strides: [3, 3] },
  },
  { name: '2-D 1x1 pointwise with bias', x: [2, 8, 6, 5], w: [12, 8, 1, 1], bias: true },
  { name: '2-D 1x1 stride 2', x: [1, 4, 7, 6], w: [3, 4, 1, 1], attributes: { strides: [2, 2] } },
  { name: '2-D 1x1 with pads', x: [1, 3, 4, 4], w: [2, 3, 1, 1], attributes: { pads: [1, 1, 0, 2] } },
  {
    name: '2-D pads beyond the kernel (windows wholly in the padding)',
    x: [1, 2, 4, 4],
    w: [2, 2, 2, 2],
    bias: true,
    attributes: { pads: [3, 3, 3, 3] },
  },
  {
    name: '2-D 3x3 stride 2 on 64x48, 16 output channels',
    x: [1, 3, 64, 48],
    w: [16, 3, 3, 3],
    bias: true,
    constant: true,
    attributes: { pads: [1, 1, 1, 1], strides: [2, 2] },
  },
  {
    name: '2-D 3x3 on 32 channels (sums of 288 products)',
    x: [1, 32, 12, 12],
    w: [24, 32, 3, 3],
    bias: true,
    attributes: { pads: [1, 1, 1, 1] },
  },
  { name: '2-D empty batch', x: [0, 2, 5, 5], w: [3, 2, 3, 3] },
  {
    name: '1-D kernel 3 pads 1 with bias',
    x: [2, 3, 12],
    w: [4, 3, 3],
    bias: true,
    attributes: { pads: [1, 1] },
  },
  {
    name: '1-D stride 2 dilation 2',
    x: [1, 2, 15],
    w: [3, 2, 3],
    attributes: { strides: [2], dilations: [2], pads: [0, 3] },
  },
  {
    name: '1-D depthwise SAME_LOWER',
    x: [1, 4, 10],
    w: [4, 1, 4],
    attributes: { group: 4, auto_pad: 'SAME_LOWER' },
  },
  { name: '1-D group 2 VALID', x: [1, 4, 9], w: [4, 2, 2], attributes: { group: 2, auto_pad: 'VALID' } },
  {
    name: '3-D 2x3x3 pads and strides',
    x: [1, 2, 5, 6, 6],
    w: [3, 2, 2, 3, 3],
    bias: true,
    attributes: { pads: [1, 1, 0, 0, 1, 1], strides: [2, 1, 2] },
  },
  {
    name: '3-D depthwise dilated',
    x: [1, 3, 5, 5, 5],
    w: [3, 1, 2, 2, 2],
    attributes: { group: 3, dilations: [2, 1, 2] },
  },
  {
    name: '3-D SAME_UPPER',
    x: [1, 2, 4, 5, 3],
    w: [2, 2, 3, 3, 3],
    attributes: { auto_pad: 'SAME_UPPER', strides: [2, 2, 1] },
  },
];

const convCases = convSpecs.map((spec, index) => convCase(spec, 100 + 3 * index));

// ---------------------------------------------------------------------------------------------------------------
// ConvTranspose (W is [C, M / group, ...kernel])

const convTransposeSpecs: ConvSpec[] = [
  { name: '2-D 3x3', x: [1, 3, 5, 4], w: [3, 2, 3, 3] },
  {
    name: '2-D stride 2 pads 1 output_padding 1 with bias',
    x: [2, 4, 5, 6],
    w: [4, 3, 3, 3],
    bias: true,
    attributes: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
  },
  {
    name: '2-D stride [2, 3] asymmetric pads constant weight',
    x: [1, 2, 4, 5],
    w: [2, 3, 4, 3],
    bias: true,
    constant: true,
    attributes: { strides: [2, 3], pads: [0, 1, 2, 1] },
  },
  { name: '2-D dilations 2', x: [1, 2, 4, 4], w: [2, 2, 3, 3], attributes: { dilations: [2, 2] } },
  {
    name: '2-D kernel_shape given',
    x: [1, 2, 3, 3],
    w: [2, 2, 2, 2],
    attributes: { kernel_shape: [2, 2], strides: [2, 2] },
  },
  {
    name: '2-D group 2',
    x: [1, 4, 4, 5],
    w: [4, 3, 3, 3],
    bias: true,
    attributes: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: '2-D depthwise (group = C)',
    x: [1, 3, 5, 5],
    w: [3, 1, 4, 4],
    attributes: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: '2-D output_shape with stride 2 (odd total padding)',
    x: [1, 2, 4, 4],
    w: [2, 3, 3, 3],
    attributes: { strides: [2, 2], output_shape: [8, 9] },
  },
  {
    name: '2-D auto_pad SAME_UPPER stride 2',
    x: [1, 2, 4, 5],
    w: [2, 2, 3, 3],
    attributes: { strides: [2, 2], auto_pad: 'SAME_UPPER' },
  },
  {
    name: '2-D auto_pad SAME_LOWER stride 2',
    x: [1, 2, 4, 5],
    w: [2, 2, 3, 3],
    attributes: { strides: [2, 2], auto_pad: 'SAME_LOWER' },
  },
  {
    name: '2-D auto_pad VALID',
    x: [1, 2, 3, 4],
    w: [2, 2, 3, 2],
    attributes: { strides: [2, 1], auto_pad: 'VALID' },
  },
  {
    name: '2-D 4x4 stride 2 pads 1 on 16 channels (upsampling decoder)',
    x: [1, 16, 8, 8],
    w: [16, 8, 4, 4],
    bias: true,
    constant: true,
    attributes: { strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: '1-D stride 3 output_padding 2',
    x: [2, 3, 6],
    w: [3, 2, 4],
    bias: true,
    attributes: { strides: [3], output_padding: [2] },
  },
  { name: '1-D dilations 2 pads', x: [1, 2, 7], w: [2, 2, 3], attributes: { dilations: [2], pads: [1, 2] } },
  {
    name: '3-D stride 2 pads 1',
    x: [1, 2, 3, 4, 3],
    w: [2, 2, 3, 3, 3],
    bias: true,
    attributes: { strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] },
  },
  { name: '2-D empty batch', x: [0, 2, 3, 3], w: [2, 2, 3, 3] },
  {
    name: '2-D output_shape with SAME_UPPER (odd total padding at the end)',
    x: [1, 2, 3, 4],
    w: [2, 2, 3, 3],
    attributes: { strides: [2, 2], output_shape: [6, 9], auto_pad: 'SAME_UPPER' },
  },
  {
    name: '2-D output_shape larger than the full output (negative padding)',
    x: [1, 2, 3, 3],
    w: [2, 2, 3, 3],
    attributes: { strides: [2, 2], output_shape: [8, 7] },
  },
  {
    name: '1-D output_shape',
    x: [1, 2, 5],
    w: [2, 3, 3],
    bias: true,
    attributes: { strides: [2], output_shape: [10] },
  },
  {
    name: '2-D output_padding with dilations',
    x: [1, 2, 3, 4],
    w: [2, 2, 2, 3],
    attributes: { strides: [3, 2], dilations: [2, 2], output_padding: [2, 1] },
  },
];

const convTransposeCases = convTransposeSpecs.map(
  (spec, index): ConformanceCase => ({
    ...convCase(spec, 200 + 3 * index, spec.w[1]! * ((spec.attributes?.group as number | undefined) ?? 1)),
    name: `ConvTranspose ${spec.name}`,
    opType: 'ConvTranspose',
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Gemm

interface GemmSpec {
  readonly name: string;
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly c?: readonly number[];
  readonly attributes?: Record<string, AttributeInit>;
  readonly opset?: number;
  readonly constant?: boolean;
  readonly tolerance?: Tolerance;
}

const gemmSpecs: GemmSpec[] = [
  { name: 'plain', a: [3, 4], b: [4, 5], c: [3, 5] },
  { name: 'transA', a: [4, 3], b: [4, 5], c: [3, 5], attributes: { transA: 1 } },
  { name: 'transB', a: [3, 4], b: [5, 4], c: [5], attributes: { transB: 1 } },
  { name: 'transA and transB', a: [4, 3], b: [5, 4], c: [1, 5], attributes: { transA: 1, transB: 1 } },
  { name: 'alpha 0.5 beta 2', a: [3, 4], b: [4, 5], c: [3, 5], attributes: { alpha: 0.5, beta: float(2) } },
  {
    name: 'whole alpha 2 as a float attribute',
    a: [2, 3],
    b: [3, 2],
    c: [2, 2],
    attributes: { alpha: float(2) },
  },
  { name: 'beta 0 ignores C', a: [2, 3], b: [3, 4], c: [2, 4], attributes: { beta: float(0) } },
  { name: 'C scalar', a: [3, 4], b: [4, 5], c: [] },
  { name: 'C [1]', a: [3, 4], b: [4, 5], c: [1] },
  { name: 'C [M, 1]', a: [3, 4], b: [4, 5], c: [3, 1] },
  { name: 'C omitted', a: [3, 4], b: [4, 5] },
  { name: 'opset 9 with C', a: [3, 4], b: [5, 4], c: [5], attributes: { transB: 1 }, opset: 9 },
  { name: 'opset 7 with C [M, N]', a: [3, 4], b: [4, 2], c: [3, 2], opset: 7 },
  { name: 'constant B and C', a: [2, 6], b: [3, 6], c: [3], attributes: { transB: 1 }, constant: true },
  {
    name: 'fully connected [8, 256] x [64, 256]',
    a: [8, 256],
    b: [64, 256],
    c: [64],
    attributes: { transB: 1 },
    constant: true,
    tolerance: longSums,
  },
  { name: 'inner dimension 300 without transposes', a: [5, 300], b: [300, 7], c: [7], tolerance: longSums },
  { name: 'empty M', a: [0, 4], b: [4, 5], c: [5] },
];

const gemmCases = gemmSpecs.map((spec, index): ConformanceCase => {
  const seed = 300 + 3 * index;
  const inputs = [randomFloat(spec.a, seed), randomFloat(spec.b, seed + 1)];
  if (spec.c !== undefined) inputs.push(randomFloat(spec.c, seed + 2));
  return {
    name: `Gemm ${spec.name}`,
    opType: 'Gemm',
    inputs,
    ...(spec.attributes !== undefined && { attributes: spec.attributes }),
    ...(spec.opset !== undefined && { opset: spec.opset }),
    ...(spec.constant === true && { constantSlots: [1, 2] }),
    ...(spec.tolerance !== undefined && { tolerance: spec.tolerance }),
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Pools

interface PoolSpec {
  readonly name: string;
  readonly x: readonly number[];
  readonly attributes: Record<string, AttributeInit>;
  readonly opset?: number;
  readonly outputs?: number;
  readonly dtype?: 'int8' | 'uint8';
}

const maxPoolSpecs: PoolSpec[] = [
  { name: '2x2 stride 2', x: [1, 3, 8, 8], attributes: { kernel_shape: [2, 2], strides: [2, 2] } },
  {
    name: '3x3 stride 2 pads 1',
    x: [2, 2, 9, 7],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: '3x3 stride 1 asymmetric pads',
    x: [1, 2, 5, 6],
    attributes: { kernel_shape: [3, 3], pads: [0, 2, 1, 0] },
  },
  {
    name: 'ceil_mode 3x3 stride 2',
    x: [1, 2, 8, 8],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
  },
  {
    name: 'ceil_mode drops a last window that starts in the end padding',
    x: [1, 1, 4, 5],
    attributes: { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1 },
  },
  {
    name: 'dilations 2',
    x: [1, 2, 9, 9],
    attributes: { kernel_shape: [3, 3], dilations: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: 'auto_pad SAME_UPPER stride 2',
    x: [1, 2, 7, 8],
    attributes: { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' },
  },
  {
    name: 'auto_pad SAME_LOWER stride 2',
    x: [1, 2, 7, 8],
    attributes: { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'SAME_LOWER' },
  },
  {
    name: 'auto_pad VALID stride 2',
    x: [1, 2, 7, 8],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'VALID' },
  },
  {
    name: 'auto_pad SAME_UPPER with dilations 2 (pads sized by the undilated kernel, as onnxruntime)',
    x: [1, 2, 9, 8],
    attributes: { kernel_shape: [3, 2], strides: [2, 1], dilations: [2, 2], auto_pad: 'SAME_UPPER' },
  },
  {
    name: 'auto_pad SAME_LOWER with ceil_mode',
    x: [1, 2, 9, 8],
    attributes: { kernel_shape: [3, 3], strides: [2, 3], auto_pad: 'SAME_LOWER', ceil_mode: 1 },
  },
  {
    name: '1-D kernel 3 stride 2 pads 1',
    x: [2, 3, 11],
    attributes: { kernel_shape: [3], strides: [2], pads: [1, 1] },
  },
  {
    name: '3-D 2x2x2 stride 2',
    x: [1, 2, 4, 6, 5],
    attributes: { kernel_shape: [2, 2, 2], strides: [2, 2, 2] },
  },
  { name: 'opset 8', x: [1, 2, 6, 6], attributes: { kernel_shape: [2, 2], strides: [2, 2] }, opset: 8 },
  {
    name: 'opset 10 ceil_mode',
    x: [1, 2, 7, 7],
    attributes: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 },
    opset: 10,
  },
  {
    name: 'with Indices',
    x: [2, 2, 6, 7],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    outputs: 2,
  },
  {
    name: 'with Indices column-major (storage_order 1)',
    x: [2, 2, 6, 7],
    attributes: { kernel_shape: [2, 3], strides: [2, 2], storage_order: 1 },
    outputs: 2,
  },
  { name: '1-D with Indices', x: [1, 2, 9], attributes: { kernel_shape: [2], strides: [2] }, outputs: 2 },
  {
    name: '3-D with Indices column-major',
    x: [1, 2, 4, 5, 6],
    attributes: { kernel_shape: [2, 2, 2], strides: [2, 2, 2], storage_order: 1 },
    outputs: 2,
  },
  { name: 'on int8', x: [1, 2, 6, 6], attributes: { kernel_shape: [2, 2], strides: [2, 2] }, dtype: 'int8' },
  {
    name: 'on uint8 with pads',
    x: [1, 2, 6, 5],
    attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    dtype: 'uint8',
  },
];

const averagePoolSpecs: PoolSpec[] = [
  { name: '2x2 stride 2', x: [1, 3, 8, 8], attributes: { kernel_shape: [2, 2], strides: [2, 2] } },
  {
    name: '3x3 pads 1 excluding pads',
    x: [2, 2, 6, 7],
    attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
  },
  {
    name: '3x3 pads 1 count_include_pad',
    x: [2, 2, 6, 7],
    attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 },
  },
  {
    name: 'asymmetric pads stride 2',
    x: [1, 2, 7, 6],
    attributes: { kernel_shape: [3, 2], strides: [2, 2], pads: [2, 0, 0, 1] },
  },
  { name: 'ceil_mode', x: [1, 2, 8, 7], attributes: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
  {
    name: 'ceil_mode with count_include_pad (windows clipped at the padded end)',
    x: [1, 2, 8, 7],
    attributes: {
      kernel_shape: [3, 3],
      strides: [2, 2],
      ceil_mode: 1,
      count_include_pad: 1,
      pads: [1, 1, 1, 1],
    },
  },
  {
    name: 'auto_pad SAME_UPPER',
    x: [1, 2, 7, 8],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' },
  },
  {
    name: 'auto_pad SAME_LOWER count_include_pad',
    x: [1, 2, 7, 8],
    attributes: { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_LOWER', count_include_pad: 1 },
  },
  {
    name: 'auto_pad VALID',
    x: [1, 2, 7, 8],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'VALID' },
  },
  { name: '1-D', x: [2, 3, 10], attributes: { kernel_shape: [3], strides: [2], pads: [1, 1] } },
  {
    name: '3-D',
    x: [1, 2, 5, 4, 6],
    attributes: { kernel_shape: [2, 2, 3], strides: [1, 2, 2], pads: [1, 0, 1, 0, 1, 1] },
  },
  {
    name: 'ceil_mode with count_include_pad 1-D (whole-kernel divisor before opset 19)',
    x: [1, 2, 8],
    attributes: { kernel_shape: [3], strides: [2], ceil_mode: 1, count_include_pad: 1, pads: [1, 1] },
  },
  {
    name: 'ceil_mode with count_include_pad 3-D (whole-kernel divisor before opset 19)',
    x: [1, 2, 8, 3, 7],
    attributes: {
      kernel_shape: [3, 1, 3],
      strides: [2, 1, 2],
      ceil_mode: 1,
      count_include_pad: 1,
      pads: [1, 0, 0, 1, 0, 1],
    },
  },
  {
    name: 'ceil_mode with count_include_pad opset 19 (divisor clipped to the padded input)',
    x: [1, 2, 8, 7],
    attributes: {
      kernel_shape: [3, 3],
      strides: [2, 2],
      ceil_mode: 1,
      count_include_pad: 1,
      pads: [1, 1, 1, 1],
    },
    opset: 19,
  },
  {
    name: 'ceil_mode with count_include_pad opset 19 without pads',
    x: [1, 2, 8, 9],
    attributes: { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: 1, count_include_pad: 1 },
    opset: 19,
  },
  {
    name: 'dilations 2 (opset 19)',
    x: [1, 2, 9, 8],
    attributes: { kernel_shape: [3, 2], dilations: [2, 2], pads: [1, 1, 1, 1] },
    opset: 19,
  },
  {
    name: 'dilations 2 with count_include_pad (opset 19)',
    x: [1, 2, 9, 8],
    attributes: { kernel_shape: [3, 2], dilations: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 },
    opset: 19,
  },
  { name: 'opset 7', x: [1, 2, 6, 6], attributes: { kernel_shape: [2, 2], strides: [2, 2] }, opset: 7 },
];

function poolCase(opType: string, spec: PoolSpec, seed: number): ConformanceCase {
  const x = randomFloat(spec.x, seed, -4, 4);
  const input =
    spec.dtype === undefined
      ? x
      : {
          dtype: spec.dtype,
          shape: x.shape,
          data:
            spec.dtype === 'int8'
              ? Int8Array.from(x.data, (v) => Math.round(v * 30))
              : Uint8Array.from(x.data, (v) => Math.round((v + 4) * 30)),
        };
  return {
    name: `${opType} ${spec.name}`,
    opType,
    inputs: [input],
    attributes: spec.attributes,
    ...(spec.opset !== undefined && { opset: spec.opset }),
    ...(spec.outputs !== undefined && { outputs: spec.outputs }),
  };
}

const globalPoolCases = ['GlobalAveragePool', 'GlobalMaxPool'].flatMap((opType) =>
  [
    [2, 3, 5, 4],
    [1, 4, 7],
    [1, 2, 3, 4, 2],
    [1, 3, 1, 1],
  ].map(
    (shape, index): ConformanceCase => ({
      name: `${opType} on [${shape}]`,
      opType,
      inputs: [randomFloat(shape, 400 + index, -3, 3)],
    }),
  ),
);

const poolCases = [
  ...maxPoolSpecs.map((spec, index) => poolCase('MaxPool', spec, 500 + index)),
  ...averagePoolSpecs.map((spec, index) => poolCase('AveragePool', spec, 600 + index)),
  ...globalPoolCases,
];

// ---------------------------------------------------------------------------------------------------------------
// Normalizations

function batchNormalizationCase(
  name: string,
  x: readonly number[],
  parameterShape: readonly number[],
  seed: number,
  options: { opset?: number; attributes?: Record<string, AttributeInit>; constant?: boolean } = {},
): ConformanceCase {
  return {
    name: `BatchNormalization ${name}`,
    opType: 'BatchNormalization',
    inputs: [
      randomFloat(x, seed, -3, 3),
      randomFloat(parameterShape, seed + 1, 0.5, 2),
      randomFloat(parameterShape, seed + 2),
      randomFloat(parameterShape, seed + 3),
      randomFloat(parameterShape, seed + 4, 0.1, 2),
    ],
    ...(options.opset !== undefined && { opset: options.opset }),
    ...(options.attributes !== undefined && { attributes: options.attributes }),
    ...(options.constant === true && { constantSlots: [1, 2, 3, 4] }),
  };
}

interface LayerNormalizationSpec {
  readonly name: string;
  readonly x: readonly number[];
  readonly parameters: readonly number[];
  readonly attributes?: Record<string, AttributeInit>;
  readonly bias?: boolean;
  readonly outputs?: number;
  readonly tolerance?: Tolerance;
}

const normalizationCases: ConformanceCase[] = [
  batchNormalizationCase('4-D opset 15', [2, 3, 4, 5], [3], 700, { opset: 15 }),
  batchNormalizationCase('4-D opset 14 epsilon 1e-3 constant parameters', [2, 4, 3, 3], [4], 705, {
    opset: 14,
    attributes: { epsilon: 1e-3 },
    constant: true,
  }),
  batchNormalizationCase('4-D opset 9', [1, 3, 5, 5], [3], 710, { opset: 9 }),
  batchNormalizationCase('4-D opset 7', [1, 3, 5, 5], [3], 715, { opset: 7 }),
  batchNormalizationCase(
    'opset 7 spatial 0 (parameters per channel and position)',
    [2, 3, 2, 2],
    [3, 2, 2],
    712,
    {
      opset: 7,
      attributes: { spatial: 0 },
    },
  ),
  batchNormalizationCase('2-D [N, C]', [4, 6], [6], 720),
  batchNormalizationCase('3-D [N, C, L]', [2, 3, 7], [3], 725),
  batchNormalizationCase('5-D', [1, 2, 3, 4, 2], [2], 730),
  batchNormalizationCase('momentum attribute ignored in inference', [1, 2, 3, 3], [2], 735, {
    attributes: { momentum: 0.5 },
  }),
  ...[
    { name: '[2, 3, 4, 5]', x: [2, 3, 4, 5] },
    { name: '[1, 2, 7] epsilon 1e-3', x: [1, 2, 7], attributes: { epsilon: 1e-3 } },
    { name: '5-D', x: [1, 2, 3, 2, 4] },
    { name: 'on 64x64 planes (means of 4096 values)', x: [1, 2, 64, 64], tolerance: longSums },
  ].map(
    (spec, index): ConformanceCase => ({
      name: `InstanceNormalization ${spec.name}`,
      opType: 'InstanceNormalization',
      inputs: [
        randomFloat(spec.x, 740 + 3 * index, -2, 3),
        randomFloat([spec.x[1]!], 741 + 3 * index, 0.5, 2),
        randomFloat([spec.x[1]!], 742 + 3 * index),
      ],
      ...(spec.attributes !== undefined && { attributes: spec.attributes }),
      ...(spec.tolerance !== undefined && { tolerance: spec.tolerance }),
    }),
  ),
  ...(
    [
      { name: 'last axis', x: [2, 3, 8], parameters: [8] },
      { name: 'axis 1 over two axes', x: [2, 3, 4], parameters: [3, 4], attributes: { axis: 1 } },
      { name: 'axis -2 without B', x: [2, 3, 4], parameters: [3, 4], attributes: { axis: -2 }, bias: false },
      { name: 'epsilon 1e-2', x: [4, 6], parameters: [6], attributes: { epsilon: 1e-2 } },
      { name: 'with Mean and InvStdDev', x: [2, 3, 5], parameters: [5], outputs: 3 },
      {
        name: 'axis 1 with Mean and InvStdDev',
        x: [2, 3, 5],
        parameters: [3, 5],
        attributes: { axis: 1 },
        outputs: 3,
      },
      { name: 'with Mean only', x: [3, 4], parameters: [4], outputs: 2 },
      { name: 'Scale and B [1, 4] on the last axis', x: [2, 3, 4], parameters: [1, 4] },
      { name: 'on rows of 768 (BERT width)', x: [4, 768], parameters: [768], tolerance: longSums },
    ] as LayerNormalizationSpec[]
  ).map(
    (spec, index): ConformanceCase => ({
      name: `LayerNormalization ${spec.name}`,
      opType: 'LayerNormalization',
      inputs: [
        randomFloat(spec.x, 760 + 3 * index, -2, 3),
        randomFloat(spec.parameters, 761 + 3 * index, 0.5, 2),
        ...(spec.bias === false ? [] : [randomFloat(spec.parameters, 762 + 3 * index)]),
      ],
      ...(spec.attributes !== undefined && { attributes: spec.attributes }),
      ...(spec.outputs !== undefined && { outputs: spec.outputs }),
      ...(spec.tolerance !== undefined && { tolerance: spec.tolerance }),
    }),
  ),
];

// ---------------------------------------------------------------------------------------------------------------
// Softmax, LogSoftmax, PRelu

const softmaxSpecs: {
  name: string;
  x: number[];
  opset?: number;
  axis?: number;
  low?: number;
  high?: number;
}[] = [
  { name: 'opset 13 default axis -1', x: [2, 3, 5] },
  { name: 'opset 13 axis 1 (strided)', x: [2, 4, 3], axis: 1 },
  { name: 'opset 13 axis 0', x: [3, 2, 2], axis: 0 },
  { name: 'opset 13 axis -2', x: [2, 5, 3], axis: -2 },
  { name: 'opset 13 on 1-D', x: [7] },
  { name: 'opset 13 values from -60 to 60', x: [3, 10], low: -60, high: 60 },
  { name: 'opset 11 default axis 1 coerces to 2-D', x: [2, 3, 4], opset: 11 },
  { name: 'opset 11 axis 2', x: [2, 3, 4], opset: 11, axis: 2 },
  { name: 'opset 11 axis -2', x: [2, 3, 4], opset: 11, axis: -2 },
  { name: 'opset 11 axis 0 (one row)', x: [2, 3, 2], opset: 11, axis: 0 },
  { name: 'opset 1 default axis', x: [3, 2, 2], opset: 1 },
];

const softmaxCases = ['Softmax', 'LogSoftmax'].flatMap((opType) =>
  softmaxSpecs.map(
    (spec, index): ConformanceCase => ({
      name: `${opType} ${spec.name}`,
      opType,
      inputs: [randomFloat(spec.x, 800 + index, spec.low ?? -4, spec.high ?? 4)],
      ...(spec.opset !== undefined && { opset: spec.opset }),
      ...(spec.axis !== undefined && { attributes: { axis: spec.axis } }),
      tolerance: { abs: 1e-6, rel: 1e-5 },
    }),
  ),
);

const preluCases = [
  { name: 'scalar slope', x: [2, 3, 4], slope: [1] },
  { name: 'rank-0 slope', x: [2, 3], slope: [] },
  { name: 'per channel [C, 1, 1]', x: [2, 3, 4, 5], slope: [3, 1, 1] },
  { name: 'per channel, constant slope', x: [1, 4, 3, 3], slope: [4, 1, 1], constant: true },
  { name: 'along the last axis', x: [2, 3, 5], slope: [5] },
  { name: 'full shape', x: [2, 3, 4], slope: [2, 3, 4] },
  { name: 'along two axes', x: [2, 3, 4, 5], slope: [3, 1, 5] },
  { name: 'opset 7', x: [2, 3, 4], slope: [3, 1], opset: 7 },
  { name: 'opset 9', x: [1, 3, 2, 2], slope: [3, 1, 1], opset: 9 },
].map(
  (spec, index): ConformanceCase => ({
    name: `PRelu ${spec.name}`,
    opType: 'PRelu',
    inputs: [randomFloat(spec.x, 850 + 2 * index, -3, 3), randomFloat(spec.slope, 851 + 2 * index, 0, 0.5)],
    ...(spec.opset !== undefined && { opset: spec.opset }),
    ...(spec.constant === true && { constantSlots: [1] }),
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Resize and Upsample

interface ResizeSpec {
  readonly name: string;
  readonly x: readonly number[];
  readonly scales?: readonly number[];
  readonly sizes?: readonly number[];
  readonly roi?: readonly number[];
  readonly attributes?: Record<string, AttributeInit>;
  readonly opset?: number;
  readonly dtype?: 'uint8';
  readonly tolerance?: Tolerance;
}

function floatTensor(values: readonly number[]) {
  return { dtype: 'float32' as const, shape: [values.length], data: Float32Array.from(values) };
}

function resizeCase(spec: ResizeSpec, seed: number): ConformanceCase {
  const opset = spec.opset ?? 13;
  const random = randomFloat(spec.x, seed, -2, 2);
  const x =
    spec.dtype === 'uint8'
      ? {
          dtype: 'uint8' as const,
          shape: random.shape,
          data: Uint8Array.from(random.data, (v) => (v + 2) * 60),
        }
      : random;
  const scales = spec.scales === undefined ? undefined : floatTensor(spec.scales);
  const sizes = spec.sizes === undefined ? undefined : int64Tensor(spec.sizes);
  // Opsets 11 and 12 need the roi and scales slots filled (empty when unused); 13 on may omit them.
  const roi = spec.roi !== undefined ? floatTensor(spec.roi) : opset < 13 ? floatTensor([]) : undefined;
  const inputs =
    opset < 11
      ? [x, scales]
      : [
          x,
          roi,
          scales ?? (opset < 13 ? floatTensor([]) : undefined),
          ...(sizes === undefined ? [] : [sizes]),
        ];
  return {
    name: `Resize ${spec.name}`,
    opType: 'Resize',
    opset,
    inputs,
    constantSlots: [1, 2, 3],
    ...(spec.attributes !== undefined && { attributes: spec.attributes }),
    ...(spec.tolerance !== undefined && { tolerance: spec.tolerance }),
  };
}

const nearestModeNames = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const coordinateModeNames = [
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
];

const resizeSpecs: ResizeSpec[] = [
  { name: 'nearest x2 defaults', x: [1, 2, 3, 4], scales: [1, 1, 2, 2] },
  ...nearestModeNames.flatMap((nearestMode) =>
    coordinateModeNames.flatMap((coordinateMode): ResizeSpec[] => [
      {
        name: `nearest ${nearestMode} ${coordinateMode} downsample 0.5 (ties)`,
        x: [1, 1, 8, 6],
        scales: [1, 1, 0.5, 0.5],
        attributes: {
          mode: 'nearest',
          nearest_mode: nearestMode,
          coordinate_transformation_mode: coordinateMode,
        },
      },
      {
        name: `nearest ${nearestMode} ${coordinateMode} to sizes [5, 7]`,
        x: [1, 2, 3, 4],
        sizes: [1, 2, 5, 7],
        attributes: {
          mode: 'nearest',
          nearest_mode: nearestMode,
          coordinate_transformation_mode: coordinateMode,
        },
      },
    ]),
  ),
  { name: 'nearest scales 1.5 and 0.6', x: [1, 2, 6, 5], scales: [1, 1, 1.5, 0.6] },
  {
    name: 'nearest x3 asymmetric floor (TF export)',
    x: [1, 2, 3, 3],
    scales: [1, 1, 3, 3],
    attributes: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
  },
  { name: 'nearest on the batch and channel axes too', x: [2, 3, 2, 2], scales: [1.5, 2, 1, 1] },
  { name: 'nearest on uint8', x: [1, 2, 3, 4], scales: [1, 1, 2, 1.5], dtype: 'uint8' },
  { name: 'nearest on 3-D', x: [2, 3, 4], sizes: [2, 3, 9] },
  {
    name: 'nearest half_pixel_symmetric (opset 19)',
    x: [1, 1, 5, 4],
    scales: [1, 1, 1.7, 0.6],
    attributes: { coordinate_transformation_mode: 'half_pixel_symmetric' },
    opset: 19,
  },
  {
    name: 'nearest tf_crop_and_resize with extrapolation',
    x: [1, 1, 6, 6],
    sizes: [1, 1, 4, 5],
    roi: [0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2],
    attributes: { coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 7.5 },
  },
  { name: 'nearest opset 11 (empty roi and scales slots)', x: [1, 2, 3, 4], sizes: [1, 2, 6, 5], opset: 11 },
  { name: 'nearest opset 11 scales', x: [1, 2, 3, 4], scales: [1, 1, 2, 2], opset: 11 },
  { name: 'nearest opset 10 upsample (asymmetric)', x: [1, 2, 3, 4], scales: [1, 1, 2, 2.5], opset: 10 },
  { name: 'nearest opset 10 downsample', x: [1, 2, 8, 7], scales: [1, 1, 0.5, 0.6], opset: 10 },
  {
    name: 'nearest opset 18 axes [2, 3] sizes',
    x: [1, 2, 3, 4],
    sizes: [6, 7],
    attributes: { axes: [2, 3] },
    opset: 18,
  },
  {
    name: 'nearest opset 18 axes scales',
    x: [1, 2, 3, 4],
    scales: [2, 1.5],
    attributes: { axes: [2, 3] },
    opset: 18,
  },
  {
    name: 'nearest opset 18 keep_aspect_ratio_policy not_larger',
    x: [1, 1, 4, 6],
    sizes: [8, 9],
    attributes: { axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' },
    opset: 18,
  },
  {
    name: 'nearest opset 18 keep_aspect_ratio_policy not_smaller',
    x: [1, 1, 4, 6],
    sizes: [8, 9],
    attributes: { axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' },
    opset: 18,
  },
  { name: 'linear x2 half_pixel', x: [1, 2, 4, 5], scales: [1, 1, 2, 2], attributes: { mode: 'linear' } },
  {
    name: 'linear downsample 0.5 half_pixel',
    x: [1, 2, 8, 6],
    scales: [1, 1, 0.5, 0.5],
    attributes: { mode: 'linear' },
  },
  ...coordinateModeNames.map(
    (coordinateMode): ResizeSpec => ({
      name: `linear ${coordinateMode} to sizes [7, 3]`,
      x: [1, 2, 4, 5],
      sizes: [1, 2, 7, 3],
      attributes: { mode: 'linear', coordinate_transformation_mode: coordinateMode },
    }),
  ),
  {
    name: 'linear pytorch_half_pixel to one row',
    x: [1, 1, 4, 5],
    sizes: [1, 1, 1, 8],
    attributes: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' },
  },
  {
    name: 'linear align_corners to one column',
    x: [1, 1, 4, 5],
    sizes: [1, 1, 6, 1],
    attributes: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
  },
  { name: 'linear 1-D on the last axis', x: [2, 3, 5], scales: [1, 1, 2.5], attributes: { mode: 'linear' } },
  {
    name: 'linear half_pixel_symmetric (opset 19)',
    x: [1, 1, 5, 4],
    scales: [1, 1, 1.7, 0.6],
    attributes: { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' },
    opset: 19,
  },
  {
    name: 'linear tf_crop_and_resize with extrapolation',
    x: [1, 1, 6, 6],
    sizes: [1, 1, 4, 5],
    roi: [0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2],
    attributes: {
      mode: 'linear',
      coordinate_transformation_mode: 'tf_crop_and_resize',
      extrapolation_value: float(-3),
    },
  },
  {
    name: 'linear opset 10',
    x: [1, 2, 3, 4],
    scales: [1, 1, 2, 2],
    attributes: { mode: 'linear' },
    opset: 10,
  },
  {
    name: 'linear opset 11 align_corners',
    x: [1, 2, 3, 4],
    sizes: [1, 2, 5, 7],
    attributes: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    opset: 11,
  },
  {
    name: 'linear opset 18 axes [2, 3]',
    x: [2, 3, 4, 5],
    sizes: [6, 4],
    attributes: { mode: 'linear', axes: [2, 3] },
    opset: 18,
  },
  {
    name: 'linear x2 on 40x30 (a detector neck)',
    x: [1, 8, 40, 30],
    scales: [1, 1, 2, 2],
    attributes: { mode: 'linear' },
  },
  { name: 'cubic x2 half_pixel', x: [1, 2, 4, 5], scales: [1, 1, 2, 2], attributes: { mode: 'cubic' } },
  { name: 'cubic downsample to sizes', x: [1, 1, 8, 9], sizes: [1, 1, 5, 4], attributes: { mode: 'cubic' } },
  {
    name: 'cubic align_corners',
    x: [1, 2, 4, 4],
    sizes: [1, 2, 7, 6],
    attributes: { mode: 'cubic', coordinate_transformation_mode: 'align_corners' },
  },
  {
    name: 'cubic asymmetric cubic_coeff_a -0.5',
    x: [1, 2, 4, 4],
    scales: [1, 1, 1.5, 2],
    attributes: { mode: 'cubic', coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: -0.5 },
  },
  {
    name: 'cubic exclude_outside',
    x: [1, 2, 5, 4],
    scales: [1, 1, 2, 2],
    attributes: { mode: 'cubic', exclude_outside: 1 },
  },
  {
    name: 'cubic pytorch_half_pixel exclude_outside downsample',
    x: [1, 1, 9, 8],
    sizes: [1, 1, 4, 3],
    attributes: { mode: 'cubic', coordinate_transformation_mode: 'pytorch_half_pixel', exclude_outside: 1 },
  },
];

const upsampleCases: ConformanceCase[] = (
  [
    {
      name: 'opset 7 nearest scales attribute',
      opset: 7,
      inputs: [randomFloat([1, 2, 3, 4], 950)],
      attributes: { scales: { type: 'floats', value: [1, 1, 2, 3] } },
    },
    {
      name: 'opset 7 linear',
      opset: 7,
      inputs: [randomFloat([1, 2, 3, 4], 951)],
      attributes: { mode: 'linear', scales: { type: 'floats', value: [1, 1, 2, 2] } },
    },
    {
      name: 'opset 9 nearest scales input',
      opset: 9,
      inputs: [randomFloat([1, 2, 3, 4], 952), floatTensor([1, 1, 2, 2])],
      constantSlots: [1],
    },
    {
      name: 'opset 9 linear x1.5',
      opset: 9,
      inputs: [randomFloat([1, 2, 4, 4], 953), floatTensor([1, 1, 1.5, 1.5])],
      attributes: { mode: 'linear' },
      constantSlots: [1],
    },
  ] as Omit<ConformanceCase, 'opType'>[]
).map((spec) => ({ ...spec, name: `Upsample ${spec.name}`, opType: 'Upsample' }));

const resizeCases = [...resizeSpecs.map((spec, index) => resizeCase(spec, 900 + index)), ...upsampleCases];

// ---------------------------------------------------------------------------------------------------------------
// LSTM, GRU, RNN

interface RecurrentSpec {
  readonly name: string;
  readonly sequence: number;
  readonly batch: number;
  readonly input: number;
  readonly hidden: number;
  readonly direction?: 'forward' | 'reverse' | 'bidirectional';
  readonly bias?: boolean;
  readonly lengths?: readonly number[];
  readonly initialH?: boolean;
  readonly initialC?: boolean;
  readonly peepholes?: boolean;
  readonly layout?: 0 | 1;
  readonly outputs?: number;
  readonly attributes?: Record<string, AttributeInit>;
  readonly constant?: boolean;
  readonly tolerance?: Tolerance;
}

const gateCount: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };

function recurrentCase(opType: 'LSTM' | 'GRU' | 'RNN', spec: RecurrentSpec, seed: number): ConformanceCase {
  const directions = spec.direction === 'bidirectional' ? 2 : 1;
  const gates = gateCount[opType]!;
  const { sequence, batch, input, hidden } = spec;
  const batchFirst = spec.layout === 1;
  const stateShape = batchFirst ? [batch, directions, hidden] : [directions, batch, hidden];
  const inputs = [
    randomFloat(batchFirst ? [batch, sequence, input] : [sequence, batch, input], seed, -2, 2),
    randomFloat([directions, gates * hidden, input], seed + 1, -0.6, 0.6),
    randomFloat([directions, gates * hidden, hidden], seed + 2, -0.6, 0.6),
    spec.bias === true ? randomFloat([directions, 2 * gates * hidden], seed + 3, -0.5, 0.5) : undefined,
    spec.lengths === undefined
      ? undefined
      : { dtype: 'int32' as const, shape: [batch], data: Int32Array.from(spec.lengths) },
    spec.initialH === true ? randomFloat(stateShape, seed + 4) : undefined,
    ...(opType === 'LSTM'
      ? [
          spec.initialC === true ? randomFloat(stateShape, seed + 5) : undefined,
          spec.peepholes === true ? randomFloat([directions, 3 * hidden], seed + 6, -0.5, 0.5) : undefined,
        ]
      : []),
  ];
  while (inputs.length > 0 && inputs[inputs.length - 1] === undefined) inputs.pop();
  return {
    name: `${opType} ${spec.name}`,
    opType,
    inputs,
    attributes: {
      hidden_size: hidden,
      ...(spec.direction !== undefined && { direction: spec.direction }),
      ...(spec.layout !== undefined && { layout: spec.layout }),
      ...spec.attributes,
    },
    ...(spec.outputs !== undefined && { outputs: spec.outputs }),
    ...(spec.constant === true && { constantSlots: [1, 2, 3] }),
    // onnxruntime's recurrent kernels use MLAS's approximated logistic and tanh (errors near 1e-6) over steps.
    tolerance: spec.tolerance ?? { abs: 2e-5, rel: 1e-4 },
  };
}

const lstmSpecs: RecurrentSpec[] = [
  { name: 'forward, Y only', sequence: 4, batch: 2, input: 3, hidden: 5 },
  { name: 'forward with B, Y and Y_h', sequence: 5, batch: 3, input: 4, hidden: 3, bias: true, outputs: 2 },
  {
    name: 'forward with every input and output',
    sequence: 4,
    batch: 2,
    input: 3,
    hidden: 4,
    bias: true,
    lengths: [4, 4],
    initialH: true,
    initialC: true,
    peepholes: true,
    outputs: 3,
  },
  {
    name: 'reverse with initial states',
    sequence: 5,
    batch: 2,
    input: 3,
    hidden: 4,
    direction: 'reverse',
    bias: true,
    initialH: true,
    initialC: true,
    outputs: 3,
  },
  {
    name: 'bidirectional with peepholes',
    sequence: 4,
    batch: 3,
    input: 2,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    initialH: true,
    initialC: true,
    peepholes: true,
    outputs: 3,
  },
  {
    name: 'sequence_lens [3, 1, 4] forward',
    sequence: 4,
    batch: 3,
    input: 3,
    hidden: 2,
    bias: true,
    lengths: [3, 1, 4],
    outputs: 3,
  },
  {
    name: 'sequence_lens [2, 4, 3] bidirectional',
    sequence: 4,
    batch: 3,
    input: 3,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    lengths: [2, 4, 3],
    initialH: true,
    initialC: true,
    outputs: 3,
  },
  {
    name: 'clip 0.5 with peepholes',
    sequence: 4,
    batch: 2,
    input: 3,
    hidden: 3,
    bias: true,
    peepholes: true,
    outputs: 3,
    attributes: { clip: 0.5 },
  },
  {
    name: 'input_forget',
    sequence: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    bias: true,
    outputs: 3,
    attributes: { input_forget: 1 },
  },
  {
    name: 'activations HardSigmoid, LeakyRelu, Softsign with alphas and betas',
    sequence: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    bias: true,
    outputs: 3,
    attributes: {
      activations: ['HardSigmoid', 'LeakyRelu', 'Softsign'],
      activation_alpha: [0.3, 0.1],
      activation_beta: [0.4],
    },
  },
  {
    name: 'bidirectional activations Sigmoid, Relu, Tanh / Sigmoid, ScaledTanh, Elu',
    sequence: 3,
    batch: 1,
    input: 2,
    hidden: 3,
    direction: 'bidirectional',
    outputs: 3,
    attributes: {
      activations: ['Sigmoid', 'Relu', 'Tanh', 'Sigmoid', 'ScaledTanh', 'Elu'],
      activation_alpha: [0.8, 0.9],
      activation_beta: [1.2],
    },
  },
  {
    name: 'constant W, R and B',
    sequence: 3,
    batch: 2,
    input: 4,
    hidden: 3,
    bias: true,
    constant: true,
    outputs: 3,
  },
  { name: 'one step, batch 1', sequence: 1, batch: 1, input: 2, hidden: 2, outputs: 3 },
  {
    name: 'seq 12 input 16 hidden 32 (sums of 48 products per step)',
    sequence: 12,
    batch: 2,
    input: 16,
    hidden: 32,
    bias: true,
    constant: true,
    outputs: 3,
    tolerance: longSums,
  },
];

const gruSpecs: RecurrentSpec[] = [
  { name: 'forward, Y and Y_h', sequence: 4, batch: 2, input: 3, hidden: 4, outputs: 2 },
  {
    name: 'forward with B and initial_h',
    sequence: 4,
    batch: 2,
    input: 3,
    hidden: 4,
    bias: true,
    initialH: true,
    outputs: 2,
  },
  {
    name: 'linear_before_reset with B',
    sequence: 4,
    batch: 2,
    input: 3,
    hidden: 4,
    bias: true,
    initialH: true,
    outputs: 2,
    attributes: { linear_before_reset: 1 },
  },
  {
    name: 'reverse',
    sequence: 5,
    batch: 2,
    input: 3,
    hidden: 3,
    direction: 'reverse',
    bias: true,
    outputs: 2,
  },
  {
    name: 'bidirectional',
    sequence: 4,
    batch: 3,
    input: 2,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    initialH: true,
    outputs: 2,
  },
  {
    name: 'bidirectional linear_before_reset sequence_lens [4, 2]',
    sequence: 4,
    batch: 2,
    input: 3,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    lengths: [4, 2],
    outputs: 2,
    attributes: { linear_before_reset: 1 },
  },
  {
    name: 'clip 0.3',
    sequence: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    bias: true,
    outputs: 2,
    attributes: { clip: 0.3 },
  },
  {
    name: 'activations HardSigmoid, Softplus',
    sequence: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    bias: true,
    outputs: 2,
    attributes: {
      activations: ['HardSigmoid', 'Softplus'],
      activation_alpha: [0.25],
      activation_beta: [0.45],
    },
  },
  {
    name: 'Y only, constant weights',
    sequence: 3,
    batch: 1,
    input: 5,
    hidden: 4,
    bias: true,
    constant: true,
  },
];

const rnnSpecs: RecurrentSpec[] = [
  { name: 'forward, Y and Y_h', sequence: 4, batch: 2, input: 3, hidden: 4, outputs: 2 },
  {
    name: 'bidirectional with B and initial_h',
    sequence: 4,
    batch: 2,
    input: 3,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    initialH: true,
    outputs: 2,
  },
  {
    name: 'reverse Relu',
    sequence: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    direction: 'reverse',
    bias: true,
    outputs: 2,
    attributes: { activations: ['Relu'] },
  },
  {
    name: 'sequence_lens [1, 3]',
    sequence: 3,
    batch: 2,
    input: 2,
    hidden: 3,
    bias: true,
    lengths: [1, 3],
    outputs: 2,
  },
];

const recurrentCases = [
  ...lstmSpecs.map((spec, index) => recurrentCase('LSTM', spec, 1000 + 10 * index)),
  ...gruSpecs.map((spec, index) => recurrentCase('GRU', spec, 1200 + 10 * index)),
  ...rnnSpecs.map((spec, index) => recurrentCase('RNN', spec, 1400 + 10 * index)),
];

// ---------------------------------------------------------------------------------------------------------------
// Empty tensors and float64

function float64(shape: readonly number[], seed: number, low = -1, high = 1) {
  const values = randomFloat(shape, seed, low, high);
  return { dtype: 'float64' as const, shape: values.shape, data: Float64Array.from(values.data) };
}

const edgeCases: ConformanceCase[] = [
  {
    name: 'MaxPool empty batch',
    opType: 'MaxPool',
    inputs: [randomFloat([0, 2, 4, 4], 1)],
    attributes: { kernel_shape: [2, 2] },
  },
  {
    name: 'AveragePool empty batch',
    opType: 'AveragePool',
    inputs: [randomFloat([0, 3, 4, 4], 1)],
    attributes: { kernel_shape: [2, 2] },
  },
  {
    name: 'GlobalAveragePool empty batch',
    opType: 'GlobalAveragePool',
    inputs: [randomFloat([0, 3, 2, 2], 1)],
  },
  { name: 'Softmax empty leading axis', opType: 'Softmax', inputs: [randomFloat([0, 4], 1)] },
  {
    name: 'LogSoftmax opset 11 empty leading axis',
    opType: 'LogSoftmax',
    opset: 11,
    inputs: [randomFloat([0, 3, 2], 1)],
  },
  {
    name: 'LayerNormalization no rows',
    opType: 'LayerNormalization',
    inputs: [randomFloat([0, 4], 1), randomFloat([4], 2), randomFloat([4], 3)],
  },
  {
    name: 'BatchNormalization empty batch',
    opType: 'BatchNormalization',
    inputs: [
      randomFloat([0, 2, 3], 1),
      randomFloat([2], 2),
      randomFloat([2], 3),
      randomFloat([2], 4),
      randomFloat([2], 5, 0.5, 1),
    ],
  },
  { name: 'PRelu empty', opType: 'PRelu', inputs: [randomFloat([2, 0, 3], 1), randomFloat([3], 2)] },
  {
    name: 'Resize nearest of an empty batch',
    opType: 'Resize',
    inputs: [randomFloat([0, 2, 3, 3], 1), undefined, undefined, int64Tensor([0, 2, 6, 6])],
    constantSlots: [3],
  },
  { name: 'Softmax on float64', opType: 'Softmax', inputs: [float64([3, 5], 1, -5, 5)] },
  { name: 'LogSoftmax on float64', opType: 'LogSoftmax', inputs: [float64([3, 5], 2, -5, 5)] },
  {
    name: 'Gemm on float64 (computed in float32)',
    opType: 'Gemm',
    inputs: [float64([3, 8], 3), float64([8, 4], 4), float64([4], 5)],
    tolerance: { abs: 1e-5, rel: 1e-5 },
  },
  {
    name: 'MaxPool on float64',
    opType: 'MaxPool',
    inputs: [float64([1, 2, 5, 5], 6)],
    attributes: { kernel_shape: [3, 3], strides: [2, 2] },
  },
  {
    name: 'BatchNormalization on float64',
    opType: 'BatchNormalization',
    inputs: [
      float64([2, 2, 3], 8),
      float64([2], 9),
      float64([2], 10),
      float64([2], 11),
      float64([2], 12, 0.5, 1),
    ],
  },
];

export const nnCases: readonly ConformanceCase[] = [
  ...convCases,
  ...convTransposeCases,
  ...gemmCases,
  ...poolCases,
  ...normalizationCases,
  ...softmaxCases,
  ...preluCases,
  ...resizeCases,
  ...recurrentCases,
  ...edgeCases,
];

export { int64Tensor };
