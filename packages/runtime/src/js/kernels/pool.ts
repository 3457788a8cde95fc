import { type KernelNode, QuantError, type Tensor, allocate } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, required, tensorOf } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';
import {
  type WindowAttributes,
  type WindowGeometry,
  asThreeAxes,
  readWindowAttributes,
  spatialShape,
  windowGeometry,
} from './window-geometry.js';

/** The number arrays MaxPool runs on (float, and int8 / uint8 from opset 12). */
type PoolData = Float32Array | Float64Array | Int8Array | Uint8Array;

/** The lowest value of each MaxPool dtype: what a window with no input element in it yields, as in onnxruntime. */
const lowest: Record<string, number> = {
  float32: -3.4028234663852886e38,
  float64: -Number.MAX_VALUE,
  int8: -128,
  uint8: 0,
};

/**
 * Per output position along one axis: the input position of the window's first tap, the taps that land inside
 * the input `[first, last)`, and how many land inside the padded input (AveragePool's count_include_pad divisor).
 */
interface AxisWindows {
  readonly start: Int32Array;
  readonly first: Int32Array;
  readonly last: Int32Array;
  readonly padded: Int32Array;
}

function axisWindows(
  size: number,
  outSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
): AxisWindows {
  const start = new Int32Array(outSize);
  const first = new Int32Array(outSize);
  const last = new Int32Array(outSize);
  const padded = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const position = o * stride - padBegin;
    start[o] = position;
    let lo = Math.max(0, Math.ceil(-position / dilation));
    let hi = Math.min(kernel, Math.floor((size - 1 - position) / dilation) + 1);
    if (hi < lo) hi = lo = 0;
    first[o] = lo;
    last[o] = hi;
    const paddedHi = Math.min(kernel, Math.floor((size + padEnd - 1 - position) / dilation) + 1);
    padded[o] = Math.max(0, paddedHi);
  }
  return { start, first, last, padded };
}

function windowsOf(geometry: WindowGeometry) {
  const input = asThreeAxes(geometry.input, 1);
  const output = asThreeAxes(geometry.output, 1);
  const kernel = asThreeAxes(geometry.kernel, 1);
  const strides = asThreeAxes(geometry.strides, 1);
  const dilations = asThreeAxes(geometry.dilations, 1);
  const padBegin = asThreeAxes(geometry.padBegin, 0);
  const padEnd = asThreeAxes(geometry.padEnd, 0);
  const axes = [0, 1, 2].map((axis) =>
    axisWindows(
      input[axis]!,
      output[axis]!,
      kernel[axis]!,
      strides[axis]!,
      dilations[axis]!,
      padBegin[axis]!,
      padEnd[axis]!,
    ),
  );
  return { input, output, dilations, d: axes[0]!, h: axes[1]!, w: axes[2]! };
}

interface PoolState {
  readonly window: WindowAttributes;
  readonly countIncludePad: boolean;
  /** Before opset 19 (onnxruntime's MLAS pools) count_include_pad divides by the whole kernel size. */
  readonly wholeKernelDivisor: boolean;
  readonly columnMajorIndices: boolean;
  readonly wantIndices: boolean;
}

function preparePool(node: KernelNode): PoolState {
  const window = readWindowAttributes(node);
  if (window.kernelShape === undefined) {
    throw new QuantError('INVALID_MODEL', `${node.opType} needs its kernel_shape attribute`);
  }
  return {
    window,
    countIncludePad: node.attributes.int('count_include_pad', 0) !== 0,
    wholeKernelDivisor: node.opset < 19,
    columnMajorIndices: node.attributes.int('storage_order', 0) !== 0,
    wantIndices: node.outputs.length > 1 && node.outputs[1]!.name !== '',
  };
}

function poolGeometry(state: PoolState, x: Tensor, samePadsUseDilation: boolean): WindowGeometry {
  const spatial = spatialShape(x, 'X');
  const kernel = state.window.kernelShape!;
  if (kernel.length !== spatial.length) {
    throw new QuantError(
      'INVALID_MODEL',
      `kernel_shape [${kernel.join(', ')}] does not match the ${spatial.length} spatial axes of X`,
    );
  }
  return windowGeometry(state.window, spatial, kernel, samePadsUseDilation);
}

/**
 * MaxPool over 1 to 3 spatial axes: pads or auto_pad, strides, dilations, ceil_mode; float, int8 and uint8; the
 * optional Indices output (flat indices into X, row-major or, with storage_order 1, column-major spatially).
 */
export const maxPoolKernel = jsKernel('MaxPool', {
  prepare: preparePool,
  run: (state, [xInput]) => {
    const x = required(xInput, 'X');
    if (!(x.dtype in lowest)) {
      throw new QuantError(
        'UNSUPPORTED',
        `X is ${x.dtype}; MaxPool runs on float32, float64, int8 and uint8`,
      );
    }
    // onnxruntime sizes SAME pads of pools by the undilated kernel.
    const geometry = poolGeometry(state, x, false);
    const windows = windowsOf(geometry);
    const { input, output, dilations, d, h, w } = windows;
    const [inD, inH, inW] = input;
    const [outD, outH, outW] = output;
    const [dD, dH, dW] = dilations;
    const inSize = inD * inH * inW;
    const outSize = outD * outH * outW;
    const planes = x.shape[0]! * x.shape[1]!;
    const data = x.data as PoolData;
    const out = allocate(x.dtype, planes * outSize) as PoolData;
    const indices = state.wantIndices ? new BigInt64Array(planes * outSize) : undefined;
    const floor = lowest[x.dtype]!;
    // Column-major spatial index of (i0, i1, i2) over the node's own axes (1-D and 2-D sit in the last axes).
    const rank = geometry.input.length;
    const s0 = geometry.input[0]!;
    const s1 = rank > 1 ? geometry.input[1]! : 1;
    if (indices === undefined) {
      maxPoolValues(data, out, planes, windows, floor);
    } else {
      let target = 0;
      for (let plane = 0; plane < planes; plane++) {
        const base = plane * inSize;
        for (let od = 0; od < outD; od++) {
          for (let oh = 0; oh < outH; oh++) {
            for (let ow = 0; ow < outW; ow++, target++) {
              let best = floor;
              let at = -1;
              for (let kd = d.first[od]!; kd < d.last[od]!; kd++) {
                const id = d.start[od]! + kd * dD;
                for (let kh = h.first[oh]!; kh < h.last[oh]!; kh++) {
                  const row = (id * inH + h.start[oh]! + kh * dH) * inW + w.start[ow]!;
                  for (let kw = w.first[ow]!; kw < w.last[ow]!; kw++) {
                    const value = data[base + row + kw * dW]!;
                    if (value > best) {
                      best = value;
                      at = row + kw * dW;
                    }
                  }
                }
              }
              out[target] = best;
              let index = at;
              if (state.columnMajorIndices && at >= 0) {
                const iw = at % inW;
                const ih = ((at - iw) / inW) % inH;
                const id = (at - iw - ih * inW) / (inW * inH);
                // Canonical (id, ih, iw) are the node's axes right-aligned; re-index them column-major.
                index = rank === 3 ? id + ih * s0 + iw * s0 * s1 : rank === 2 ? ih + iw * s0 : iw;
              }
              indices[target] = BigInt(index < 0 ? -1 : plane * inSize + index);
            }
          }
        }
      }
    }
    const shape = [x.shape[0]!, x.shape[1]!, ...geometry.output];
    const result: Tensor[] = [tensorOf(x.dtype, shape, out)];
    if (indices !== undefined) result.push(tensorOf('int64', shape, indices));
    return result;
  },
});

/** The maxima of every window, the per-axis window bounds read once per output row and column. */
function maxPoolValues(
  data: PoolData,
  out: PoolData,
  planes: number,
  windows: ReturnType<typeof windowsOf>,
  floor: number,
): void {
  const { input, output, dilations, d, h, w } = windows;
  const [inD, inH, inW] = input;
  const [outD, outH, outW] = output;
  const [dD, dH, dW] = dilations;
  const inSize = inD * inH * inW;
  let target = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * inSize;
    for (let od = 0; od < outD; od++) {
      const d0 = d.first[od]!;
      const d1 = d.last[od]!;
      const dStart = d.start[od]!;
      for (let oh = 0; oh < outH; oh++) {
        const h0 = h.first[oh]!;
        const h1 = h.last[oh]!;
        const hStart = h.start[oh]!;
        for (let ow = 0; ow < outW; ow++, target++) {
          const w0 = w.first[ow]!;
          const w1 = w.last[ow]!;
          const wStart = base + w.start[ow]!;
          let best = floor;
          for (let kd = d0; kd < d1; kd++) {
            const depthRow = (dStart + kd * dD) * inH + hStart;
            for (let kh = h0; kh < h1; kh++) {
              const row = wStart + (depthRow + kh * dH) * inW;
              for (let kw = w0; kw < w1; kw++) {
                const value = data[row + kw * dW]!;
                if (value > best) best = value;
              }
            }
          }
          out[target] = best;
        }
      }
    }
  }
}

/**
 * AveragePool over 1 to 3 spatial axes: pads or auto_pad, strides, dilations (opset 19), ceil_mode, and
 * count_include_pad. The divisor counts the taps inside the input, or with count_include_pad those inside the
 * padded input; the two differ only for the windows ceil_mode adds past the end padding, where opsets before 19
 * divide by the whole kernel size as onnxruntime does (its opset 19 kernel clips, like the spec's reference and
 * PyTorch).
 */
export const averagePoolKernel = jsKernel('AveragePool', {
  prepare: preparePool,
  run: (state, [xInput]) => {
    const x = required(xInput, 'X');
    const geometry = poolGeometry(state, x, false);
    const { input, output, dilations, d, h, w } = windowsOf(geometry);
    const [inD, inH, inW] = input;
    const [outD, outH, outW] = output;
    const [dD, dH, dW] = dilations;
    const inSize = inD * inH * inW;
    const outSize = outD * outH * outW;
    const planes = x.shape[0]! * x.shape[1]!;
    const data = float32Data(x, 'X');
    const out = new Float32Array(planes * outSize);
    const include = state.countIncludePad;
    const wholeKernel = include && state.wholeKernelDivisor ? geometry.kernel.reduce((a, b) => a * b, 1) : 0;
    let target = 0;
    for (let plane = 0; plane < planes; plane++) {
      const base = plane * inSize;
      for (let od = 0; od < outD; od++) {
        const d0 = d.first[od]!;
        const d1 = d.last[od]!;
        const dStart = d.start[od]!;
        for (let oh = 0; oh < outH; oh++) {
          const h0 = h.first[oh]!;
          const h1 = h.last[oh]!;
          const hStart = h.start[oh]!;
          const rowCount = (d1 - d0) * (h1 - h0);
          const paddedCount = d.padded[od]! * h.padded[oh]!;
          for (let ow = 0; ow < outW; ow++, target++) {
            const w0 = w.first[ow]!;
            const w1 = w.last[ow]!;
            const wStart = base + w.start[ow]!;
            let sum = 0;
            for (let kd = d0; kd < d1; kd++) {
              const depthRow = (dStart + kd * dD) * inH + hStart;
              for (let kh = h0; kh < h1; kh++) {
                const row = wStart + (depthRow + kh * dH) * inW;
                for (let kw = w0; kw < w1; kw++) sum += data[row + kw * dW]!;
              }
            }
            const count =
              wholeKernel > 0 ? wholeKernel : include ? paddedCount * w.padded[ow]! : rowCount * (w1 - w0);
            out[target] = count > 0 ? sum / count : 0;
          }
        }
      }
    }
    return [floatOutput(x.dtype, [x.shape[0]!, x.shape[1]!, ...geometry.output], out)];
  },
});

/** The [N, C, 1, ...] shape of a global pool's output, and the size of each input plane. */
function globalLayout(x: Tensor) {
  const spatial = x.shape.slice(2);
  if (x.shape.length < 3) {
    throw new QuantError('INVALID_MODEL', `X is [${x.shape.join(', ')}]; expected [N, C, ...spatial]`);
  }
  return {
    planes: x.shape[0]! * x.shape[1]!,
    planeSize: spatial.reduce((a, b) => a * b, 1),
    shape: [x.shape[0]!, x.shape[1]!, ...spatial.map(() => 1)],
  };
}

/** GlobalAveragePool: the mean of each [n, c] plane, summed in float64. */
export const globalAveragePoolKernel = jsKernel('GlobalAveragePool', {
  run: (_, [xInput]) => {
    const x = required(xInput, 'X');
    const { planes, planeSize, shape } = globalLayout(x);
    const data = float32Data(x, 'X');
    const out = new Float32Array(planes);
    for (let plane = 0; plane < planes; plane++) {
      let sum = 0;
      const end = (plane + 1) * planeSize;
      for (let i = plane * planeSize; i < end; i++) sum += data[i]!;
      out[plane] = sum / planeSize;
    }
    return [floatOutput(x.dtype, shape, out)];
  },
});

/** GlobalMaxPool: the maximum of each [n, c] plane. */
export const globalMaxPoolKernel = jsKernel('GlobalMaxPool', {
  run: (_, [xInput]) => {
    const x = required(xInput, 'X');
    const { planes, planeSize, shape } = globalLayout(x);
    const data = float32Data(x, 'X');
    const out = new Float32Array(planes);
    for (let plane = 0; plane < planes; plane++) {
      let best = Number.NEGATIVE_INFINITY;
      const end = (plane + 1) * planeSize;
      for (let i = plane * planeSize; i < end; i++) if (data[i]! > best) best = data[i]!;
      out[plane] = best;
    }
    return [floatOutput(x.dtype, shape, out)];
  },
});
