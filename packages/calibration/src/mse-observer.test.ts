import { type LinearQuantParams, fakeQuantize } from '@quantkit/core';
import { describeObserver, quantErrorOf } from '@quantkit/core/testing';
import { describe, expect, it } from 'vitest';
import { minMaxObserver } from './min-max-observer.js';
import { createMseObserver, mseObserver } from './mse-observer.js';
import { batchesOf, laplaceSamples } from './test-samples.js';

describeObserver(mseObserver, { perChannel: false });
describeObserver(createMseObserver({ bits: 4, bins: 200 }), { perChannel: false });

/**
 * Mean squared error of actually quantizing `values` with `bits`-bit linear parameters for [low, high], built here
 * the way the linear quantizer does: symmetric signed codes with scale 2 * max|range| / (2^bits - 1) and zero point
 * 0; asymmetric unsigned codes over the range widened to include 0.
 */
function quantizationMse(values: Float32Array, low: number, high: number, bits: number, symmetric: boolean): number {
  let params: LinearQuantParams;
  if (symmetric) {
    const magnitude = Math.max(-low, high);
    params = {
      scale: Float32Array.of((2 * magnitude) / (2 ** bits - 1)),
      zeroPoint: Int32Array.of(0),
      granularity: 'tensor',
      bits,
      dtype: 'int8',
      qmin: -(2 ** (bits - 1)),
      qmax: 2 ** (bits - 1) - 1,
    };
  } else {
    const lo = Math.min(low, 0);
    const hi = Math.max(high, 0);
    const scale = (hi - lo) / (2 ** bits - 1);
    params = {
      scale: Float32Array.of(scale),
      zeroPoint: Int32Array.of(Math.round(-lo / scale)),
      granularity: 'tensor',
      bits,
      dtype: 'uint8',
      qmin: 0,
      qmax: 2 ** bits - 1,
    };
  }
  const approximated = fakeQuantize(values, [values.length], params);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - approximated[i]!) ** 2;
  return sum / values.length;
}

function observeAll(observer: { observe(values: Float32Array, shape: number[]): void }, values: Float32Array): void {
  for (const batch of batchesOf(values, 5000)) observer.observe(batch, [batch.length]);
}

describe('mseObserver', () => {
  for (const bits of [8, 4]) {
    it(`symmetric ${bits}-bit: captures nearly all of the error a brute-force clip search can save over min-max`, () => {
      const values = laplaceSamples(60_000, 1, 21 + bits);
      const mse = createMseObserver({ bits }).create({ symmetric: true });
      const minMax = minMaxObserver.create({ symmetric: true });
      observeAll(mse, values);
      observeAll(minMax, values);
      const maxAbs = minMax.range().max[0]!;
      const minMaxError = quantizationMse(values, -maxAbs, maxAbs, bits, true);
      let bestError = Infinity;
      for (let k = 1; k <= 200; k++) {
        const t = (maxAbs * k) / 200;
        bestError = Math.min(bestError, quantizationMse(values, -t, t, bits, true));
      }
      const chosen = mse.range();
      expect(chosen.min[0]).toBe(-chosen.max[0]!);
      const error = quantizationMse(values, chosen.min[0]!, chosen.max[0]!, bits, true);
      // The setup must leave something to gain (Laplace tails: ~13% at 8 bits, far more at 4), and the observer must
      // gain at least 90% of it.
      expect(minMaxError - bestError).toBeGreaterThan(0.1 * minMaxError);
      expect(error).toBeLessThanOrEqual(minMaxError - 0.9 * (minMaxError - bestError));
    });
  }

  it('asymmetric 4-bit: shrinks a skewed range from both ends about as well as a brute-force grid', () => {
    const values = laplaceSamples(20_000, 1, 3).map((v) => (v > 0 ? 3 * v : v) + 0.5);
    const mse = createMseObserver({ bits: 4 }).create();
    const minMax = minMaxObserver.create();
    observeAll(mse, values);
    observeAll(minMax, values);
    const low = minMax.range().min[0]!;
    const high = minMax.range().max[0]!;
    const minMaxError = quantizationMse(values, low, high, 4, false);
    let bestError = Infinity;
    for (let a = 0; a < 30; a++) {
      for (let b = 0; b < 30; b++) {
        const error = quantizationMse(values, (low * (a + 1)) / 30, (high * (b + 1)) / 30, 4, false);
        bestError = Math.min(bestError, error);
      }
    }
    const chosen = mse.range();
    expect(chosen.min[0]!).toBeGreaterThan(low);
    expect(chosen.max[0]!).toBeLessThan(high);
    const error = quantizationMse(values, chosen.min[0]!, chosen.max[0]!, 4, false);
    expect(minMaxError - bestError).toBeGreaterThan(0.2 * minMaxError);
    expect(error).toBeLessThanOrEqual(minMaxError - 0.9 * (minMaxError - bestError));
  });

  it('keeps the full range of uniform data, where clipping only hurts', () => {
    const values = Float32Array.from({ length: 4096 }, (_, i) => (i / 4095) * 2 - 1);
    const observer = mseObserver.create({ symmetric: true });
    observer.observe(values, [values.length]);
    expect(observer.range().max[0]!).toBeGreaterThan(0.99);
  });

  it('validates bits and bins, naming the option', () => {
    for (const bits of [1, 17, 8.5]) {
      const error = quantErrorOf(() => mseObserver.create({ bits }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/observer "mse": option bits must be an integer from 2 to 16/);
    }
    expect(quantErrorOf(() => mseObserver.create({ bins: 0 })).message).toMatch(/option bins/);
    expect(quantErrorOf(() => createMseObserver({ bits: 40 })).code).toBe('INVALID_ARGUMENT');
  });
});
