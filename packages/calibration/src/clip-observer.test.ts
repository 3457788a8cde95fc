import { describeObserver } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minMaxObserver } from './min-max-observer.js';
import { clipObserver, createClipObserver, mseObserver } from './mse-observer.js';
import { laplaceSamples } from './test-samples.js';

describeObserver(clipObserver, { perChannel: false });
describeObserver(createClipObserver({ gain: 3, bins: 300 }), { perChannel: false });

function rangeOf(plugin: typeof clipObserver, values: Float32Array, symmetric: boolean): [number, number] {
  const observer = plugin.create({ symmetric });
  observer.observe(values, [values.length]);
  const { min, max } = observer.range();
  return [min[0]!, max[0]!];
}

describe('clip observer', () => {
  it('takes either the observed extremes or the MSE range, never anything else', () => {
    const seed = 7_2026;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.boolean(),
        fc.double({ min: 1.01, max: 20, noNaN: true }),
        (sampleSeed, scale, symmetric, gain) => {
          const values = laplaceSamples(4000, scale, sampleSeed);
          const plugin = createClipObserver({ gain });
          const clip = rangeOf(plugin, values, symmetric);
          const extremes = rangeOf(minMaxObserver as typeof clipObserver, values, symmetric);
          const mse = rangeOf(mseObserver, values, symmetric);
          const matches = (range: [number, number]) =>
            Math.abs(clip[0] - range[0]) <= 1e-6 * scale && Math.abs(clip[1] - range[1]) <= 1e-6 * scale;
          expect(
            matches(extremes) || matches(mse),
            `seed ${seed}: clip ${clip}, extremes ${extremes}, mse ${mse}`,
          ).toBe(true);
        },
      ),
      { seed, numRuns: 60 },
    );
  });

  it('clips a heavy tail where that cuts the expected error, and not with a gain no clip reaches', () => {
    // A million values in [-1, 1] and one at 10: min-max spends 90% of the codes on the one value. Clipping it
    // costs 81 in squared error; the wider step costs about 155 over the million values inside.
    const values = Float32Array.from({ length: 1_000_000 }, (_, i) => ((i * 7919) % 2001) / 1000 - 1);
    values[12_345] = 10;
    const [, observedMax] = rangeOf(minMaxObserver as typeof clipObserver, values, false);
    const [, clipped] = rangeOf(clipObserver, values, false);
    expect(observedMax).toBe(10);
    expect(clipped).toBeLessThan(5);
    const [, unclipped] = rangeOf(createClipObserver({ gain: 1e9 }), values, false);
    expect(unclipped).toBe(observedMax);
  });

  it('refuses a gain that is not above 1', () => {
    expect(() => createClipObserver({ gain: 1 }).create({})).toThrow(
      /option gain must be a number above 1, got 1/,
    );
  });
});
