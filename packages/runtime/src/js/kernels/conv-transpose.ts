import { QuantError, type Tensor } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, required } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';
import { gemmBlockedFloat32, transposeFloat32 } from './float-gemm.js';
import { type WindowAttributes, asThreeAxes, readWindowAttributes, spatialShape } from './window-geometry.js';

interface ConvTransposeState {
  readonly window: WindowAttributes;
  readonly group: number;
  readonly outputPadding: readonly number[] | undefined;
  readonly outputShape: readonly number[] | undefined;
  /** Per group, the weight's [C/group, M/group * kernel] block transposed, when W is an initializer. */
  readonly packed: Float32Array[] | undefined;
}

/** Per group, W's [C/group, M/group * kernel] block transposed to [M/group * kernel, C/group]. */
function packWeight(weight: Tensor, group: number): Float32Array[] {
  const data = float32Data(weight, 'W');
  const channels = weight.shape[0]!;
  const groupChannels = channels / group;
  const rows = data.length / channels;
  return Array.from({ length: group }, (_, g) =>
    transposeFloat32(
      data.subarray(g * groupChannels * rows, (g + 1) * groupChannels * rows),
      groupChannels,
      rows,
    ),
  );
}

/**
 * ConvTranspose over 1 to 3 spatial axes with groups, strides, dilations, pads, output_padding, output_shape and
 * auto_pad. Per image and group the weight (transposed once, in prepare when it is an initializer) times the input
 * gives each input position's contribution to every kernel tap, which is then added into the output (col2im).
 */
export const convTransposeKernel = jsKernel('ConvTranspose', {
  prepare: (node): ConvTransposeState => {
    const group = node.attributes.int('group', 1);
    const constant = node.inputs[1]?.constant;
    const attributes = node.attributes;
    return {
      window: readWindowAttributes(node),
      group,
      outputPadding: attributes.has('output_padding') ? attributes.ints('output_padding') : undefined,
      outputShape: attributes.has('output_shape') ? attributes.ints('output_shape') : undefined,
      packed:
        constant !== undefined && constant.shape.length >= 3 && constant.shape[0]! % group === 0
          ? packWeight(constant, group)
          : undefined,
    };
  },
  run: (state, [xInput, wInput, bInput]) => {
    const x = required(xInput, 'X');
    const w = required(wInput, 'W');
    const inputSpatial = spatialShape(x, 'X');
    const batch = x.shape[0]!;
    const channels = x.shape[1]!;
    const { group } = state;
    if (w.shape.length !== x.shape.length || w.shape[0] !== channels || channels % group !== 0) {
      throw new QuantError(
        'INVALID_MODEL',
        `X is [${x.shape.join(', ')}] and W [${w.shape.join(', ')}]; W must be [C, M / group, ...kernel] with C a multiple of group ${group}`,
      );
    }
    const groupOut = w.shape[1]!;
    const outChannels = groupOut * group;
    const kernel = w.shape.slice(2);
    const geometry = transposeGeometry(state, inputSpatial, kernel);
    const output = geometry.output;
    const outSize = output.reduce((a, b) => a * b, 1);
    const out = new Float32Array(batch * outChannels * outSize);
    if (bInput !== undefined) {
      const bias = float32Data(bInput, 'B');
      if (bias.length !== outChannels) {
        throw new QuantError('INVALID_MODEL', `B has ${bias.length} values; expected ${outChannels}`);
      }
      for (let m = 0; m < batch * outChannels; m++) {
        out.fill(bias[m % outChannels]!, m * outSize, (m + 1) * outSize);
      }
    }
    const data = float32Data(x, 'X');
    const packed = state.packed ?? packWeight(w, group);
    const [inD, inH, inW] = asThreeAxes(inputSpatial, 1);
    const [outD, outH, outW] = asThreeAxes(output, 1);
    const [kD, kH, kW] = asThreeAxes(kernel, 1);
    const [sD, sH, sW] = asThreeAxes(geometry.strides, 1);
    const [dD, dH, dW] = asThreeAxes(geometry.dilations, 1);
    const [pD, pH, pW] = asThreeAxes(geometry.padBegin, 0);
    const inSize = inD * inH * inW;
    const groupChannels = channels / group;
    const rows = groupOut * kD * kH * kW;
    const columns = new Float32Array(rows * inSize);
    // For each kernel offset along the width, the input columns whose output column lies inside the output.
    const firstW = new Int32Array(kW);
    const lastW = new Int32Array(kW);
    for (let kw = 0; kw < kW; kw++) {
      const shift = kw * dW - pW;
      firstW[kw] = Math.min(inW, Math.max(0, Math.ceil(-shift / sW)));
      lastW[kw] = Math.max(firstW[kw]!, Math.min(inW, Math.floor((outW - 1 - shift) / sW) + 1));
    }
    for (let n = 0; n < batch && outSize > 0; n++) {
      for (let g = 0; g < group; g++) {
        columns.fill(0);
        const source = (n * channels + g * groupChannels) * inSize;
        gemmBlockedFloat32(packed[g]!, 0, data, source, columns, 0, rows, groupChannels, inSize);
        let row = 0;
        for (let m = 0; m < groupOut; m++) {
          const target = (n * outChannels + g * groupOut + m) * outSize;
          for (let kd = 0; kd < kD; kd++) {
            for (let kh = 0; kh < kH; kh++) {
              for (let kw = 0; kw < kW; kw++, row++) {
                const first = firstW[kw]!;
                const last = lastW[kw]!;
                const shiftW = kw * dW - pW;
                for (let id = 0; id < inD; id++) {
                  const od = id * sD - pD + kd * dD;
                  if (od < 0 || od >= outD) continue;
                  for (let ih = 0; ih < inH; ih++) {
                    const oh = ih * sH - pH + kh * dH;
                    if (oh < 0 || oh >= outH) continue;
                    const from = row * inSize + (id * inH + ih) * inW;
                    const to = target + (od * outH + oh) * outW + shiftW;
                    for (let iw = first; iw < last; iw++)
                      out[to + iw * sW] = out[to + iw * sW]! + columns[from + iw]!;
                  }
                }
              }
            }
          }
        }
      }
    }
    return [floatOutput(x.dtype, [batch, outChannels, ...output], out)];
  },
});

/**
 * The output size and leading pads of a ConvTranspose: from output_shape or auto_pad SAME (output = input *
 * stride), the pads split from the total with the odd one at the end for SAME_UPPER and at the start otherwise (the
 * spec's rule, which onnxruntime follows); or from pads.
 */
function transposeGeometry(state: ConvTransposeState, input: readonly number[], kernel: readonly number[]) {
  const rank = input.length;
  const { window } = state;
  const strides = window.strides ?? new Array<number>(rank).fill(1);
  const dilations = window.dilations ?? new Array<number>(rank).fill(1);
  const outputPadding = state.outputPadding ?? new Array<number>(rank).fill(0);
  const pads = window.pads ?? new Array<number>(2 * rank).fill(0);
  const declared = window.kernelShape;
  if (declared !== undefined && declared.join() !== kernel.join()) {
    throw new QuantError(
      'INVALID_MODEL',
      `kernel_shape [${declared.join(', ')}] differs from W's spatial shape [${kernel.join(', ')}]`,
    );
  }
  for (const [name, values, length] of [
    ['strides', strides, rank],
    ['dilations', dilations, rank],
    ['output_padding', outputPadding, rank],
    ['pads', pads, 2 * rank],
  ] as const) {
    if (values.length !== length) {
      throw new QuantError('INVALID_MODEL', `${name} has ${values.length} values; expected ${length}`);
    }
  }
  // output_shape may list the spatial sizes only or, as some exporters write, N and C too.
  const requested = state.outputShape === undefined ? undefined : state.outputShape.slice(-rank);
  const output: number[] = [];
  const padBegin: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const full =
      strides[axis]! * (input[axis]! - 1) + outputPadding[axis]! + (kernel[axis]! - 1) * dilations[axis]! + 1;
    if (requested !== undefined || window.autoPad === 'SAME_UPPER' || window.autoPad === 'SAME_LOWER') {
      const size = requested?.[axis] ?? input[axis]! * strides[axis]!;
      const total = full - size;
      output.push(size);
      padBegin.push(window.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2));
    } else if (window.autoPad === 'VALID') {
      output.push(full);
      padBegin.push(0);
    } else {
      output.push(full - pads[axis]! - pads[axis + rank]!);
      padBegin.push(pads[axis]!);
    }
  }
  if (output.some((size) => size < 0)) {
    throw new QuantError('INVALID_MODEL', `the output would be [${output.join(', ')}]`);
  }
  return { output, strides, dilations, padBegin };
}
