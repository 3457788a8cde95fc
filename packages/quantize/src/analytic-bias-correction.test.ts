import { createTensor } from '@quantkit/core';
import { createModel } from '@quantkit/onnx';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clippedNormalMean, expectedChannelMeans } from './analytic-bias-correction.js';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { node } from './test-models.js';

/** E[clip(X, low, high)] for X ~ N(mean, std) by the midpoint rule over mean +- 12 std: an independent reference. */
function integrated(mean: number, std: number, low: number, high: number): number {
  const steps = 20_000;
  const width = (24 * std) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) {
    const x = mean - 12 * std + (i + 0.5) * width;
    const density = Math.exp(-0.5 * ((x - mean) / std) ** 2) / (std * Math.sqrt(2 * Math.PI));
    sum += Math.min(high, Math.max(low, x)) * density * width;
  }
  return sum;
}

describe('clippedNormalMean', () => {
  it('matches numeric integration of the clipped normal (seeded property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 4, noNaN: true }),
        fc.boolean(),
        (mean, std, relu6) => {
          const high = relu6 ? 6 : Number.POSITIVE_INFINITY;
          const expected = integrated(mean, std, 0, high);
          expect(Math.abs(clippedNormalMean(mean, std, 0, high) - expected)).toBeLessThan(1e-5 * (1 + std));
        },
      ),
      { seed: 4_711, numRuns: 60 },
    );
  });

  it('is 1 / sqrt(2 pi) for a standard normal through Relu, and the clipped mean for std 0', () => {
    expect(clippedNormalMean(0, 1, 0, Number.POSITIVE_INFINITY)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 6);
    expect(clippedNormalMean(-2, 0, 0, 6)).toBe(0);
    expect(clippedNormalMean(9, 0, 0, 6)).toBe(6);
  });
});

describe('expectedChannelMeans', () => {
  it('follows statistics through Relu, GlobalAveragePool and Flatten, and stops at MaxPool', () => {
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'bn', dtype: 'float32', shape: [1, 2, 4, 4] }],
      outputs: [
        { name: 'flat', dtype: 'float32', shape: [1, 2] },
        { name: 'pooled', dtype: 'float32', shape: [1, 2, 2, 2] },
      ],
      initializers: { zero: createTensor('float32', [], Float32Array.of(0)) },
      nodes: [
        node('Relu', ['bn'], ['relu']),
        node('GlobalAveragePool', ['relu'], ['gap']),
        node('Flatten', ['gap'], ['flat'], { axis: { type: 'int', value: 1 } }),
        node('MaxPool', ['relu'], ['pooled'], { kernel_shape: { type: 'ints', value: [2, 2] } }),
      ],
    });
    const statistics: BatchNormStatistics = new Map([
      ['bn', { mean: Float64Array.of(0, 3), std: Float64Array.of(1, 0) }],
    ]);
    const flat = expectedChannelMeans(model.graph, 'flat', statistics)!;
    expect(flat.flattened).toBe(true);
    expect(flat.means[0]).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 6);
    expect(flat.means[1]).toBe(3);
    expect(expectedChannelMeans(model.graph, 'pooled', statistics)).toBeUndefined();
  });
});
