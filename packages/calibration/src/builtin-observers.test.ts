import { createRegistry } from '@quantkit/core';
import { quantErrorOf } from '@quantkit/core/testing';
import { describe, expect, it } from 'vitest';
import { builtinObservers } from './builtin-observers.js';
import { restoreObserverState, serializeObserverState } from './observer-state.js';
import { batchesOf, laplaceSamples, seededUniform } from './test-samples.js';

describe('builtinObservers', () => {
  it('holds the six built-in observers under distinct names, registrable together', () => {
    expect(builtinObservers.map((plugin) => plugin.name)).toEqual([
      'minmax',
      'moving-average',
      'percentile',
      'entropy',
      'mse',
      'clip',
    ]);
    const registry = createRegistry([...builtinObservers]);
    expect(registry.get('observer', 'entropy')).toBe(builtinObservers[3]);
  });

  it('keeps state whose size does not grow with the number of batches (10 vs 1000)', () => {
    const uniform = seededUniform(1);
    for (const plugin of builtinObservers) {
      const sizes = [10, 1000].map((count) => {
        const observer = plugin.create({ symmetric: false });
        for (let b = 0; b < count; b++) {
          // Growing scale, so histograms keep re-binning rather than settling.
          const batch = Float32Array.from({ length: 64 }, () => (uniform() - 0.3) * (1 + b));
          observer.observe(batch, [batch.length]);
        }
        const state = observer.saveState!();
        expect(state.batches).toBe(count);
        return Object.fromEntries(Object.entries(state.arrays).map(([name, values]) => [name, values.length]));
      });
      expect(sizes[1], plugin.name).toEqual(sizes[0]);
    }
  });

  it('round-trips every observer through serialized JSON text', () => {
    const values = laplaceSamples(5000, 2, 8);
    for (const plugin of builtinObservers) {
      for (const symmetric of [false, true]) {
        const observer = plugin.create({ symmetric });
        for (const batch of batchesOf(values, 1000)) observer.observe(batch, [batch.length]);
        const resumed = restoreObserverState(plugin, serializeObserverState(observer));
        expect(resumed.range(), plugin.name).toEqual(observer.range());
        expect(resumed.batches).toBe(5);
      }
    }
  });

  it('refuses to merge or restore the state of a different observer, naming both', () => {
    for (const plugin of builtinObservers) {
      for (const other of builtinObservers) {
        if (other === plugin) continue;
        const observer = plugin.create();
        observer.observe([1, 2], [2]);
        const foreign = other.create();
        foreign.observe([1, 2], [2]);
        const error = quantErrorOf(() => observer.merge!(foreign.saveState!()));
        expect(error.code).toBe('CALIBRATION_DATA');
        expect(error.message).toContain(`"${plugin.name}"`);
        expect(error.message).toContain(`"${other.name}"`);
        expect(quantErrorOf(() => plugin.restore!(foreign.saveState!())).code).toBe('CALIBRATION_DATA');
      }
    }
  });

  it('refuses to merge histogram observers with other options', () => {
    const [, , percentile, entropy, mse] = builtinObservers;
    for (const [plugin, options] of [
      [percentile!, { percentile: 99 }],
      [entropy!, { bins: 1024 }],
      [mse!, { bits: 4 }],
      [percentile!, { symmetric: true }],
    ] as const) {
      const observer = plugin.create();
      observer.observe([1, 2], [2]);
      const other = plugin.create(options);
      other.observe([1, 2], [2]);
      const key = Object.keys(options)[0]!;
      expect(quantErrorOf(() => observer.merge!(other.saveState!())).message).toContain(`with ${key}`);
    }
  });

  it('on Laplace data with a few large outliers, entropy and percentile clip them and min-max does not', () => {
    const values = laplaceSamples(50_000, 1, 99);
    values[100] = 80;
    values[30_000] = -80;
    values[45_000] = 75;
    const ranges = new Map<string, number>();
    for (const plugin of builtinObservers) {
      const observer = plugin.create({ symmetric: true, ...(plugin.name === 'percentile' ? { percentile: 99.99 } : {}) });
      for (const batch of batchesOf(values, 2048)) observer.observe(batch, [batch.length]);
      ranges.set(plugin.name, observer.range().max[0]!);
    }
    expect(ranges.get('minmax')).toBe(80);
    for (const name of ['entropy', 'percentile']) expect(ranges.get(name)!, name).toBeLessThan(80 / 4);
  });
});
