import { type DType, type KernelNode, QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { dtypeFromOnnx } from '@quantkit/onnx';
import { jsKernel } from '../backend.js';
import { float32Data, normalizeAxis, required, tensorOf } from '../tensor-utils.js';
import {
  type CodeArray,
  codeRange,
  isCodeType,
  quantizeFloat,
  roundHalfEven,
  scalesOf,
  zeroPointsOf,
} from './quantized-values.js';

/**
 * How the scales of a QuantizeLinear/DequantizeLinear spread over x: the element (o, d, i) of x viewed as
 * [outer, axisSize, inner] takes parameter `base(o, d) + i * step`.
 */
interface ParamLayout {
  readonly outer: number;
  readonly axisSize: number;
  readonly inner: number;
  readonly mode: 'tensor' | 'axis' | 'block';
  readonly blockSize: number;
  readonly blocks: number;
}

interface LinearState {
  readonly axis: number;
  readonly blockSize: number;
  /** QuantizeLinear: the output type when no zero point gives it. */
  readonly outputType: DType;
  readonly label: string;
}

function linearState(node: KernelNode): LinearState {
  const outputCode = node.attributes.int('output_dtype', 0);
  return {
    axis: node.attributes.int('axis', 1),
    blockSize: node.attributes.int('block_size', 0),
    outputType: outputCode === 0 ? 'uint8' : dtypeFromOnnx(outputCode, 'output_dtype'),
    label: node.label,
  };
}

/**
 * Works out how `scale` applies to a tensor of `shape`: one scale (per tensor), a 1-D scale along `axis` (per
 * axis), or, with a block size, a scale of x's rank whose `axis` dimension counts blocks (opset 21).
 * @throws QuantError INVALID_MODEL when the scale or zero point shape fits none of these.
 */
function paramLayout(
  shape: readonly number[],
  scale: Tensor,
  zeroPoint: Tensor | undefined,
  state: LinearState,
): ParamLayout {
  const size = sizeOf(shape);
  if (zeroPoint !== undefined && zeroPoint.shape.join() !== scale.shape.join()) {
    throw new QuantError(
      'INVALID_MODEL',
      `zero point shape [${zeroPoint.shape.join(', ')}] differs from scale shape [${scale.shape.join(', ')}]`,
    );
  }
  if (state.blockSize > 0) {
    const axis = normalizeAxis(state.axis, shape.length);
    const blocks = Math.ceil(shape[axis]! / state.blockSize);
    const expected = shape.map((dim, index) => (index === axis ? blocks : dim));
    if (scale.shape.join() !== expected.join()) {
      throw new QuantError(
        'INVALID_MODEL',
        `block_size ${state.blockSize} along axis ${state.axis} of [${shape.join(', ')}] needs scales of shape [${expected.join(', ')}], got [${scale.shape.join(', ')}]`,
      );
    }
    return {
      outer: sizeOf(shape.slice(0, axis)),
      axisSize: shape[axis]!,
      inner: sizeOf(shape.slice(axis + 1)),
      mode: 'block',
      blockSize: state.blockSize,
      blocks,
    };
  }
  const perTensor = scale.shape.length === 0 || (scale.shape.length === 1 && scale.shape[0] === 1);
  if (perTensor && (shape.length === 0 || scale.shape.length === 0 || scale.data.length === 1)) {
    // A 1-element 1-D scale is per axis only when the axis has length 1, which gives the same values.
    return { outer: 1, axisSize: 1, inner: size, mode: 'tensor', blockSize: 0, blocks: 1 };
  }
  const axis = normalizeAxis(state.axis, shape.length);
  if (scale.shape.length !== 1 || scale.shape[0] !== shape[axis]) {
    throw new QuantError(
      'INVALID_MODEL',
      `scale of shape [${scale.shape.join(', ')}] is neither one value nor one per element of axis ${state.axis} of [${shape.join(', ')}]`,
    );
  }
  return {
    outer: sizeOf(shape.slice(0, axis)),
    axisSize: shape[axis]!,
    inner: sizeOf(shape.slice(axis + 1)),
    mode: 'axis',
    blockSize: 0,
    blocks: 1,
  };
}

/**
 * Calls `visit(start, paramBase, paramStep)` for each run of `inner` consecutive elements of x: element
 * `start + i` takes parameter `paramBase + i * paramStep`.
 */
function forEachRun(
  layout: ParamLayout,
  visit: (start: number, paramBase: number, paramStep: number) => void,
): void {
  const { outer, axisSize, inner, mode, blockSize, blocks } = layout;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < axisSize; d++) {
      const start = (o * axisSize + d) * inner;
      if (mode === 'tensor') visit(start, 0, 0);
      else if (mode === 'axis') visit(start, d, 0);
      else visit(start, (o * blocks + Math.floor(d / blockSize)) * inner, 1);
    }
  }
}

/**
 * QuantizeLinear: `saturate(round(x / scale) + zero_point)` per tensor, per axis (opset 13) or per block (opset
 * 21) into uint8, int8, uint16, int16, uint4 or int4 (the zero point's type, else `output_dtype`, else uint8);
 * the division in float32 and ties to even, as onnxruntime. The com.microsoft form (16-bit codes before opset 21)
 * has the same inputs. `saturate` only concerns float8 outputs, which are not implemented.
 */
function quantizeLinear(domain: string) {
  return jsKernel('QuantizeLinear', {
    ...(domain !== '' && { domain }),
    prepare: linearState,
    run: (state, [x, scaleInput, zeroPointInput]) => {
      const input = required(x, 'x');
      const scale = required(scaleInput, 'y_scale');
      const dtype = zeroPointInput?.dtype ?? state.outputType;
      if (!isCodeType(dtype) || dtype === 'int32') {
        throw new QuantError('UNSUPPORTED', `QuantizeLinear to ${dtype} is not implemented`);
      }
      const values = float32Data(input, 'x');
      const layout = paramLayout(input.shape, scale, zeroPointInput, state);
      const scales = scalesOf(scale, 'y_scale');
      const zeroPoints = zeroPointsOf(zeroPointInput, scales.length);
      const { qmin, qmax } = codeRange(dtype);
      const out = allocate(dtype, values.length) as CodeArray;
      const { inner } = layout;
      forEachRun(layout, (start, base, step) => {
        for (let i = 0; i < inner; i++) {
          const p = base + i * step;
          out[start + i] = quantizeFloat(values[start + i]!, scales[p]!, zeroPoints[p]!, qmin, qmax);
        }
      });
      return [tensorOf(dtype, input.shape, out)];
    },
  });
}

/**
 * DequantizeLinear: `(x - zero_point) * scale` in float32 (the difference converted to float32 first, as
 * onnxruntime does for int32 codes), per tensor, per axis or per block, from any integer code type.
 */
function dequantizeLinear(domain: string) {
  return jsKernel('DequantizeLinear', {
    ...(domain !== '' && { domain }),
    prepare: (node) => {
      // Opset 23's output_dtype picks the float type written; only float32 (1) is implemented.
      const outputType = node.attributes.int('output_dtype', 0);
      if (outputType !== 0 && outputType !== 1) {
        throw new QuantError(
          'UNSUPPORTED',
          `DequantizeLinear to ONNX type ${outputType} is not implemented; it writes float32`,
        );
      }
      return linearState(node);
    },
    run: (state, [x, scaleInput, zeroPointInput]) => {
      const input = required(x, 'x');
      const scale = required(scaleInput, 'x_scale');
      if (!isCodeType(input.dtype)) {
        throw new QuantError('UNSUPPORTED', `DequantizeLinear of ${input.dtype} is not implemented`);
      }
      if (zeroPointInput !== undefined && zeroPointInput.dtype !== input.dtype) {
        throw new QuantError(
          'INVALID_MODEL',
          `x is ${input.dtype} but x_zero_point is ${zeroPointInput.dtype}; they must match`,
        );
      }
      const codes = input.data as CodeArray;
      const layout = paramLayout(input.shape, scale, zeroPointInput, state);
      const scales = scalesOf(scale, 'x_scale');
      const zeroPoints = zeroPointsOf(zeroPointInput, scales.length);
      const out = new Float32Array(codes.length);
      const { inner } = layout;
      forEachRun(layout, (start, base, step) => {
        for (let i = 0; i < inner; i++) {
          const p = base + i * step;
          out[start + i] = Math.fround(Math.fround((codes[start + i]! - zeroPoints[p]!) | 0) * scales[p]!);
        }
      });
      return [tensorOf('float32', input.shape, out)];
    },
  });
}

/**
 * The scale and zero point DynamicQuantizeLinear derives from a tensor's range, as the ONNX spec and onnxruntime:
 * the range widened to include 0, `scale = (max - min) / 255` (1 for an all-zero range), `zero_point =
 * round(saturate(0 - min / scale))`, in float32.
 */
export function dynamicUint8Params(values: Float32Array): { scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const scale = max === min ? 1 : Math.fround(Math.fround(max - min) / 255);
  const initial = Math.fround(0 - Math.fround(min / scale));
  const zeroPoint = roundHalfEven(Math.min(255, Math.max(0, initial)));
  return { scale, zeroPoint };
}

/** DynamicQuantizeLinear: uint8 codes of x, with the scale and zero point its range gives. */
const dynamicQuantizeLinear = jsKernel('DynamicQuantizeLinear', {
  run: (_, [x]) => {
    const input = required(x, 'x');
    const values = float32Data(input, 'x');
    const { scale, zeroPoint } = dynamicUint8Params(values);
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = quantizeFloat(values[i]!, scale, zeroPoint, 0, 255);
    return [
      tensorOf('uint8', input.shape, out),
      tensorOf('float32', [], Float32Array.of(scale)),
      tensorOf('uint8', [], Uint8Array.of(zeroPoint)),
    ];
  },
});

export const quantizeLinearKernels = [
  quantizeLinear(''),
  quantizeLinear('com.microsoft'),
  dequantizeLinear(''),
  dequantizeLinear('com.microsoft'),
  dynamicQuantizeLinear,
];
