import { QuantError } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, required } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';
import { gemmBlockedFloat32 } from './float-gemm.js';
import { type ConvAttributes, convGeometry, readConvAttributes } from './conv-geometry.js';
import { type WindowGeometry, asThreeAxes, spatialShape, validRanges } from './window-geometry.js';

interface ConvState {
  readonly attributes: ConvAttributes;
  /** The weight as float32, converted once when it is an initializer. */
  readonly weight: Float32Array | undefined;
}

/**
 * Conv over 1 to 3 spatial axes with groups, pads or auto_pad, strides and dilations. A convolution where each
 * output channel reads one input channel (depthwise) runs as direct loops (3x3 kernels unrolled); any other runs
 * per group as im2col (the input patches as a [C/group * kernel, output positions] matrix, built per image and
 * group into one buffer) times the weight, and a 1x1 convolution without stride or pads multiplies the input
 * itself. The products use {@link gemmBlockedFloat32}, in register blocks.
 */
export const convKernel = jsKernel('Conv', {
  prepare: (node): ConvState => {
    const constant = node.inputs[1]?.constant;
    return {
      attributes: readConvAttributes(node),
      weight: constant === undefined ? undefined : float32Data(constant, 'W'),
    };
  },
  run: (state, [xInput, wInput, bInput]) => {
    const x = required(xInput, 'X');
    const w = required(wInput, 'W');
    spatialShape(x, 'X');
    const shape = convGeometry(state.attributes, x.shape, w.shape);
    const { batch, channels, outChannels, group, groupChannels, outSize, window: geometry } = shape;
    const kernel = geometry.kernel;
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
    const weight = state.weight ?? float32Data(w, 'W');
    const data = float32Data(x, 'X');
    if (outSize > 0 && data.length > 0) {
      const problem = { data, weight, out, batch, channels, outChannels, group, geometry };
      const [kH, kW] = [kernel[kernel.length - 2] ?? 1, kernel[kernel.length - 1]!];
      const planar = kernel.length <= 2 && geometry.dilations.every((dilation) => dilation === 1);
      if (groupChannels === 1 && group > 1 && planar && kH === 3 && kW === 3) depthwise3x3(problem);
      else if (groupChannels === 1 && group > 1) depthwise(problem);
      else im2colGemm(problem);
    }
    return [floatOutput(x.dtype, shape.outShape, out)];
  },
});

interface ConvProblem {
  readonly data: Float32Array;
  readonly weight: Float32Array;
  readonly out: Float32Array;
  readonly batch: number;
  readonly channels: number;
  readonly outChannels: number;
  readonly group: number;
  readonly geometry: WindowGeometry;
}

/** The geometry as (depth, height, width) triples, 1-D and 2-D padded with unit axes. */
function threeAxes(geometry: WindowGeometry) {
  return {
    input: asThreeAxes(geometry.input, 1),
    output: asThreeAxes(geometry.output, 1),
    kernel: asThreeAxes(geometry.kernel, 1),
    strides: asThreeAxes(geometry.strides, 1),
    dilations: asThreeAxes(geometry.dilations, 1),
    padBegin: asThreeAxes(geometry.padBegin, 0),
  };
}

/** Each output channel reads one input channel: out += weight * shifted input, one kernel tap at a time. */
function depthwise({ data, weight, out, batch, channels, outChannels, geometry }: ConvProblem): void {
  const { input, output, kernel, strides, dilations, padBegin } = threeAxes(geometry);
  const [inD, inH, inW] = input;
  const [outD, outH, outW] = output;
  const [kD, kH, kW] = kernel;
  const [sD, sH, sW] = strides;
  const [dD, dH, dW] = dilations;
  const [pD, pH, pW] = padBegin;
  const inSize = inD * inH * inW;
  const outSize = outD * outH * outW;
  const kernelSize = kD * kH * kW;
  const multiplier = outChannels / channels;
  const columns = validRanges(inW, outW, kW, sW, dW, pW);
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const xBase = (n * channels + Math.floor(m / multiplier)) * inSize;
      const yBase = (n * outChannels + m) * outSize;
      for (let kd = 0; kd < kD; kd++) {
        for (let kh = 0; kh < kH; kh++) {
          for (let kw = 0; kw < kW; kw++) {
            const tap = weight[m * kernelSize + (kd * kH + kh) * kW + kw]!;
            if (tap === 0) continue;
            const first = columns.first[kw]!;
            const last = columns.last[kw]!;
            const shiftW = kw * dW - pW;
            for (let od = 0; od < outD; od++) {
              const id = od * sD - pD + kd * dD;
              if (id < 0 || id >= inD) continue;
              for (let oh = 0; oh < outH; oh++) {
                const ih = oh * sH - pH + kh * dH;
                if (ih < 0 || ih >= inH) continue;
                const source = xBase + (id * inH + ih) * inW + shiftW;
                const target = yBase + (od * outH + oh) * outW;
                if (sW === 1) {
                  for (let ow = first; ow < last; ow++) out[target + ow]! += tap * data[source + ow]!;
                } else {
                  for (let ow = first; ow < last; ow++) out[target + ow]! += tap * data[source + ow * sW]!;
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Depthwise 3x3 without dilation (1-D excluded), any stride and pads: per output row the three input rows (a row
 * in the padding gets zero weights), interior columns as nine unrolled multiply-adds, the edge columns checked.
 */
function depthwise3x3({ data, weight, out, batch, channels, outChannels, geometry }: ConvProblem): void {
  const [inH, inW] = [geometry.input[0]!, geometry.input[1]!];
  const [outH, outW] = [geometry.output[0]!, geometry.output[1]!];
  const [sH, sW] = [geometry.strides[0]!, geometry.strides[1]!];
  const [pH, pW] = [geometry.padBegin[0]!, geometry.padBegin[1]!];
  const inSize = inH * inW;
  const outSize = outH * outW;
  const multiplier = outChannels / channels;
  // Output columns whose three input columns all lie inside the input.
  const lo = Math.min(outW, Math.max(0, Math.ceil(pW / sW)));
  const hi = Math.max(lo, Math.min(outW, Math.floor((inW - 3 + pW) / sW) + 1));
  const taps = new Float64Array(9);
  const rows = new Int32Array(3);
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const xBase = (n * channels + Math.floor(m / multiplier)) * inSize;
      const yBase = (n * outChannels + m) * outSize;
      for (let oh = 0; oh < outH; oh++) {
        const top = oh * sH - pH;
        for (let r = 0; r < 3; r++) {
          const ih = top + r;
          const inside = ih >= 0 && ih < inH;
          rows[r] = xBase + (inside ? ih : 0) * inW;
          for (let c = 0; c < 3; c++) taps[r * 3 + c] = inside ? weight[m * 9 + r * 3 + c]! : 0;
        }
        const w0 = taps[0]!;
        const w1 = taps[1]!;
        const w2 = taps[2]!;
        const w3 = taps[3]!;
        const w4 = taps[4]!;
        const w5 = taps[5]!;
        const w6 = taps[6]!;
        const w7 = taps[7]!;
        const w8 = taps[8]!;
        const r0 = rows[0]! - pW;
        const r1 = rows[1]! - pW;
        const r2 = rows[2]! - pW;
        const target = yBase + oh * outW;
        for (let ow = lo; ow < hi; ow++) {
          const i = ow * sW;
          out[target + ow] =
            out[target + ow]! +
            w0 * data[r0 + i]! +
            w1 * data[r0 + i + 1]! +
            w2 * data[r0 + i + 2]! +
            w3 * data[r1 + i]! +
            w4 * data[r1 + i + 1]! +
            w5 * data[r1 + i + 2]! +
            w6 * data[r2 + i]! +
            w7 * data[r2 + i + 1]! +
            w8 * data[r2 + i + 2]!;
        }
        for (let ow = 0; ow < outW; ow++) {
          if (ow === lo) ow = Math.max(hi, lo);
          if (ow >= outW) break;
          let sum = out[target + ow]!;
          for (let c = 0; c < 3; c++) {
            const iw = ow * sW - pW + c;
            if (iw < 0 || iw >= inW) continue;
            for (let r = 0; r < 3; r++) sum += taps[r * 3 + c]! * data[rows[r]! + iw]!;
          }
          out[target + ow] = sum;
        }
      }
    }
  }
}

/** Per image and group: the patches into one reused column buffer, then weight x columns into the output. */
function im2colGemm({ data, weight, out, batch, channels, outChannels, group, geometry }: ConvProblem): void {
  const { input, output, kernel, strides, dilations, padBegin } = threeAxes(geometry);
  const [inD, inH, inW] = input;
  const [outD, outH, outW] = output;
  const [kD, kH, kW] = kernel;
  const [sD, sH, sW] = strides;
  const [dD, dH, dW] = dilations;
  const [pD, pH, pW] = padBegin;
  const inSize = inD * inH * inW;
  const outSize = outD * outH * outW;
  const groupChannels = channels / group;
  const groupOut = outChannels / group;
  const rows = groupChannels * kD * kH * kW;
  const pointwise =
    kD * kH * kW === 1 &&
    [sD, sH, sW, pD, pH, pW].every((v, i) => v === (i < 3 ? 1 : 0)) &&
    inSize === outSize;
  const columns = pointwise ? undefined : new Float32Array(rows * outSize);
  const ranges = validRanges(inW, outW, kW, sW, dW, pW);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < group; g++) {
      const channelBase = (n * channels + g * groupChannels) * inSize;
      const target = (n * outChannels + g * groupOut) * outSize;
      if (columns === undefined) {
        gemmBlockedFloat32(
          weight,
          g * groupOut * rows,
          data,
          channelBase,
          out,
          target,
          groupOut,
          rows,
          outSize,
        );
        continue;
      }
      let row = 0;
      for (let c = 0; c < groupChannels; c++) {
        const xBase = channelBase + c * inSize;
        for (let kd = 0; kd < kD; kd++) {
          for (let kh = 0; kh < kH; kh++) {
            for (let kw = 0; kw < kW; kw++, row++) {
              const first = ranges.first[kw]!;
              const last = ranges.last[kw]!;
              const shiftW = kw * dW - pW;
              let dst = row * outSize;
              for (let od = 0; od < outD; od++) {
                const id = od * sD - pD + kd * dD;
                if (id < 0 || id >= inD) {
                  columns.fill(0, dst, dst + outH * outW);
                  dst += outH * outW;
                  continue;
                }
                for (let oh = 0; oh < outH; oh++, dst += outW) {
                  const ih = oh * sH - pH + kh * dH;
                  if (ih < 0 || ih >= inH) {
                    columns.fill(0, dst, dst + outW);
                    continue;
                  }
                  const source = xBase + (id * inH + ih) * inW + shiftW;
                  if (first > 0) columns.fill(0, dst, dst + first);
                  if (sW === 1 && last - first >= 32) {
                    columns.set(data.subarray(source + first, source + last), dst + first);
                  } else if (sW === 1) {
                    for (let ow = first; ow < last; ow++) columns[dst + ow] = data[source + ow]!;
                  } else {
                    for (let ow = first; ow < last; ow++) columns[dst + ow] = data[source + ow * sW]!;
                  }
                  if (last < outW) columns.fill(0, dst + last, dst + outW);
                }
              }
            }
          }
        }
      }
      gemmBlockedFloat32(weight, g * groupOut * rows, columns, 0, out, target, groupOut, rows, outSize);
    }
  }
}
