import { QuantError } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import {
  SYMBOLIC_DIM,
  concreteShape,
  createPrng,
  randomSampleSource,
  randomSamples,
} from './random-samples.js';

describe('createPrng', () => {
  it('repeats for a seed, differs across seeds, stays in [0, 1)', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const first = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(first);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    // A usable generator spreads its values: the mean of 1000 uniform draws is near 0.5.
    expect(Math.abs(first.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
  });
});

describe('randomSamples', () => {
  it('sets a symbolic batch to 1, other symbolic dims to SYMBOLIC_DIM, and fills each dtype in its documented range', () => {
    expect(concreteShape(['batch', 3, -1, null])).toEqual([1, 3, SYMBOLIC_DIM, SYMBOLIC_DIM]);
    expect(concreteShape([-1, 'h'])).toEqual([1, SYMBOLIC_DIM]);
    const [sample] = randomSamples(
      [
        { name: 'x', dtype: 'float32', shape: ['n', 4] },
        { name: 'ids', dtype: 'int64', shape: [2] },
      ],
      1,
      5,
    );
    expect(sample!['x']!.shape).toEqual([1, 4]);
    expect([...(sample!['x']!.data as Float32Array)].every((v) => v >= -1 && v < 1)).toBe(true);
    expect(sample!['ids']!.data).toBeInstanceOf(BigInt64Array);
    expect([...(sample!['ids']!.data as BigInt64Array)].every((v) => v >= 0n && v < 10n)).toBe(true);
  });

  it('refuses dtypes it cannot make data for, naming the option for real data as a message part', () => {
    const half = [{ name: 'h', dtype: 'float16', shape: [1] }];
    expect(() => randomSamples(half, 1, 1)).toThrow(
      /^input "h" is float16; random data can be made for .*; pass calibrationData with real inputs$/,
    );
    try {
      randomSamples(half, 1, 1, SYMBOLIC_DIM, 'dataDir');
      expect.unreachable();
    } catch (error) {
      expect(QuantError.is(error, 'UNSUPPORTED')).toBe(true);
      expect((error as QuantError).parts).toContainEqual({ option: 'dataDir' });
      expect((error as QuantError).message).not.toMatch(/--/);
    }
  });

  it('gives the same samples on every read of randomSampleSource', async () => {
    const source = randomSampleSource([{ name: 'x', dtype: 'float32', shape: [3] }], 2, 9);
    const read = async () => {
      const samples = [];
      for await (const sample of source()) samples.push(sample);
      return samples;
    };
    const first = await read();
    expect(first).toEqual(randomSamples([{ name: 'x', dtype: 'float32', shape: [3] }], 2, 9));
    expect(await read()).toEqual(first);
  });
});
