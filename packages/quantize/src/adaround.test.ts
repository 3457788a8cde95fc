import { createSeededRandom } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ADAROUND_SETTINGS,
  type RoundingProblem,
  annealedBeta,
  floorCodes,
  initialRounding,
  optimizeRounding,
  rectifiedSigmoid,
  reconstructionError,
  roundingLoss,
} from './adaround.js';

/** A random problem: per-row scales from each row's extremes (4-bit symmetric, codes [-7, 7]), inputs correlated. */
function randomProblem(
  rows: number,
  inner: number,
  groups: number,
  columns: number,
  seed: number,
): RoundingProblem {
  const random = createSeededRandom(seed);
  const normal = () => random() + random() + random() - 1.5;
  const weight = Float32Array.from({ length: rows * inner }, normal);
  const scale = new Float32Array(rows * inner);
  for (let r = 0; r < rows; r++) {
    let largest = 0;
    for (let k = 0; k < inner; k++) largest = Math.max(largest, Math.abs(weight[r * inner + k]!));
    scale.fill(Math.fround(largest / 7) || 1, r * inner, (r + 1) * inner);
  }
  // Inputs share a common component, as post-Relu activations do, so the rounding errors do not cancel on average.
  const inputs = new Float32Array(groups * inner * columns);
  for (let n = 0; n < columns; n++) {
    const common = random();
    for (let row = 0; row < groups * inner; row++) inputs[row * columns + n] = common + 0.5 * normal();
  }
  return {
    rows,
    inner,
    groups,
    columns,
    weight,
    scale,
    zeroPoint: new Int32Array(rows * inner),
    qmin: -7,
    qmax: 7,
    inputs,
  };
}

/** ||(W~ - W) x||^2 / rows averaged over columns, in doubles, straight from the definition. */
function referenceError(problem: RoundingProblem, codes: ArrayLike<number>): number {
  const { rows, inner, groups, columns, weight, scale, zeroPoint, inputs } = problem;
  let total = 0;
  for (let n = 0; n < columns; n++) {
    for (let r = 0; r < rows; r++) {
      const g = Math.floor(r / (rows / groups));
      let quantized = 0;
      let float = 0;
      for (let k = 0; k < inner; k++) {
        const x = inputs[(g * inner + k) * columns + n]!;
        const i = r * inner + k;
        quantized += scale[i]! * (codes[i]! - zeroPoint[i]!) * x;
        float += weight[i]! * x;
      }
      total += (quantized - float) ** 2;
    }
  }
  return total / (columns * rows);
}

function nearestCodes(problem: RoundingProblem): Int32Array {
  return Int32Array.from(problem.weight, (value, i) =>
    Math.min(
      Math.max(Math.round(value / problem.scale[i]!) + problem.zeroPoint[i]!, problem.qmin),
      problem.qmax,
    ),
  );
}

describe('rectifiedSigmoid', () => {
  it('starts each weight at its own fractional part', () => {
    const problem = randomProblem(3, 5, 1, 4, 11);
    const rounding = initialRounding(problem);
    const floors = floorCodes(problem);
    for (let i = 0; i < rounding.length; i++) {
      const ratio = Math.fround(problem.weight[i]! / problem.scale[i]!);
      expect(floors[i]).toBe(Math.floor(ratio));
      expect(rectifiedSigmoid(rounding[i]!).h).toBeCloseTo(ratio - Math.floor(ratio), 5);
    }
  });

  it('clips to exactly 0 and 1 with zero slope there', () => {
    expect(rectifiedSigmoid(-10)).toEqual({ h: 0, slope: 0 });
    expect(rectifiedSigmoid(10)).toEqual({ h: 1, slope: 0 });
    expect(rectifiedSigmoid(0).h).toBeCloseTo(0.5, 12);
  });
});

describe('annealedBeta', () => {
  it('holds betaStart through the warm start and ends at betaEnd', () => {
    const settings = { ...DEFAULT_ADAROUND_SETTINGS, iterations: 100, warmup: 0.2 };
    expect(annealedBeta(settings, 0)).toBe(20);
    expect(annealedBeta(settings, 20)).toBe(20);
    expect(annealedBeta(settings, 60)).toBeCloseTo(11, 12);
    expect(annealedBeta(settings, 100)).toBe(2);
  });
});

describe('roundingLoss', () => {
  it('has the gradient finite differences measure (error term and regulariser)', () => {
    const seed = 12_001;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom(0, 0.01, 0.5),
        fc.constantFrom(2, 3.5, 20),
        (perGroup, inner, groups, columns, problemSeed, regularization, beta) => {
          const problem = randomProblem(perGroup * groups, inner, groups, columns, problemSeed);
          const floors = floorCodes(problem);
          const random = createSeededRandom(problemSeed + 1);
          // Away from the rectifier's clip points, where the loss is smooth.
          const rounding = Float64Array.from(floors, () => random() * 4 - 2);
          const all = Int32Array.from({ length: columns }, (_, n) => n);
          const loss = (values: Float64Array) => {
            const at = roundingLoss(problem, floors, values, all, regularization, beta);
            return at.reconstruction + at.regularizer;
          };
          const { gradient } = roundingLoss(problem, floors, rounding, all, regularization, beta);
          const step = 1e-3;
          for (let i = 0; i < rounding.length; i++) {
            const up = Float64Array.from(rounding);
            const down = Float64Array.from(rounding);
            up[i]! += step;
            down[i]! -= step;
            const measured = (loss(up) - loss(down)) / (2 * step);
            expect(Math.abs(measured - gradient[i]!)).toBeLessThanOrEqual(
              2e-5 + 1e-2 * Math.abs(gradient[i]!),
            );
          }
        },
      ),
      { seed, numRuns: 60 },
    );
  }, 60_000);
});

describe('optimizeRounding', () => {
  const settings = { ...DEFAULT_ADAROUND_SETTINGS, iterations: 300 };

  it('beats nearest rounding on the layer output, with codes in range, for 4-bit weights', () => {
    for (const [groups, seed] of [
      [1, 31],
      [4, 32],
    ] as const) {
      const problem = randomProblem(8, 24, groups, 512, seed);
      const nearest = nearestCodes(problem);
      const result = optimizeRounding(problem, nearest, settings);
      expect(result.errorBefore).toBeCloseTo(referenceError(problem, nearest), 8);
      expect(result.errorAfter).toBeCloseTo(referenceError(problem, result.codes), 8);
      expect(result.errorAfter).toBeLessThan(0.8 * result.errorBefore);
      expect(reconstructionError(problem, result.codes)).toBe(result.errorAfter);
      for (let i = 0; i < result.codes.length; i++) {
        expect(result.codes[i]).toBeGreaterThanOrEqual(-7);
        expect(result.codes[i]).toBeLessThanOrEqual(7);
        // Each code is one of the float weight's two neighbours (or the clamp of one).
        const ratio = problem.weight[i]! / problem.scale[i]!;
        expect(Math.abs(result.codes[i]! - ratio)).toBeLessThan(1 + 1e-6);
      }
    }
  }, 60_000);

  it('repeats for a seed and reports every step', () => {
    const problem = randomProblem(4, 10, 1, 300, 41);
    const nearest = nearestCodes(problem);
    const steps: number[] = [];
    const first = optimizeRounding(problem, nearest, { ...settings, iterations: 50 }, (step) =>
      steps.push(step),
    );
    const again = optimizeRounding(problem, nearest, { ...settings, iterations: 50 });
    expect(Array.from(again.codes)).toEqual(Array.from(first.codes));
    expect(steps).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  }, 60_000);

  it('keeps weights beyond the clip range at the end code', () => {
    const problem = randomProblem(2, 6, 1, 64, 51);
    // Halve the scales: half the weights now lie beyond [-7, 7] codes.
    const clipped = { ...problem, scale: problem.scale.map((scale) => scale / 2) };
    const result = optimizeRounding(clipped, nearestCodes(clipped), { ...settings, iterations: 40 });
    for (let i = 0; i < result.codes.length; i++) {
      const ratio = clipped.weight[i]! / clipped.scale[i]!;
      if (ratio >= 7) expect(result.codes[i]).toBe(7);
      if (ratio < -7) expect(result.codes[i]).toBe(-7);
    }
  });
});
