import { QuantError, type ValueRange } from '@quantkit/core';
import type { ResolvedLinearOptions } from './resolve-linear-options.js';

/**
 * Checks that a range fits the requested granularity and holds finite, ordered bounds; returns the parameter axis
 * (non-negative; undefined per tensor).
 * @throws QuantError INVALID_ARGUMENT naming the quantizer and what is wrong with the range.
 */
export function rangeAxis(
  range: ValueRange,
  options: ResolvedLinearOptions,
  quantizer: string,
): number | undefined {
  const fail = (message: string) => new QuantError('INVALID_ARGUMENT', `${quantizer} quantizer: ${message}`);
  if (typeof range !== 'object' || range === null || range.min === undefined || range.max === undefined) {
    throw fail('the value range must be an object with min and max arrays');
  }
  const { min, max } = range;
  if (min.length !== max.length) {
    throw fail(`range.min has ${min.length} values but range.max has ${max.length}; they must match`);
  }
  for (let i = 0; i < min.length; i++) {
    const low = min[i]!;
    const high = max[i]!;
    if (!Number.isFinite(low) || !Number.isFinite(high)) {
      throw fail(`range ${i} is [${low}, ${high}]; calibrated ranges must be finite`);
    }
    if (low > high) throw fail(`range ${i} is [${low}, ${high}]; min must not exceed max`);
  }
  if (options.granularity === 'tensor') {
    if (min.length !== 1) {
      throw fail(`granularity "tensor" needs a range with one min and max, got ${min.length}`);
    }
    return undefined;
  }
  if (range.axis !== undefined) {
    if (!Number.isInteger(range.axis) || range.axis < 0) {
      throw fail(`range.axis must be a non-negative integer, got ${String(range.axis)}`);
    }
    // A negative options.axis cannot be compared without the tensor's rank; computeWeightRange normalized it.
    if (options.axisGiven && options.axis >= 0 && options.axis !== range.axis) {
      throw fail(`options.axis ${options.axis} disagrees with the range's axis ${range.axis}`);
    }
    return range.axis;
  }
  if (options.axis < 0) {
    throw fail(
      `options.axis ${options.axis} is negative and the range carries no axis, so it cannot be resolved ` +
        'without the tensor shape; pass a non-negative axis',
    );
  }
  return options.axis;
}
