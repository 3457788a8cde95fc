import { QuantError } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { integers, normalizeAxis, required, stridesOf } from '../tensor-utils.js';
import { gatherStrided } from './copy-strided.js';

interface SliceAttributes {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly axes: readonly number[] | undefined;
}

/**
 * Slice: opset 1 takes starts/ends/axes as attributes, opset 10+ as inputs (int32 or int64) with optional steps.
 * Negative starts and ends count from the end of the axis; out-of-range ones are clamped (to [0, dim] for positive
 * steps, [-1, dim - 1] for negative ones, which walk the axis backwards). Any dtype.
 */
const slice = jsKernel('Slice', {
  prepare: (node): SliceAttributes | undefined =>
    node.opset < 10
      ? {
          starts: node.attributes.ints('starts'),
          ends: node.attributes.ints('ends'),
          axes: node.attributes.has('axes') ? node.attributes.ints('axes') : undefined,
        }
      : undefined,
  run: (attributes, [data, startsInput, endsInput, axesInput, stepsInput]) => {
    const x = required(data, 'data');
    const starts = attributes?.starts ?? integers(required(startsInput, 'starts'));
    const ends = attributes?.ends ?? integers(required(endsInput, 'ends'));
    const axes =
      attributes !== undefined
        ? (attributes.axes ?? starts.map((_, index) => index))
        : axesInput === undefined
          ? starts.map((_, index) => index)
          : integers(axesInput);
    const steps =
      stepsInput === undefined || attributes !== undefined ? starts.map(() => 1) : integers(stepsInput);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
      throw new QuantError(
        'INVALID_MODEL',
        `starts, ends, axes and steps have ${starts.length}, ${ends.length}, ${axes.length} and ${steps.length} values; they must match`,
      );
    }
    const rank = x.shape.length;
    const strides = stridesOf(x.shape);
    const outStrides = [...strides];
    const shape = [...x.shape];
    const sliced = new Set<number>();
    let offset = 0;
    axes.forEach((given, index) => {
      const axis = normalizeAxis(given, rank);
      if (sliced.has(axis)) throw new QuantError('INVALID_MODEL', `axes [${axes.join(', ')}] repeat an axis`);
      sliced.add(axis);
      const dim = x.shape[axis]!;
      const step = steps[index]!;
      if (step === 0) throw new QuantError('INVALID_MODEL', 'a step of 0 is not allowed');
      let start = starts[index]!;
      let end = ends[index]!;
      if (start < 0) start += dim;
      if (end < 0) end += dim;
      if (step > 0) {
        start = Math.min(Math.max(start, 0), dim);
        end = Math.min(Math.max(end, 0), dim);
      } else {
        start = Math.min(Math.max(start, 0), dim - 1);
        end = Math.min(Math.max(end, -1), dim - 1);
      }
      const count = Math.max(0, Math.ceil((end - start) / step));
      shape[axis] = count;
      outStrides[axis] = strides[axis]! * step;
      if (count > 0) offset += start * strides[axis]!;
    });
    return [gatherStrided(x, offset, outStrides, shape)];
  },
});

export const sliceKernels = [slice];
