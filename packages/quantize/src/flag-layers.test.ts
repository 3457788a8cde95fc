import { describe, expect, it } from 'vitest';
import {
  COMPARE_FLAG_RULE,
  type MeasuredLayer,
  flagLayers,
  keepFloatSuggestion,
  suggestionFor,
  worstFirst,
} from './flag-layers.js';

function layers(sqnrs: readonly number[]): MeasuredLayer[] {
  return sqnrs.map((sqnr, i) => ({
    node: `n${i}`,
    opType: 'MatMul',
    output: `v${i}`,
    sqnr,
    cosine: 1,
    maxAbsError: 0,
  }));
}

const flaggedNodes = (rows: ReturnType<typeof flagLayers>) =>
  rows.filter((row) => row.flagged).map((row) => row.node);

describe('worstFirst', () => {
  it('sorts by SQNR, lowest first, with NaN last', () => {
    const sorted = worstFirst(layers([30, Number.NaN, -Infinity, 10]));
    expect(sorted.map((layer) => layer.sqnr)).toEqual([-Infinity, 10, 30, Number.NaN]);
  });
});

describe('flagLayers', () => {
  it("by the report's rule flags layers below 20 dB or 10 dB under the median, at most 5, keeping the order", () => {
    // The median is 41: 25 is 16 dB under it, 35 only 6.
    const rows = flagLayers(layers([40, 25, 45, 35, 50, 41, 42]));
    expect(rows.map((row) => row.node)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    expect(flaggedNodes(rows)).toEqual(['n1']);
    expect(flaggedNodes(flagLayers(layers([5, 6, 7, 8, 9, 10, 11, 50])))).toEqual([
      'n0',
      'n1',
      'n2',
      'n3',
      'n4',
    ]);
    expect(flaggedNodes(flagLayers(layers([Number.NaN, 50, Infinity])))).toEqual([]);
  });

  it("by compare's rule flags only layers below 20 dB, the worst 3", () => {
    const rows = flagLayers(layers([40, 25, 45, 35, 50, 41, 42]), { rule: COMPARE_FLAG_RULE });
    expect(flaggedNodes(rows)).toEqual([]);
    const low = flagLayers(layers([19, 3, 50, 12, 7]), { rule: COMPARE_FLAG_RULE });
    expect(flaggedNodes(low)).toEqual(['n1', 'n3', 'n4']);
  });

  it('suggests the fix the layer calls for, or what the caller gives', () => {
    const [layer] = layers([5]);
    const clipping = { ...layer!, activation: activation(0.02) };
    expect(suggestionFor(clipping).override).toEqual({ tensors: { v0: { observer: 'minmax' } } });
    const lossy = {
      ...layer!,
      weight: {
        tensor: 'w',
        sqnr: 20,
        maxAbsError: 1,
        bits: 4,
        granularity: 'tensor' as const,
        histogram: { min: 0, max: 1, counts: [1] },
      },
    };
    expect(suggestionFor(lossy).override).toEqual({ nodes: { n0: { bits: 8, granularity: 'channel' } } });
    expect(flagLayers([layer!])[0]!.suggestion).toEqual(keepFloatSuggestion('n0'));
    const other = flagLayers([layer!], { suggest: () => keepFloatSuggestion('renamed') });
    expect(other[0]!.suggestion!.override).toEqual({ nodes: { renamed: { float: true } } });
  });
});

function activation(clippedShare: number) {
  return {
    tensor: 'v0',
    observer: 'percentile',
    min: -1,
    max: 1,
    clippedShare,
    histogram: { min: -1.5, max: 1.5, counts: [1] },
  };
}
