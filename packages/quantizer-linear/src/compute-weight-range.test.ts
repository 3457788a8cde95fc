import { QuantError } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type WeightRangeOptions, computeWeightRange } from './compute-weight-range.js';

/** Reference: walk every multi-index explicitly and bucket it by its group coordinates. */
function referenceRange(shape: number[], data: Float32Array, options: WeightRangeOptions) {
  const rank = shape.length;
  const axis = options.granularity === 'tensor' ? -1 : ((options.axis ?? 0) + rank) % rank;
  const groupShape =
    options.granularity === 'tensor'
      ? [1]
      : options.granularity === 'channel'
        ? [shape[axis]!]
        : shape.map((dim, d) => (d === axis ? Math.ceil(dim / options.blockSize!) : dim));
  const groups = groupShape.reduce((a, b) => a * b, 1);
  const min = new Array<number>(groups).fill(Number.POSITIVE_INFINITY);
  const max = new Array<number>(groups).fill(Number.NEGATIVE_INFINITY);
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < data.length; flat++) {
    let group = 0;
    if (options.granularity === 'channel') group = index[axis]!;
    if (options.granularity === 'block') {
      for (let d = 0; d < rank; d++) {
        group =
          group * groupShape[d]! + (d === axis ? Math.floor(index[d]! / options.blockSize!) : index[d]!);
      }
    }
    min[group] = Math.min(min[group]!, data[flat]!);
    max[group] = Math.max(max[group]!, data[flat]!);
    // Advance the row-major multi-index.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]! += 1;
      if (index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return {
    min: min.map((v) => (Number.isFinite(v) ? v : 0)),
    max: max.map((v) => (Number.isFinite(v) ? v : 0)),
  };
}

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('computeWeightRange', () => {
  it('documents its example', () => {
    const range = computeWeightRange(
      { shape: [2, 3], data: [1, -2, 3, 4, 5, -6] },
      { granularity: 'channel', axis: -1 },
    );
    expect(Array.from(range.min)).toEqual([1, -2, -6]);
    expect(Array.from(range.max)).toEqual([4, 5, 3]);
    expect(range.axis).toBe(1);
  });

  it('per tensor has one entry and no axis', () => {
    const range = computeWeightRange({ shape: [3], data: [2, -1, 0.5] }, { granularity: 'tensor', axis: 7 });
    expect(Array.from(range.min)).toEqual([-1]);
    expect(Array.from(range.max)).toEqual([2]);
    expect(range.axis).toBeUndefined();
  });

  it('per block with a short last block', () => {
    // [1, 5] blocks of 2 along axis 1: {0,1} {2,3} {4}
    const range = computeWeightRange(
      { shape: [1, 5], data: [1, 2, -3, 4, -5] },
      { granularity: 'block', axis: 1, blockSize: 2 },
    );
    expect(Array.from(range.min)).toEqual([1, -3, -5]);
    expect(Array.from(range.max)).toEqual([2, 4, -5]);
  });

  it('reports empty groups as [0, 0]', () => {
    const range = computeWeightRange({ shape: [0, 3], data: [] }, { granularity: 'channel', axis: 1 });
    expect(Array.from(range.min)).toEqual([0, 0, 0]);
    expect(Array.from(range.max)).toEqual([0, 0, 0]);
  });

  it('property: agrees with a multi-index reference on any shape, axis (incl. negative) and block size', () => {
    const arbitrary = fc
      .record({
        shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        granularity: fc.constantFrom('tensor' as const, 'channel' as const, 'block' as const),
        axisPick: fc.integer({ min: 0, max: 7 }),
        negative: fc.boolean(),
        blockSize: fc.integer({ min: 1, max: 6 }),
      })
      .chain((spec) => {
        const size = spec.shape.reduce((a, b) => a * b, 1);
        return fc
          .array(fc.float({ min: -1000, max: 1000, noNaN: true }), { minLength: size, maxLength: size })
          .map((values) => ({ ...spec, data: Float32Array.from(values) }));
      });
    fc.assert(
      fc.property(arbitrary, ({ shape, granularity, axisPick, negative, blockSize, data }) => {
        const rank = shape.length;
        const axis = (axisPick % rank) - (negative ? rank : 0);
        const options = { granularity, axis, blockSize };
        const range = computeWeightRange({ shape, data }, options);
        const expected = referenceRange(shape, data, options);
        expect(Array.from(range.min)).toEqual(expected.min);
        expect(Array.from(range.max)).toEqual(expected.max);
        expect(range.axis).toBe(granularity === 'tensor' ? undefined : (axis + rank) % rank);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ])('refuses %s, naming the element', (bad) => {
    const error = caught(() =>
      computeWeightRange(
        { shape: [2, 2, 2], data: [0, 0, 0, 0, 0, 0, bad, 0] },
        { granularity: 'channel', axis: 2 },
      ),
    );
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toContain(`has ${bad} at index [1, 1, 0]`);
  });

  it.each([
    [{ shape: [2], data: [1, 2, 3] }, { granularity: 'tensor' }, /needs 2 values, got 3/],
    [{ shape: [2, -1], data: [] }, { granularity: 'tensor' }, /not a non-negative integer/],
    [
      { shape: [2, 2], data: [1, 2, 3, 4] },
      { granularity: 'rows' },
      /options\.granularity must be "tensor", "channel" or "block", got "rows"/,
    ],
    [
      { shape: [2, 2], data: [1, 2, 3, 4] },
      { granularity: 'channel', axis: 2 },
      /options\.axis 2 .*expected an integer from -2 to 1/,
    ],
    [{ shape: [], data: [1] }, { granularity: 'channel' }, /options\.axis 0 .*rank-0 .*a scalar has no axes/],
    [
      { shape: [4], data: [1, 2, 3, 4] },
      { granularity: 'block', axis: 0 },
      /options\.blockSize must be a positive integer/,
    ],
  ])('refuses %j with %j', (weight, options, message) => {
    const error = caught(() => computeWeightRange(weight, options as WeightRangeOptions));
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toMatch(message);
  });
});
