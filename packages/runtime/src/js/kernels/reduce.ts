import { type KernelNode, QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { integers, normalizeAxis, required, stridesOf, tensorOf } from '../tensor-utils.js';
import { gatherStrided } from './copy-strided.js';

type Reduction =
  | 'ReduceSum'
  | 'ReduceMean'
  | 'ReduceMax'
  | 'ReduceMin'
  | 'ReduceProd'
  | 'ReduceL1'
  | 'ReduceL2'
  | 'ReduceSumSquare'
  | 'ReduceLogSum'
  | 'ReduceLogSumExp';

/** Reductions defined on integer tensors (the others take logs, roots or exponentials). */
const INTEGER_REDUCTIONS = new Set<Reduction>([
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceSumSquare',
]);

interface ReduceState {
  readonly opType: Reduction;
  /** The axes attribute (opsets before the one that made axes an input); undefined when axes come as input 1. */
  readonly axesAttribute: readonly number[] | undefined;
  readonly axesFromInput: boolean;
  readonly keepDims: boolean;
  readonly noopWithEmptyAxes: boolean;
}

/**
 * The input moved so the reduced axes are innermost: `groups` runs of `count` contiguous values, one per output
 * element. No copy when the reduced axes already are the trailing ones.
 */
function groupReduced(x: Tensor, reduced: ReadonlySet<number>): { data: Tensor['data']; count: number } {
  const rank = x.shape.length;
  const kept = x.shape.flatMap((_, axis) => (reduced.has(axis) ? [] : [axis]));
  const order = [...kept, ...[...reduced].sort((a, b) => a - b)];
  const count = sizeOf([...reduced].map((axis) => x.shape[axis]!));
  if (order.every((axis, index) => axis === index) || rank === 0) return { data: x.data, count };
  const strides = stridesOf(x.shape);
  const moved = gatherStrided(
    x,
    0,
    order.map((axis) => strides[axis]!),
    order.map((axis) => x.shape[axis]!),
  );
  return { data: moved.data, count };
}

function reduceNumbers(opType: Reduction, x: ArrayLike<number>, out: Float64Array, count: number): void {
  const groups = out.length;
  for (let group = 0, base = 0; group < groups; group++, base += count) {
    let result: number;
    switch (opType) {
      case 'ReduceSum':
      case 'ReduceMean':
      case 'ReduceLogSum': {
        let sum = 0;
        for (let j = 0; j < count; j++) sum += x[base + j]!;
        // The mean of nothing is 0 in onnxruntime.
        if (opType === 'ReduceMean') result = count === 0 ? 0 : sum / count;
        else result = opType === 'ReduceLogSum' ? Math.log(sum) : sum;
        break;
      }
      case 'ReduceMax': {
        result = -Infinity;
        for (let j = 0; j < count; j++) if (x[base + j]! > result) result = x[base + j]!;
        break;
      }
      case 'ReduceMin': {
        result = Infinity;
        for (let j = 0; j < count; j++) if (x[base + j]! < result) result = x[base + j]!;
        break;
      }
      case 'ReduceProd': {
        result = 1;
        for (let j = 0; j < count; j++) result *= x[base + j]!;
        break;
      }
      case 'ReduceL1': {
        result = 0;
        for (let j = 0; j < count; j++) result += Math.abs(x[base + j]!);
        break;
      }
      case 'ReduceL2':
      case 'ReduceSumSquare': {
        let sum = 0;
        for (let j = 0; j < count; j++) sum += x[base + j]! * x[base + j]!;
        result = opType === 'ReduceL2' ? Math.sqrt(sum) : sum;
        break;
      }
      case 'ReduceLogSumExp': {
        let max = -Infinity;
        for (let j = 0; j < count; j++) if (x[base + j]! > max) max = x[base + j]!;
        if (!Number.isFinite(max)) {
          result = max;
          break;
        }
        let sum = 0;
        for (let j = 0; j < count; j++) sum += Math.exp(x[base + j]! - max);
        result = max + Math.log(sum);
        break;
      }
    }
    out[group] = result;
  }
}

function reduceBigInts(opType: Reduction, x: BigInt64Array, out: BigInt64Array, count: number): void {
  const groups = out.length;
  const n = BigInt(count);
  for (let group = 0, base = 0; group < groups; group++, base += count) {
    let result = opType === 'ReduceProd' ? 1n : 0n;
    if (opType === 'ReduceMax' || opType === 'ReduceMin') {
      if (count === 0) throw new QuantError('INVALID_ARGUMENT', `${opType} over an empty int64 axis`);
      result = x[base]!;
    }
    for (let j = 0; j < count; j++) {
      const value = x[base + j]!;
      switch (opType) {
        case 'ReduceSum':
        case 'ReduceMean':
          result += value;
          break;
        case 'ReduceMax':
          if (value > result) result = value;
          break;
        case 'ReduceMin':
          if (value < result) result = value;
          break;
        case 'ReduceProd':
          result *= value;
          break;
        case 'ReduceL1':
          result += value < 0n ? -value : value;
          break;
        default:
          result += value * value;
      }
    }
    out[group] = BigInt.asIntN(64, opType === 'ReduceMean' && count > 0 ? result / n : result);
  }
}

/**
 * A Reduce* op: axes as an attribute (before opset 18; ReduceSum before 13) or as optional input 1, keepdims, and
 * noop_with_empty_axes (no axes then means identity rather than reducing every axis). Floats are accumulated in
 * float64; int32/int8/uint8 in float64 too (ReduceMean truncates), int64 in bigints.
 */
function reduction(opType: Reduction) {
  const axesInputOpset = opType === 'ReduceSum' ? 13 : 18;
  return jsKernel(opType, {
    prepare: (node: KernelNode): ReduceState => ({
      opType,
      axesFromInput: node.opset >= axesInputOpset,
      axesAttribute:
        node.opset < axesInputOpset && node.attributes.has('axes') ? node.attributes.ints('axes') : undefined,
      keepDims: node.attributes.int('keepdims', 1) === 1,
      noopWithEmptyAxes: node.attributes.int('noop_with_empty_axes', 0) === 1,
    }),
    run: (state, [input, axesInput]) => {
      const x = required(input, 'data');
      const rank = x.shape.length;
      const given = state.axesFromInput
        ? axesInput === undefined
          ? []
          : integers(axesInput)
        : (state.axesAttribute ?? []);
      if (given.length === 0 && state.noopWithEmptyAxes) return [x];
      const axes = given.length === 0 ? x.shape.map((_, axis) => axis) : given;
      const reduced = new Set(axes.map((axis) => normalizeAxis(axis, rank)));
      const shape = state.keepDims
        ? x.shape.map((dim, axis) => (reduced.has(axis) ? 1 : dim))
        : x.shape.filter((_, axis) => !reduced.has(axis));
      const groups = sizeOf(shape);
      const { data, count } = groupReduced(x, reduced);
      if (x.dtype === 'int64') {
        if (!INTEGER_REDUCTIONS.has(opType)) throw new QuantError('UNSUPPORTED', `${opType} on int64`);
        const out = new BigInt64Array(groups);
        reduceBigInts(opType, data as BigInt64Array, out, count);
        return [tensorOf('int64', shape, out)];
      }
      const float = x.dtype === 'float32' || x.dtype === 'float64';
      const integer = x.dtype === 'int32' || x.dtype === 'int8' || x.dtype === 'uint8';
      if (!float && !(integer && INTEGER_REDUCTIONS.has(opType))) {
        throw new QuantError('UNSUPPORTED', `${opType} on ${x.dtype} is not implemented`);
      }
      const values = new Float64Array(groups);
      reduceNumbers(opType, data as ArrayLike<number>, values, count);
      if (integer && opType === 'ReduceMean')
        for (let i = 0; i < groups; i++) values[i] = Math.trunc(values[i]!);
      const out = allocate(x.dtype, groups) as Float32Array;
      out.set(values);
      return [tensorOf(x.dtype, shape, out)];
    },
  });
}

/** ArgMax/ArgMin along `axis` (int64 indices); ties go to the first index, or the last with select_last_index. */
function argReduction(opType: 'ArgMax' | 'ArgMin') {
  return jsKernel(opType, {
    prepare: (node) => ({
      axis: node.attributes.int('axis', 0),
      keepDims: node.attributes.int('keepdims', 1) === 1,
      last: node.attributes.int('select_last_index', 0) === 1,
    }),
    run: ({ axis: attribute, keepDims, last }, [input]) => {
      const x = required(input, 'data');
      if (x.dtype === 'float16' || x.dtype === 'bfloat16' || x.dtype === 'bool') {
        throw new QuantError('UNSUPPORTED', `${opType} on ${x.dtype} is not implemented`);
      }
      const axis = normalizeAxis(attribute, x.shape.length);
      const dim = x.shape[axis]!;
      if (dim === 0) throw new QuantError('INVALID_ARGUMENT', `${opType} over an empty axis ${axis}`);
      const outer = sizeOf(x.shape.slice(0, axis));
      const inner = sizeOf(x.shape.slice(axis + 1));
      const values = x.data as ArrayLike<number>;
      const out = new BigInt64Array(outer * inner);
      const max = opType === 'ArgMax';
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * dim * inner + i;
          let best = values[base]!;
          let bestIndex = 0;
          for (let d = 1; d < dim; d++) {
            const value = values[base + d * inner]!;
            const better = max
              ? value > best || (last && value === best)
              : value < best || (last && value === best);
            if (better) {
              best = value;
              bestIndex = d;
            }
          }
          out[o * inner + i] = BigInt(bestIndex);
        }
      }
      const shape = keepDims
        ? x.shape.map((extent, index) => (index === axis ? 1 : extent))
        : x.shape.filter((_, index) => index !== axis);
      return [tensorOf('int64', shape, out)];
    },
  });
}

export const reduceKernels = [
  reduction('ReduceSum'),
  reduction('ReduceMean'),
  reduction('ReduceMax'),
  reduction('ReduceMin'),
  reduction('ReduceProd'),
  reduction('ReduceL1'),
  reduction('ReduceL2'),
  reduction('ReduceSumSquare'),
  reduction('ReduceLogSum'),
  reduction('ReduceLogSumExp'),
  argReduction('ArgMax'),
  argReduction('ArgMin'),
];
