import { QuantError, type QuantizerOptions, type ValueRange } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { MIN_FLOAT32_SCALE, linearParamsForRange } from './linear-params-for-range.js';

const asym8: QuantizerOptions = { bits: 8, symmetric: false, granularity: 'tensor' };

function refusal(range: ValueRange, options: QuantizerOptions): Error {
  try {
    linearParamsForRange(range, options);
  } catch (error) {
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    return error as Error;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('linearParamsForRange', () => {
  it('matches its documented example', () => {
    const params = linearParamsForRange({ min: Float32Array.of(-1), max: Float32Array.of(2) }, asym8);
    expect(params.scale[0]).toBe(Math.fround(3 / 255));
    expect(params.zeroPoint[0]).toBe(85);
    expect(params.dtype).toBe('uint8');
    expect(params.granularity).toBe('tensor');
    expect(params.axis).toBeUndefined();
  });

  it('rounds zero points half to even, from the float64 scale', () => {
    // 8-bit asymmetric [-0.5, 1.0]: qmin - rmin / scale = 0.5 / (1.5 / 255) = 85 exactly; [-2.5, 0.5] over 3 steps
    // (2-bit) gives 2.5 / 1 = 2.5 -> 2, and [-3.5, 0.5] over 3 steps gives 3.5 / (4 / 3) = 2.625 -> 3.
    const two = { bits: 2, symmetric: false, granularity: 'tensor' } as const;
    expect(
      linearParamsForRange({ min: Float32Array.of(-2.5), max: Float32Array.of(0.5) }, two).zeroPoint[0],
    ).toBe(2);
    expect(
      linearParamsForRange({ min: Float32Array.of(-3.5), max: Float32Array.of(0.5) }, two).zeroPoint[0],
    ).toBe(3);
  });

  it('keeps per-channel and per-block axes, resolving from the range or the options', () => {
    const range = { min: Float32Array.of(-1, -2, 0), max: Float32Array.of(1, 0, 0) };
    const byOptions = linearParamsForRange(range, {
      bits: 8,
      symmetric: true,
      granularity: 'channel',
      axis: 1,
    });
    expect(byOptions.axis).toBe(1);
    expect(Array.from(byOptions.scale)).toEqual([Math.fround(2 / 255), Math.fround(4 / 255), 1]);
    const byRange = linearParamsForRange(
      { ...range, axis: 3 },
      { bits: 8, symmetric: true, granularity: 'block', blockSize: 16 },
    );
    expect(byRange.axis).toBe(3);
    expect(byRange.blockSize).toBe(16);
  });

  it('never produces a scale below the smallest normal float32', () => {
    const params = linearParamsForRange({ min: Float32Array.of(-1e-45), max: Float32Array.of(1e-45) }, asym8);
    expect(params.scale[0]).toBe(MIN_FLOAT32_SCALE);
    expect(params.zeroPoint[0]).toBe(0);
    const sym = linearParamsForRange(
      { min: Float32Array.of(0), max: Float32Array.of(1e-44) },
      { ...asym8, symmetric: true },
    );
    expect(sym.scale[0]).toBe(MIN_FLOAT32_SCALE);
  });

  it('refuses ranges that do not fit the granularity or are not finite and ordered', () => {
    expect(refusal({ min: Float32Array.of(0, 0), max: Float32Array.of(1, 1) }, asym8).message).toMatch(
      /granularity "tensor" needs a range with one min and max, got 2/,
    );
    expect(refusal({ min: Float32Array.of(0), max: Float32Array.of(1, 1) }, asym8).message).toMatch(
      /must match/,
    );
    expect(refusal({ min: Float32Array.of(2), max: Float32Array.of(1) }, asym8).message).toMatch(
      /min must not exceed max/,
    );
    expect(refusal({ min: Float32Array.of(Number.NaN), max: Float32Array.of(1) }, asym8).message).toMatch(
      /must be finite/,
    );
    const channel = { ...asym8, granularity: 'channel' as const };
    expect(
      refusal({ min: Float32Array.of(0), max: Float32Array.of(1) }, { ...channel, axis: -1 }).message,
    ).toMatch(/options\.axis -1 is negative and the range carries no axis/);
    expect(
      refusal({ min: Float32Array.of(0), max: Float32Array.of(1), axis: 1 }, { ...channel, axis: 0 }).message,
    ).toMatch(/options\.axis 0 disagrees with the range's axis 1/);
  });
});
