import { type KernelNode, QuantError, type Tensor, type TypedArray, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, integers, normalizeAxis, required, stridesOf, tensorOf } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';

type Mode = 'nearest' | 'linear' | 'cubic';
type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple';
type CoordinateMode =
  | 'half_pixel'
  | 'half_pixel_symmetric'
  | 'pytorch_half_pixel'
  | 'align_corners'
  | 'asymmetric'
  | 'tf_half_pixel_for_nn'
  | 'tf_crop_and_resize';
type AspectPolicy = 'stretch' | 'not_larger' | 'not_smaller';

const modes: readonly Mode[] = ['nearest', 'linear', 'cubic'];
const nearestModes: readonly NearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const coordinateModes: readonly CoordinateMode[] = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
];
const aspectPolicies: readonly AspectPolicy[] = ['stretch', 'not_larger', 'not_smaller'];

interface ResizeState {
  readonly mode: Mode;
  readonly nearestMode: NearestMode;
  readonly coordinateMode: CoordinateMode;
  readonly cubicCoefficient: number;
  readonly excludeOutside: boolean;
  readonly extrapolationValue: number;
  readonly axes: readonly number[] | undefined;
  readonly aspectPolicy: AspectPolicy;
  /** Where the scales come from: Upsample-7's attribute, or an input slot. */
  readonly scalesAttribute: readonly number[] | undefined;
  readonly scalesSlot: number;
  /** The roi and sizes input slots (opset 11+); undefined before. */
  readonly roiSlot: number | undefined;
  readonly sizesSlot: number | undefined;
}

function oneOf<T extends string>(value: string, choices: readonly T[], name: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new QuantError('UNSUPPORTED', `${name} "${value}" is not one of ${choices.join(', ')}`);
  }
  return value as T;
}

/**
 * Reads Resize's attributes per opset: opset 10 (and Upsample) resize asymmetrically with onnxruntime's "simple"
 * nearest rounding (truncate when upsampling, ceil when downsampling); opset 11 adds roi, sizes, the coordinate
 * transformations and nearest modes; opset 18 adds axes, keep_aspect_ratio_policy and antialias (refused).
 */
function prepareResize(node: KernelNode): ResizeState {
  const attributes = node.attributes;
  const upsample = node.opType === 'Upsample';
  const modern = !upsample && node.opset >= 11;
  const modeName = attributes.string('mode', 'nearest').toLowerCase();
  // Upsample-7 spells linear "bilinear" in some exporters.
  const mode = oneOf<Mode>(modeName === 'bilinear' ? 'linear' : modeName, modes, 'mode');
  if (attributes.int('antialias', 0) !== 0) {
    throw new QuantError('UNSUPPORTED', 'Resize with antialias 1 is not implemented');
  }
  if (!modern && mode === 'cubic') {
    throw new QuantError('INVALID_MODEL', `${node.opType} before opset 11 has no cubic mode`);
  }
  return {
    mode,
    nearestMode: modern
      ? oneOf(attributes.string('nearest_mode', 'round_prefer_floor'), nearestModes, 'nearest_mode')
      : 'simple',
    coordinateMode: modern
      ? oneOf(
          attributes.string('coordinate_transformation_mode', 'half_pixel'),
          coordinateModes,
          'coordinate_transformation_mode',
        )
      : 'asymmetric',
    cubicCoefficient: attributes.float('cubic_coeff_a', -0.75),
    excludeOutside: attributes.int('exclude_outside', 0) !== 0,
    extrapolationValue: attributes.float('extrapolation_value', 0),
    axes: attributes.has('axes') ? attributes.ints('axes') : undefined,
    aspectPolicy: oneOf(
      attributes.string('keep_aspect_ratio_policy', 'stretch'),
      aspectPolicies,
      'keep_aspect_ratio_policy',
    ),
    scalesAttribute: upsample && node.opset < 9 ? attributes.floats('scales') : undefined,
    scalesSlot: modern ? 2 : 1,
    roiSlot: modern ? 1 : undefined,
    sizesSlot: modern ? 3 : undefined,
  };
}

/** The output shape, the per-axis scales the coordinate transformation uses, and the roi per axis. */
function resizePlan(state: ResizeState, x: Tensor, inputs: readonly (Tensor | undefined)[]) {
  const rank = x.shape.length;
  const axes = (state.axes ?? x.shape.map((_, axis) => axis)).map((axis) =>
    normalizeAxis(axis, rank, 'axes'),
  );
  const scalesTensor = state.scalesAttribute === undefined ? inputs[state.scalesSlot] : undefined;
  const given =
    state.scalesAttribute ??
    (scalesTensor !== undefined && scalesTensor.data.length > 0
      ? Array.from(float32Data(scalesTensor, 'scales'))
      : undefined);
  const sizesTensor = state.sizesSlot === undefined ? undefined : inputs[state.sizesSlot];
  const sizes = sizesTensor !== undefined && sizesTensor.data.length > 0 ? integers(sizesTensor) : undefined;
  if ((given === undefined) === (sizes === undefined)) {
    throw new QuantError('INVALID_MODEL', 'exactly one of scales and sizes must be given');
  }
  const count = (given ?? sizes)!.length;
  if (count !== axes.length) {
    throw new QuantError(
      'INVALID_MODEL',
      `${given === undefined ? 'sizes' : 'scales'} has ${count} values; expected ${axes.length}`,
    );
  }
  const scales = new Array<number>(rank).fill(1);
  const output = [...x.shape];
  if (given !== undefined) {
    axes.forEach((axis, index) => {
      const scale = Math.fround(given[index]!);
      if (!(scale > 0)) throw new QuantError('INVALID_MODEL', `scale ${scale} must be positive`);
      scales[axis] = scale;
      output[axis] = Math.floor(Math.fround(scale * x.shape[axis]!));
    });
  } else if (state.aspectPolicy === 'stretch') {
    axes.forEach((axis, index) => {
      output[axis] = sizes![index]!;
      scales[axis] = Math.fround(Math.fround(sizes![index]!) / Math.fround(x.shape[axis]!));
    });
  } else {
    const ratios = axes.map((axis, index) => Math.fround(sizes![index]! / x.shape[axis]!));
    const scale = state.aspectPolicy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    for (const axis of axes) {
      scales[axis] = scale;
      output[axis] = Math.round(Math.fround(scale * x.shape[axis]!));
    }
  }
  const roiStart = new Array<number>(rank).fill(0);
  const roiEnd = new Array<number>(rank).fill(1);
  const roiTensor = state.roiSlot === undefined ? undefined : inputs[state.roiSlot];
  if (state.coordinateMode === 'tf_crop_and_resize') {
    const roi = roiTensor === undefined ? [] : Array.from(float32Data(roiTensor, 'roi'));
    if (roi.length !== 2 * axes.length) {
      throw new QuantError('INVALID_MODEL', `roi has ${roi.length} values; expected ${2 * axes.length}`);
    }
    axes.forEach((axis, index) => {
      roiStart[axis] = roi[index]!;
      roiEnd[axis] = roi[index + axes.length]!;
    });
  }
  return { output, scales, roiStart, roiEnd };
}

/**
 * The input coordinate of output position `x` along an axis, in float32 arithmetic as onnxruntime computes it (so
 * that nearest rounding ties fall the same way).
 */
function sourceCoordinate(
  mode: CoordinateMode,
  x: number,
  scale: number,
  inLength: number,
  outLength: number,
  roiStart: number,
  roiEnd: number,
): number {
  const f = Math.fround;
  switch (mode) {
    case 'half_pixel':
      return f(f(f(x + 0.5) / scale) - 0.5);
    case 'half_pixel_symmetric': {
      const adjustment = f(outLength / f(scale * inLength));
      const offset = f(f(inLength / 2) * f(1 - adjustment));
      return f(offset + f(f(f(x + 0.5) / scale) - 0.5));
    }
    case 'pytorch_half_pixel':
      return outLength > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLength === 1 ? 0 : f(f(x * (inLength - 1)) / (outLength - 1));
    case 'asymmetric':
      return f(x / scale);
    case 'tf_half_pixel_for_nn':
      return f(f(x + 0.5) / scale);
    case 'tf_crop_and_resize':
      return outLength > 1
        ? f(
            f(roiStart * (inLength - 1)) +
              f(f(x * f(f(roiEnd - roiStart) * (inLength - 1))) / (outLength - 1)),
          )
        : f(f(f(roiStart + roiEnd) * (inLength - 1)) * 0.5);
  }
}

function roundNearest(mode: NearestMode, value: number, downsampling: boolean): number {
  switch (mode) {
    case 'round_prefer_floor':
      return value - Math.floor(value) === 0.5 ? Math.floor(value) : Math.round(value);
    case 'round_prefer_ceil':
      return value - Math.floor(value) === 0.5 ? Math.ceil(value) : Math.round(value);
    case 'floor':
      return Math.floor(value);
    case 'ceil':
      return Math.ceil(value);
    case 'simple':
      return downsampling ? Math.ceil(value) : Math.trunc(value);
  }
}

/**
 * One axis's resampling: for each output position `taps` input positions and weights (-1 as a position: the
 * output is the extrapolation value), or undefined when the axis maps onto itself.
 */
interface AxisTaps {
  readonly taps: number;
  readonly index: Int32Array;
  readonly weight: Float64Array;
  readonly outside: Uint8Array | undefined;
}

function axisTaps(
  state: ResizeState,
  inLength: number,
  outLength: number,
  scale: number,
  roiStart: number,
  roiEnd: number,
): AxisTaps | undefined {
  // onnxruntime leaves an axis of scale 1 as it is, even where the transformation would move it
  // (tf_half_pixel_for_nn shifts by half a pixel); only tf_crop_and_resize's roi applies at scale 1.
  const crop = state.coordinateMode === 'tf_crop_and_resize';
  if (scale === 1 && inLength === outLength && !crop) return undefined;
  const taps = state.mode === 'nearest' ? 1 : state.mode === 'linear' ? 2 : 4;
  const index = new Int32Array(outLength * taps);
  const weight = new Float64Array(outLength * taps);
  const outside = crop ? new Uint8Array(outLength) : undefined;
  let identity = inLength === outLength;
  const last = inLength - 1;
  for (let x = 0; x < outLength; x++) {
    const source = sourceCoordinate(state.coordinateMode, x, scale, inLength, outLength, roiStart, roiEnd);
    const at = x * taps;
    if (crop && (source < 0 || source > last)) {
      outside![x] = 1;
      identity = false;
      continue;
    }
    if (state.mode === 'nearest') {
      const nearest = Math.min(Math.max(roundNearest(state.nearestMode, source, scale < 1), 0), last);
      index[at] = nearest;
      weight[at] = 1;
      if (nearest !== x) identity = false;
    } else if (state.mode === 'linear') {
      const clamped = Math.min(Math.max(source, 0), last);
      const low = Math.min(Math.floor(clamped), last);
      const fraction = clamped - low;
      index[at] = low;
      index[at + 1] = Math.min(low + 1, last);
      weight[at] = 1 - fraction;
      weight[at + 1] = fraction;
      if (low !== x || fraction !== 0) identity = false;
    } else {
      const base = Math.floor(source);
      const t = source - base;
      const a = state.cubicCoefficient;
      const distances = [t + 1, t, 1 - t, 2 - t];
      let total = 0;
      for (let k = 0; k < 4; k++) {
        const d = distances[k]!;
        const w =
          k === 1 || k === 2
            ? ((a + 2) * d - (a + 3)) * d * d + 1
            : ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
        const position = base - 1 + k;
        const inside = position >= 0 && position <= last;
        const kept = state.excludeOutside && !inside ? 0 : w;
        index[at + k] = Math.min(Math.max(position, 0), last);
        weight[at + k] = kept;
        total += kept;
      }
      if (state.excludeOutside && total !== 0) for (let k = 0; k < 4; k++) weight[at + k]! /= total;
      if (t !== 0 || base !== x) identity = false;
    }
  }
  return identity ? undefined : { taps, index, weight, outside };
}

/** Resamples `data` of `shape` along `axis` with the axis's taps, in float64 sums stored as float32. */
function resampleAxis(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
  taps: AxisTaps,
): Float32Array {
  const outLength = taps.index.length / taps.taps;
  const inLength = shape[axis]!;
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float32Array(outer * outLength * inner);
  const count = taps.taps;
  if (inner === 1) {
    // Along the last axis: one weighted sum per output element.
    for (let o = 0; o < outer; o++) {
      const inBase = o * inLength;
      const target = o * outLength;
      for (let x = 0; x < outLength; x++) {
        let sum = 0;
        for (let k = x * count; k < (x + 1) * count; k++)
          sum += taps.weight[k]! * data[inBase + taps.index[k]!]!;
        out[target + x] = sum;
      }
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    const inBase = o * inLength * inner;
    for (let x = 0; x < outLength; x++) {
      const target = (o * outLength + x) * inner;
      for (let k = 0; k < count; k++) {
        const w = taps.weight[x * count + k]!;
        if (w === 0) continue;
        const source = inBase + taps.index[x * count + k]! * inner;
        for (let i = 0; i < inner; i++) out[target + i]! += w * data[source + i]!;
      }
    }
  }
  return out;
}

/** Nearest resize of any numeric tensor: one input element per output element, through per-axis offset tables. */
function gatherNearest(
  x: Tensor,
  output: readonly number[],
  maps: readonly (AxisTaps | undefined)[],
): TypedArray {
  const rank = output.length;
  const strides = stridesOf(x.shape);
  const offsets = output.map((length, axis) =>
    Int32Array.from({ length }, (_, position) => (maps[axis]?.index[position] ?? position) * strides[axis]!),
  );
  const size = sizeOf(output);
  const out = allocate(x.dtype, size) as Exclude<TypedArray, BigInt64Array>;
  const source = x.data as Exclude<TypedArray, BigInt64Array>;
  if (size === 0) return out;
  if (rank === 0) {
    out[0] = source[0]!;
    return out;
  }
  const innerOffsets = offsets[rank - 1]!;
  const innerLength = output[rank - 1]!;
  const counter = new Array<number>(rank).fill(0);
  let target = 0;
  while (target < size) {
    let base = 0;
    for (let axis = 0; axis < rank - 1; axis++) base += offsets[axis]![counter[axis]!]!;
    for (let i = 0; i < innerLength; i++) out[target++] = source[base + innerOffsets[i]!]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]! += 1;
      if (counter[axis]! < output[axis]!) break;
      counter[axis] = 0;
    }
  }
  return out;
}

/** Sets every element whose position on some axis lies outside tf_crop_and_resize's roi to the extrapolation value. */
function extrapolate(
  out: TypedArray,
  output: readonly number[],
  maps: readonly (AxisTaps | undefined)[],
  value: number,
): void {
  const strides = stridesOf(output);
  const target = out as Exclude<TypedArray, BigInt64Array>;
  for (const [axis, map] of maps.entries()) {
    if (map?.outside === undefined) continue;
    const length = output[axis]!;
    const inner = strides[axis]!;
    const outer = sizeOf(output.slice(0, axis));
    for (let position = 0; position < length; position++) {
      if (map.outside[position] === 0) continue;
      for (let o = 0; o < outer; o++) {
        const begin = (o * length + position) * inner;
        target.fill(value, begin, begin + inner);
      }
    }
  }
}

function runResize(state: ResizeState, inputs: readonly (Tensor | undefined)[]): Tensor[] {
  const x = required(inputs[0], 'X');
  const { output, scales, roiStart, roiEnd } = resizePlan(state, x, inputs);
  const maps = x.shape.map((length, axis) =>
    axisTaps(state, length, output[axis]!, scales[axis]!, roiStart[axis]!, roiEnd[axis]!),
  );
  if (state.mode === 'nearest') {
    if (x.dtype === 'int64' || x.dtype === 'bool') {
      throw new QuantError('UNSUPPORTED', `Resize of ${x.dtype} is not implemented`);
    }
    const out = gatherNearest(x, output, maps);
    extrapolate(out, output, maps, state.extrapolationValue);
    return [tensorOf(x.dtype, output, out)];
  }
  let data = float32Data(x, 'X');
  const shape = [...x.shape];
  // Linear and cubic interpolation are separable: one axis at a time gives the multilinear (bicubic) result.
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const map = maps[axis];
    if (map === undefined) continue;
    data = resampleAxis(data, shape, axis, map);
    shape[axis] = output[axis]!;
  }
  if (data === x.data) data = data.slice();
  extrapolate(data, output, maps, state.extrapolationValue);
  return [floatOutput(x.dtype, output, data)];
}

/**
 * Resize (opsets 10 to 19): nearest (every nearest_mode), linear and cubic (cubic_coeff_a, exclude_outside) over
 * any axes, with every coordinate_transformation_mode, from scales or sizes (keep_aspect_ratio_policy, axes);
 * antialias is refused. Nearest runs on any numeric dtype, linear and cubic on float.
 */
export const resizeKernel = jsKernel('Resize', {
  opsets: { min: 10 },
  prepare: prepareResize,
  run: runResize,
});

/** Upsample (opset 7 on): Resize-10's asymmetric nearest or linear, scales as an attribute (7) or input (9). */
export const upsampleKernel = jsKernel('Upsample', {
  opsets: { min: 7 },
  prepare: prepareResize,
  run: runResize,
});
