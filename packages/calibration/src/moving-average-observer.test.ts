import { describeObserver, quantErrorOf } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMovingAverageObserver, movingAverageObserver } from './moving-average-observer.js';
import { restoreObserverState, serializeObserverState } from './observer-state.js';

describeObserver(movingAverageObserver, { mergeTolerance: 1e-6 });
describeObserver(createMovingAverageObserver({ averagingConstant: 0.5 }), { mergeTolerance: 1e-6 });

/** Hand-rolled EMA of per-batch extremes: the first batch initialises, later ones pull by `constant`. */
function referenceEma(batchExtremes: readonly [number, number][], constant: number): [number, number] {
  let [low, high] = batchExtremes[0]!;
  for (const [batchLow, batchHigh] of batchExtremes.slice(1)) {
    low = (1 - constant) * low + constant * batchLow;
    high = (1 - constant) * high + constant * batchHigh;
  }
  return [low, high];
}

function closeTo(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
}

const batchesArbitrary = fc.array(
  fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 6, maxLength: 30 }).map((values) => {
    const length = values.length - (values.length % 2);
    return Float32Array.from(values.slice(0, length));
  }),
  { minLength: 1, maxLength: 12 },
);

describe('movingAverageObserver', () => {
  it('equals a hand-rolled exponential moving average of batch extremes per tensor', () => {
    fc.assert(
      fc.property(batchesArbitrary, fc.double({ min: 0.001, max: 1, noNaN: true }), fc.boolean(), (batches, constant, symmetric) => {
        const observer = createMovingAverageObserver().create({ averagingConstant: constant, symmetric });
        for (const batch of batches) observer.observe(batch, [batch.length]);
        const [low, high] = referenceEma(
          batches.map((batch) => [Math.min(...batch), Math.max(...batch)]),
          constant,
        );
        const range = observer.range();
        const magnitude = Math.max(Math.abs(low), Math.abs(high));
        closeTo(range.min[0]!, symmetric ? -magnitude : low);
        closeTo(range.max[0]!, symmetric ? magnitude : high);
        expect(range.axis).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it('averages each channel separately along the axis', () => {
    fc.assert(
      fc.property(batchesArbitrary, fc.double({ min: 0.001, max: 1, noNaN: true }), (batches, constant) => {
        const observer = movingAverageObserver.create({ granularity: 'channel', axis: 0, averagingConstant: constant });
        // Shape [2, n/2]: channel c is the c-th half of the batch.
        for (const batch of batches) observer.observe(batch, [2, batch.length / 2]);
        const range = observer.range();
        expect(range.axis).toBe(0);
        for (let c = 0; c < 2; c++) {
          const [low, high] = referenceEma(
            batches.map((batch) => {
              const half = Array.from(batch.subarray((c * batch.length) / 2, ((c + 1) * batch.length) / 2));
              return [Math.min(...half), Math.max(...half)];
            }),
            constant,
          );
          closeTo(range.min[c]!, low);
          closeTo(range.max[c]!, high);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('uses 0.01 by default and leaves a channel alone in batches where it has no finite value', () => {
    const observer = movingAverageObserver.create({ granularity: 'channel', axis: 1 });
    observer.observe([0, -4, 10, 4], [2, 2]);
    observer.observe([Number.NaN, 0, Number.NaN, 8], [2, 2]);
    const range = observer.range();
    expect(Array.from(range.min)).toEqual([0, Math.fround(-4 + 0.01 * 4)]);
    expect(range.max[0]).toBe(10);
    expect(range.max[1]).toBeCloseTo(4 + 0.01 * 4, 6);
    expect(observer.batches).toBe(2);
  });

  it('merges a later observer exactly as one observer over both in order, per channel', () => {
    const options = { granularity: 'channel' as const, axis: 1, averagingConstant: 0.2 };
    const whole = movingAverageObserver.create(options);
    const early = movingAverageObserver.create(options);
    const late = movingAverageObserver.create(options);
    const batches = [
      [1, -1, 2, 5],
      [3, -2, 0, 1],
      [-7, 4, 9, 2],
      [0.5, 0.5, 3, -3],
    ];
    batches.forEach((batch, i) => {
      whole.observe(batch, [2, 2]);
      (i < 2 ? early : late).observe(batch, [2, 2]);
    });
    early.merge(late.saveState());
    const expected = whole.range();
    const actual = early.range();
    for (let c = 0; c < 2; c++) {
      expect(actual.min[c]).toBeCloseTo(expected.min[c]!, 6);
      expect(actual.max[c]).toBeCloseTo(expected.max[c]!, 6);
    }
  });

  it('refuses to merge other averaging constants or channel counts', () => {
    const observer = movingAverageObserver.create({ averagingConstant: 0.1 });
    observer.observe([1, 2], [2]);
    const other = movingAverageObserver.create({ averagingConstant: 0.2 });
    other.observe([1, 2], [2]);
    const error = quantErrorOf(() => observer.merge(other.saveState()));
    expect(error.code).toBe('CALIBRATION_DATA');
    expect(error.message).toMatch(/averagingConstant 0\.2.*averagingConstant 0\.1/);
    const perChannel = movingAverageObserver.create({ granularity: 'channel', axis: 0 });
    perChannel.observe([1, 2], [2]);
    const wider = movingAverageObserver.create({ granularity: 'channel', axis: 0 });
    wider.observe([1, 2, 3], [3]);
    expect(quantErrorOf(() => perChannel.merge(wider.saveState())).message).toMatch(/3 channel\(s\) into one of 2/);
  });

  it('resumes from serialized state', () => {
    const observer = movingAverageObserver.create({ averagingConstant: 0.3 });
    observer.observe([1, 5], [2]);
    const resumed = restoreObserverState(movingAverageObserver, serializeObserverState(observer));
    observer.observe([-1, 2], [2]);
    resumed.observe([-1, 2], [2]);
    expect(resumed.range()).toEqual(observer.range());
  });

  it('validates averagingConstant in (0, 1], naming the option', () => {
    for (const bad of [0, -0.1, 1.5, Number.NaN, '0.1']) {
      const error = quantErrorOf(() => movingAverageObserver.create({ averagingConstant: bad as number }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/averagingConstant must be in \(0, 1\]/);
    }
    expect(quantErrorOf(() => createMovingAverageObserver({ averagingConstant: 2 })).code).toBe('INVALID_ARGUMENT');
    expect(movingAverageObserver.create({ averagingConstant: 1 }).batches).toBe(0);
  });
});
