import { QuantError } from '@quantkit/core';
import { describeObserver } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMinMaxObserver, minMaxObserver } from './min-max-observer.js';
import { restoreObserverState, serializeObserverState } from './observer-state.js';

describeObserver(minMaxObserver);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Reference: the channel of flat index i along `axis`, computed from the multi-index rather than strides. */
function channelOf(index: number, shape: readonly number[], axis: number): number {
  let rest = index;
  let channel = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    const coordinate = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
    if (d === axis) channel = coordinate;
  }
  return channel;
}

const valueArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(Math.fround) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
);

const batchArbitrary = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }))
  .chain((shape) =>
    fc
      .array(fc.array(valueArbitrary, { minLength: shape[0] * shape[1] * shape[2], maxLength: shape[0] * shape[1] * shape[2] }), {
        minLength: 1,
        maxLength: 4,
      })
      .map((batches) => ({ shape: [...shape], batches: batches.map((b) => Float32Array.from(b)) })),
  );

describe('minMaxObserver', () => {
  it('is named minmax and created by createMinMaxObserver', () => {
    expect(minMaxObserver.name).toBe('minmax');
    expect(createMinMaxObserver().name).toBe('minmax');
    expect(minMaxObserver.kind).toBe('observer');
  });

  it('matches a reference per tensor, ignoring NaN', () => {
    fc.assert(
      fc.property(batchArbitrary, ({ shape, batches }) => {
        const observer = minMaxObserver.create();
        for (const batch of batches) observer.observe(batch, shape);
        const finite = batches.flatMap((b) => Array.from(b)).filter((v) => !Number.isNaN(v));
        if (finite.length === 0) {
          expect(QuantError.is(caught(() => observer.range()), 'CALIBRATION_DATA')).toBe(true);
          return;
        }
        const sorted = [...finite].sort((a, b) => a - b);
        const range = observer.range();
        // +0: the observer reports zero without sign, whichever zero came first.
        expect(range.min[0]).toBe(sorted[0]! + 0);
        expect(range.max[0]).toBe(sorted[sorted.length - 1]! + 0);
        expect(range.axis).toBeUndefined();
        expect(observer.batches).toBe(batches.length);
      }),
      { numRuns: 100 },
    );
  });

  it('matches a reference per channel for every axis, negative axes included', () => {
    fc.assert(
      fc.property(batchArbitrary, fc.integer({ min: -3, max: 2 }), fc.boolean(), ({ shape, batches }, axis, symmetric) => {
        const observer = minMaxObserver.create({ granularity: 'channel', axis, symmetric });
        for (const batch of batches) observer.observe(batch, shape);
        const normalized = axis < 0 ? axis + 3 : axis;
        const channels = shape[normalized]!;
        const perChannel: number[][] = Array.from({ length: channels }, () => []);
        for (const batch of batches) {
          batch.forEach((v, i) => {
            if (!Number.isNaN(v)) perChannel[channelOf(i, shape, normalized)]!.push(v);
          });
        }
        if (perChannel.some((values) => values.length === 0)) {
          expect(QuantError.is(caught(() => observer.range()), 'CALIBRATION_DATA')).toBe(true);
          return;
        }
        const range = observer.range();
        expect(range.axis).toBe(normalized);
        expect(range.min.length).toBe(channels);
        for (let c = 0; c < channels; c++) {
          const low = Math.min(...perChannel[c]!);
          const high = Math.max(...perChannel[c]!);
          const magnitude = Math.max(Math.abs(low), Math.abs(high));
          expect(range.min[c]).toBe(symmetric ? -magnitude : low + 0);
          expect(range.max[c]).toBe(symmetric ? magnitude : high + 0);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('widens symmetric ranges to [-m, m]', () => {
    const observer = minMaxObserver.create({ symmetric: true });
    observer.observe([-0.5, 2, 1], [3]);
    expect(Array.from(observer.range().min)).toEqual([-2]);
    expect(Array.from(observer.range().max)).toEqual([2]);
  });

  it('rounds float64 extremes outward to float32 so every observed value stays inside', () => {
    const observer = minMaxObserver.create();
    const values = [0.1, -0.3, 0.7];
    observer.observe(values, [3]);
    const { min, max } = observer.range();
    expect(min[0]!).toBeLessThanOrEqual(-0.3);
    expect(max[0]!).toBeGreaterThanOrEqual(0.7);
    expect(Math.abs(max[0]! - 0.7)).toBeLessThan(1e-7);
  });

  it('skips infinities and counts empty batches', () => {
    const observer = minMaxObserver.create();
    observer.observe([Infinity, 1, -Infinity, -2], [4]);
    observer.observe([], [0]);
    expect(observer.batches).toBe(2);
    expect(Array.from(observer.range().min)).toEqual([-2]);
    expect(Array.from(observer.range().max)).toEqual([1]);
  });

  it('refuses to report before any batch', () => {
    const error = caught(() => minMaxObserver.create().range());
    expect(QuantError.is(error, 'CALIBRATION_DATA')).toBe(true);
    expect((error as Error).message).toMatch(/no calibration batch/);
  });

  it('refuses per-channel batches whose channel count changes, naming expected and actual', () => {
    const observer = minMaxObserver.create({ granularity: 'channel', axis: 1 });
    observer.observe(new Float32Array(6), [2, 3]);
    const error = caught(() => observer.observe(new Float32Array(8), [2, 4]));
    expect(QuantError.is(error, 'CALIBRATION_DATA')).toBe(true);
    expect((error as Error).message).toMatch(/expected 3 channels.*got 4/);
    expect(observer.batches).toBe(1);
  });

  it('refuses values that do not fill the shape', () => {
    const error = caught(() => minMaxObserver.create().observe([1, 2, 3], [2, 2]));
    expect(QuantError.is(error, 'CALIBRATION_DATA')).toBe(true);
    expect((error as Error).message).toMatch(/needs 4 values, got 3/);
  });

  it('validates options at create time', () => {
    const badGranularity = caught(() => minMaxObserver.create({ granularity: 'block' as 'tensor' }));
    expect(QuantError.is(badGranularity, 'INVALID_ARGUMENT')).toBe(true);
    expect((badGranularity as Error).message).toMatch(/"tensor" or "channel"/);
    expect(QuantError.is(caught(() => minMaxObserver.create({ granularity: 'channel' })), 'INVALID_ARGUMENT')).toBe(true);
    const observer = minMaxObserver.create({ granularity: 'channel', axis: 3 });
    expect(QuantError.is(caught(() => observer.observe([1, 2], [2])), 'INVALID_ARGUMENT')).toBe(true);
  });

  it('resumes from serialized state exactly as if it had never stopped', () => {
    fc.assert(
      fc.property(batchArbitrary, fc.boolean(), ({ shape, batches }, perChannel) => {
        const options = perChannel ? { granularity: 'channel' as const, axis: -1 } : {};
        const whole = minMaxObserver.create(options);
        const first = minMaxObserver.create(options);
        const cut = Math.ceil(batches.length / 2);
        batches.forEach((batch, i) => {
          whole.observe(batch, shape);
          if (i < cut) first.observe(batch, shape);
        });
        const resumed = restoreObserverState(minMaxObserver, serializeObserverState(first));
        for (const batch of batches.slice(cut)) resumed.observe(batch, shape);
        expect(resumed.batches).toBe(whole.batches);
        const expected = caught(() => whole.range()) ?? whole.range();
        const actual = caught(() => resumed.range()) ?? resumed.range();
        expect(actual).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('restores an empty state and refuses state from another observer', () => {
    const fresh = restoreObserverState(minMaxObserver, serializeObserverState(minMaxObserver.create()));
    expect(fresh.batches).toBe(0);
    fresh.observe([3, 4], [2]);
    expect(Array.from(fresh.range().max)).toEqual([4]);
    const text = serializeObserverState(minMaxObserver.create()).replace('"minmax"', '"percentile"');
    expect(QuantError.is(caught(() => restoreObserverState(minMaxObserver, text)), 'CALIBRATION_DATA')).toBe(true);
    expect(QuantError.is(caught(() => restoreObserverState(minMaxObserver, '{')), 'CALIBRATION_DATA')).toBe(true);
    const plain = { observe() {}, batches: 0, range: () => ({ min: new Float32Array(1), max: new Float32Array(1) }) };
    expect(QuantError.is(caught(() => serializeObserverState(plain)), 'UNSUPPORTED')).toBe(true);
  });
});

describe('minMaxObserver.merge', () => {
  it('takes the other extremes into an empty observer and refuses another channel count', () => {
    const empty = minMaxObserver.create({ granularity: 'channel', axis: -1 });
    const seen = minMaxObserver.create({ granularity: 'channel', axis: -1 });
    seen.observe([1, -2, 3, 4], [2, 2]);
    empty.merge(seen.saveState());
    expect(empty.range()).toEqual(seen.range());
    expect(empty.batches).toBe(1);
    empty.observe([0, 9], [1, 2]);
    expect(Array.from(empty.range().max)).toEqual([3, 9]);
    const wider = minMaxObserver.create({ granularity: 'channel', axis: -1 });
    wider.observe([1, 2, 3], [1, 3]);
    const error = caught(() => empty.merge(wider.saveState()));
    expect(QuantError.is(error, 'CALIBRATION_DATA')).toBe(true);
    expect((error as Error).message).toMatch(/3 channel\(s\) into one of 2/);
  });
});
