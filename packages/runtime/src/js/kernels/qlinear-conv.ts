import { type KernelNode, QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';
import { integerGemm, rowSums } from './integer-gemm.js';
import { type ConvAttributes, type ConvGeometry, convGeometry, readConvAttributes } from './conv-geometry.js';
import { patchOffsets } from './window-geometry.js';
import {
  type Code8Array,
  type CodeArray,
  codeRange,
  codes8,
  requantize,
  scaleOf,
  scalesOf,
  zeroPointOf,
} from './quantized-values.js';

interface ConvState {
  readonly attributes: ConvAttributes;
  /** Row sums of a constant weight, one per output channel. */
  readonly weightRowSums: Int32Array | undefined;
  /** The im2col table of the last input shape (shapes rarely change between runs). */
  cached?: { readonly key: string; readonly geometry: ConvGeometry; readonly table: Int32Array };
}

function prepareConv(node: KernelNode, weightSlot: number): ConvState {
  const weight = node.inputs[weightSlot]?.constant;
  let weightRowSums: Int32Array | undefined;
  if (
    weight !== undefined &&
    (weight.dtype === 'uint8' || weight.dtype === 'int8') &&
    weight.shape.length >= 1
  ) {
    const channels = weight.shape[0]!;
    weightRowSums = rowSums(
      weight.data as Code8Array,
      channels,
      channels === 0 ? 0 : weight.data.length / channels,
    );
  }
  return { attributes: readConvAttributes(node), weightRowSums };
}

/** What an integer convolution computed: called once per (image, group) with [channels of the group, P]. */
type ConvBlockVisitor = (image: number, group: number, accumulators: Int32Array) => void;

/**
 * The integer convolution both QLinearConv and ConvInteger run: for each image and group, the patches of X
 * gathered into a [kernelDim, P] matrix (padding filled with the X zero point, so it contributes nothing) and
 * multiplied by the group's weights [channels, kernelDim] with {@link integerGemm}.
 * @returns the output shape [N, M, ...spatial].
 * @throws QuantError INVALID_MODEL when X, W and group do not fit together.
 */
function integerConvolution(
  state: ConvState,
  x: Tensor,
  xZero: number,
  w: Tensor,
  wZeros: Int32Array,
  visit: ConvBlockVisitor,
): number[] {
  const xCodes = codes8(x, 'x');
  const wCodes = codes8(w, 'w');
  const key = `${x.shape.join()}|${w.shape.join()}`;
  if (state.cached?.key !== key) {
    const geometry = convGeometry(state.attributes, x.shape, w.shape);
    state.cached = { key, geometry, table: patchOffsets(geometry.window) };
  }
  const { geometry, table } = state.cached;
  const {
    batch: images,
    channels,
    outChannels: outputChannels,
    group,
    groupChannels,
    groupOutputs,
  } = geometry;
  if (wZeros.length !== 1 && wZeros.length !== outputChannels) {
    throw new QuantError(
      'INVALID_MODEL',
      `w_zero_point has ${wZeros.length} values for ${outputChannels} channels`,
    );
  }
  const { kernelSize, outSize: positions } = geometry;
  const kernelDim = groupChannels * kernelSize;
  const imageSize = sizeOf(geometry.window.input);
  const patches = new (xCodes.constructor as Uint8ArrayConstructor | Int8ArrayConstructor)(
    kernelDim * positions,
  );
  const accumulators = new Int32Array(groupOutputs * positions);
  const weightRowSums = state.weightRowSums ?? rowSums(wCodes, outputChannels, kernelDim);
  const xZeros = [xZero];
  for (let image = 0; image < images; image++) {
    for (let g = 0; g < group; g++) {
      for (let c = 0; c < groupChannels; c++) {
        const source = (image * channels + g * groupChannels + c) * imageSize;
        for (let kk = 0; kk < kernelSize; kk++) {
          const row = (c * kernelSize + kk) * positions;
          const offsets = kk * positions;
          for (let p = 0; p < positions; p++) {
            const offset = table[offsets + p]!;
            patches[row + p] = offset < 0 ? xZero : xCodes[source + offset]!;
          }
        }
      }
      const firstOutput = g * groupOutputs;
      integerGemm(
        wCodes.subarray(firstOutput * kernelDim, (firstOutput + groupOutputs) * kernelDim),
        wZeros.length === 1 ? wZeros : wZeros.subarray(firstOutput, firstOutput + groupOutputs),
        patches,
        xZeros,
        groupOutputs,
        kernelDim,
        positions,
        accumulators,
        weightRowSums.subarray(firstOutput, firstOutput + groupOutputs),
      );
      visit(image, g, accumulators);
    }
  }
  return [...geometry.outShape];
}

/** Output shape of a convolution before running it: [N, M, ...spatial]. */
function outputSize(shape: readonly number[]): number {
  return sizeOf(shape);
}

/**
 * QLinearConv: an integer convolution of X (per tensor) by W (per tensor or per output channel, zero points
 * included), an optional int32 bias at scale x_scale * w_scale added to the accumulator, requantized to
 * y_zero_point's type as onnxruntime does. Conv's attributes: auto_pad, dilations, group (depthwise included),
 * kernel_shape, pads, strides; any spatial rank.
 */
const qLinearConv = jsKernel('QLinearConv', {
  opsets: { min: 10 },
  prepare: (node) => prepareConv(node, 3),
  run: (state, inputs) => {
    const [x, xScaleInput, xZeroInput, w, wScaleInput, wZeroInput, yScaleInput, yZeroInput, biasInput] =
      inputs;
    const input = required(x, 'x');
    const weight = required(w, 'w');
    const yZero = required(yZeroInput, 'y_zero_point');
    const xScale = scaleOf(required(xScaleInput, 'x_scale'), 'x_scale');
    const yScale = scaleOf(required(yScaleInput, 'y_scale'), 'y_scale');
    const xZero = zeroPointOf(required(xZeroInput, 'x_zero_point'), 'x_zero_point');
    const wScales = scalesOf(required(wScaleInput, 'w_scale'), 'w_scale');
    const wZeros = Int32Array.from(required(wZeroInput, 'w_zero_point').data as ArrayLike<number>);
    const outputChannels = weight.shape[0]!;
    if (wScales.length !== 1 && wScales.length !== outputChannels) {
      throw new QuantError(
        'INVALID_MODEL',
        `w_scale has ${wScales.length} values for ${outputChannels} channels`,
      );
    }
    const scales = Float32Array.from(wScales, (scale) => Math.fround(Math.fround(xScale * scale) / yScale));
    let bias: Int32Array | undefined;
    if (biasInput !== undefined) {
      if (biasInput.dtype !== 'int32' || biasInput.data.length !== outputChannels) {
        throw new QuantError(
          'INVALID_MODEL',
          `B must be int32 with one value per output channel (${outputChannels})`,
        );
      }
      bias = biasInput.data as Int32Array;
    }
    const { qmin, qmax } = codeRange(yZero.dtype);
    const yZeroPoint = zeroPointOf(yZero, 'y_zero_point');
    const groupOutputs = outputChannels / state.attributes.group;
    let out: CodeArray | undefined;
    let positions = 0;
    const shape = integerConvolution(state, input, xZero, weight, wZeros, (image, g, accumulators) => {
      if (out === undefined) {
        positions = accumulators.length / groupOutputs;
        out = allocate(yZero.dtype, input.shape[0]! * outputChannels * positions) as CodeArray;
      }
      const first = g * groupOutputs;
      requantize(
        accumulators,
        groupOutputs,
        positions,
        scales.length === 1 ? scales : scales.subarray(first, first + groupOutputs),
        bias?.subarray(first, first + groupOutputs),
        true,
        yZeroPoint,
        qmin,
        qmax,
        out,
        (image * outputChannels + first) * positions,
      );
    });
    return [tensorOf(yZero.dtype, shape, out ?? allocate(yZero.dtype, outputSize(shape)))];
  },
});

/**
 * ConvInteger: the int32 convolution of (x - x_zero_point) by (w - w_zero_point), per tensor or with one weight
 * zero point per output channel; Conv's attributes.
 */
const convInteger = jsKernel('ConvInteger', {
  opsets: { min: 10 },
  prepare: (node) => prepareConv(node, 1),
  run: (state, [x, w, xZeroInput, wZeroInput]) => {
    const input = required(x, 'x');
    const weight = required(w, 'w');
    const xZero = zeroPointOf(xZeroInput, 'x_zero_point');
    const wZeros =
      wZeroInput === undefined ? new Int32Array(1) : Int32Array.from(wZeroInput.data as ArrayLike<number>);
    const outputChannels = weight.shape[0]!;
    const groupOutputs = outputChannels / state.attributes.group;
    let out: Int32Array | undefined;
    const shape = integerConvolution(state, input, xZero, weight, wZeros, (image, g, accumulators) => {
      const positions = accumulators.length / groupOutputs;
      out ??= new Int32Array(input.shape[0]! * outputChannels * positions);
      out.set(accumulators, (image * outputChannels + g * groupOutputs) * positions);
    });
    return [tensorOf('int32', shape, out ?? new Int32Array(outputSize(shape)))];
  },
});

export const qLinearConvKernels = [qLinearConv, convInteger];
