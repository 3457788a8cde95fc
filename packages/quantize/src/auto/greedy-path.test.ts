import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUTO_CANDIDATE_NAMES, type AutoCandidateName } from './auto-candidates.js';
import { type LayerOptions, greedyPath, neighbors, noiseOf, sqnrOf } from './greedy-path.js';

const option = (candidate: AutoCandidateName, size: number, sqnr: number) => ({ candidate, size, sqnr });

describe('greedyPath', () => {
  it('moves the layer saving most bytes per unit of noise first, free moves before all', () => {
    const layers: LayerOptions[] = [
      // Big and robust: int4 saves much for little noise.
      {
        layer: 'a',
        options: [option('float', 1000, Infinity), option('int8', 260, 40), option('int4', 140, 30)],
      },
      // Small and sensitive.
      {
        layer: 'b',
        options: [option('float', 100, Infinity), option('int8', 30, 20), option('int4', 20, 5)],
      },
      // int4 here is bigger than int8 (packing overhead on a tiny tensor) and worse: never chosen.
      {
        layer: 'c',
        options: [option('float', 40, Infinity), option('int8', 20, 45), option('int4', 30, 30)],
      },
    ];
    const path = greedyPath(layers);
    expect(path[0]!.assignment).toEqual({ a: 'float', b: 'float', c: 'float' });
    expect(path[0]!.estimatedSqnr).toBe(Infinity);
    expect(path.at(-1)!.assignment).toEqual({ a: 'int4', b: 'int4', c: 'int8' });
    // a's int8 (740 bytes for 1e-4 noise) beats every other first move, its int4 (860 bytes for 1e-3) included.
    expect(path[1]!.assignment).toEqual({ a: 'int8', b: 'float', c: 'float' });
    expect(path.some((step) => step.assignment.c === 'int4')).toBe(false);
  });

  it('shrinks at every step and ends at each layer smallest (seeded property)', () => {
    const layer = fc.record({
      sizes: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 5, maxLength: 5 }),
      sqnrs: fc.array(fc.double({ min: -10, max: 80, noNaN: true }), { minLength: 5, maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.array(layer, { minLength: 1, maxLength: 6 }), (specs) => {
        const layers: LayerOptions[] = specs.map((spec, index) => ({
          layer: `l${index}`,
          options: [
            option('float', 6000, Infinity),
            ...AUTO_CANDIDATE_NAMES.slice(1).map((name, at) =>
              option(name, spec.sizes[at]!, spec.sqnrs[at]!),
            ),
          ],
        }));
        const path = greedyPath(layers);
        for (let index = 1; index < path.length; index++)
          expect(path[index]!.estimatedWeightBytes).toBeLessThan(path[index - 1]!.estimatedWeightBytes);
        const smallest = layers.reduce((sum, l) => sum + Math.min(...l.options.map((o) => o.size)), 0);
        expect(path.at(-1)!.estimatedWeightBytes).toBe(smallest);
        expect(greedyPath(layers)).toEqual(path);
      }),
    );
  });

  it('adds noise powers: two layers at 30 dB each estimate 27 dB', () => {
    expect(sqnrOf(noiseOf(30) + noiseOf(30))).toBeCloseTo(30 - 10 * Math.log10(2), 10);
    expect(sqnrOf(noiseOf(Infinity))).toBe(Infinity);
  });
});

describe('neighbors', () => {
  it('changes one layer at a time and swaps only that layer in the measured noise', () => {
    const layers: LayerOptions[] = [
      {
        layer: 'a',
        options: [option('float', 400, Infinity), option('int8', 100, 40), option('int4', 50, 20)],
      },
      { layer: 'b', options: [option('float', 40, Infinity), option('int8', 10, 30)] },
    ];
    const found = neighbors(layers, { a: 'int4', b: 'int8' }, 18);
    expect(found.map((neighbor) => neighbor.assignment)).toEqual([
      { a: 'float', b: 'int8' },
      { a: 'int8', b: 'int8' },
      { a: 'int4', b: 'float' },
    ]);
    expect(found.map((neighbor) => neighbor.sizeDelta)).toEqual([350, 50, 30]);
    // a from int4 to int8: the measured noise minus a's int4 share plus its int8 share.
    expect(found[1]!.estimatedNoise).toBeCloseTo(noiseOf(18) - noiseOf(20) + noiseOf(40), 12);
    // Never below zero when the measurement came out better than the shares it is built from.
    expect(neighbors(layers, { a: 'int4', b: 'int8' }, 60).every((n) => n.estimatedNoise >= 0)).toBe(true);
  });
});
