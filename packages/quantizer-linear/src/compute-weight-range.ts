import {
  GRANULARITIES,
  QuantError,
  type QuantizerOptions,
  type ValueRange,
  axisLayout,
  forEachParamRun,
  listChoices,
  sizeOf,
} from '@quantkit/core';

/** Anything with a row-major shape and numeric data: a float32 Tensor, or plain arrays in tests and tools. */
export interface WeightValues {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** The options {@link computeWeightRange} reads. */
export type WeightRangeOptions = Pick<QuantizerOptions, 'granularity' | 'axis' | 'blockSize'>;

function invalid(message: string): QuantError {
  return new QuantError('INVALID_ARGUMENT', message);
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Row-major flat index -> multi-index, so an error can point at the element the user sees in their tools. */
function multiIndex(shape: readonly number[], flat: number): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d]!;
    index[d] = rest % dim;
    rest = Math.floor(rest / dim);
  }
  return index;
}

/**
 * Checks shape, data length, granularity, axis and blockSize against a weight; returns the normalized axis
 * (undefined per tensor) and the number of scale groups.
 */
function weightLayout(
  weight: WeightValues,
  options: WeightRangeOptions,
): { axis: number | undefined; groups: number } {
  const { shape } = weight;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw invalid(
        `weight shape ${describeShape(shape)} has a dimension that is not a non-negative integer`,
      );
    }
  }
  if (weight.data.length !== sizeOf(shape)) {
    throw invalid(
      `weight of shape ${describeShape(shape)} needs ${sizeOf(shape)} values, got ${weight.data.length}`,
    );
  }
  const { granularity } = options;
  if (!GRANULARITIES.includes(granularity)) {
    throw invalid(
      `options.granularity must be ${listChoices(GRANULARITIES)}, got ${JSON.stringify(granularity)}`,
    );
  }
  if (granularity === 'tensor') return { axis: undefined, groups: 1 };

  const rank = shape.length;
  const axis = options.axis ?? 0;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const valid = rank === 0 ? 'none: a scalar has no axes' : `an integer from ${-rank} to ${rank - 1}`;
    throw invalid(
      `options.axis ${String(axis)} does not fit a rank-${rank} weight of shape ${describeShape(shape)}; ` +
        `expected ${valid}`,
    );
  }
  const layout = axisLayout(shape, axis);
  if (granularity === 'channel') return { axis: layout.axis, groups: layout.axisSize };
  const { blockSize } = options;
  if (!Number.isInteger(blockSize) || (blockSize as number) < 1) {
    throw invalid(
      `options.blockSize must be a positive integer for granularity "block", got ${String(blockSize)}`,
    );
  }
  const blocks = Math.ceil(layout.axisSize / (blockSize as number));
  return { axis: layout.axis, groups: layout.outer * blocks * layout.inner };
}

/**
 * Min and max of a weight per tensor, per channel along `options.axis` (negative counts from the end), or per block
 * of `options.blockSize` elements along the axis. Groups are ordered as core's `forEachParamRun` numbers them, i.e.
 * row-major over the parameter shape (for blocks: the weight shape with `ceil(D / blockSize)` along the axis), so
 * the result feeds `linearParamsForRange` and then `quantizeLinear` directly. The returned axis is non-negative.
 *
 * @example
 * computeWeightRange({ shape: [2, 3], data: [1, -2, 3, 4, 5, -6] }, { granularity: 'channel', axis: -1 });
 * // { min: [1, -2, -6], max: [4, 5, 3], axis: 1 }
 * @throws QuantError INVALID_ARGUMENT for a NaN or infinite weight (naming the element), an axis outside the
 * weight's rank, a blockSize that is not a positive integer, an unknown granularity, or data that does not fit
 * the shape.
 */
export function computeWeightRange(weight: WeightValues, options: WeightRangeOptions): ValueRange {
  const { axis, groups } = weightLayout(weight, options);
  const min = new Float64Array(groups).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(groups).fill(Number.NEGATIVE_INFINITY);
  const { data, shape } = weight;
  const runs = { granularity: options.granularity, axis, blockSize: options.blockSize };
  forEachParamRun(shape, runs, (start, end, group, stride) => {
    let low = min[group]!;
    let high = max[group]!;
    for (let i = start; i < end; i += stride) {
      const value = data[i]!;
      if (!Number.isFinite(value)) {
        throw invalid(
          `weight of shape ${describeShape(shape)} has ${value} at index [${multiIndex(shape, i).join(', ')}]; ` +
            'quantization needs finite weights (the model may be corrupt or was exported from a diverged run)',
        );
      }
      if (value < low) low = value;
      if (value > high) high = value;
    }
    min[group] = low;
    max[group] = high;
  });
  const range = { min: new Float32Array(groups), max: new Float32Array(groups), axis };
  for (let g = 0; g < groups; g++) {
    // A group with no elements (a zero-sized dimension) keeps the fill values; report it as the range [0, 0].
    const empty = min[g]! > max[g]!;
    range.min[g] = empty ? 0 : min[g]!;
    range.max[g] = empty ? 0 : max[g]!;
  }
  return range;
}
