import { createTensor } from '@quantkit/core';
import { createModel, encodeModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import type { ModelComparison, ValueComparison } from './compare-models.js';
import { buildCompareReport } from './compare-report.js';
import { keepFloatSuggestion } from './flag-layers.js';
import { PROVENANCE_KEYS } from './provenance.js';

/** x -> Gemm "fc1" -> h -> Relu "relu" -> a -> Gemm (named `lastName`) -> y */
function chain(lastName: string) {
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', [1, 2]]],
    outputs: [['y', 'float32', [1, 2]]],
    initializers: {
      w1: createTensor('float32', [2, 2], new Float32Array(4)),
      w2: createTensor('float32', [2, 2], new Float32Array(4)),
    },
    nodes: [
      { name: 'fc1', opType: 'Gemm', inputs: ['x', 'w1'], outputs: ['h'] },
      { name: 'relu', opType: 'Relu', inputs: ['h'], outputs: ['a'] },
      { name: lastName, opType: 'Gemm', inputs: ['a', 'w2'], outputs: ['y'] },
    ],
  });
}

function row(value: string, node: string, opType: string, sqnr: number): ValueComparison {
  return { value, node, opType, sqnr, cosine: 0.9, maxAbsError: 0.1, samples: 2 };
}

describe('buildCompareReport', () => {
  const reference = { name: 'float.onnx', model: chain('fc2') };
  // Quantization renamed the last Gemm; the fix must name the reference's node.
  const candidate = { name: 'q.onnx', model: chain('fc2_quant') };
  const comparison: ModelComparison = {
    samples: 2,
    outputs: [{ output: 'y', sqnr: 12, cosine: 0.9, maxAbsError: 0.1, top1Agreement: null, samples: 2 }],
    // Worst first, as compareModels gives them.
    layers: [row('y', 'fc2_quant', 'Gemm', 12), row('h', 'fc1', 'Gemm', 15), row('a', 'relu', 'Relu', 40)],
  };

  it('lays the layers out in graph order and flags those below 20 dB, the fix naming a reference node', () => {
    const report = buildCompareReport(comparison, reference, candidate);
    expect(report).toMatchObject({
      kind: 'quantkit-report',
      version: 1,
      model: 'q.onnx',
      reference: 'float.onnx',
    });
    expect(report.layers.map((layer) => [layer.output, layer.node, layer.flagged])).toEqual([
      ['h', 'fc1', true],
      ['a', 'relu', false],
      ['y', 'fc2_quant', true],
    ]);
    expect(report.layers[0]!.suggestion).toEqual(keepFloatSuggestion('fc1'));
    expect(report.layers[2]!.suggestion).toEqual(keepFloatSuggestion('fc2'));
    expect(report.outputs).toEqual([
      { name: 'y', sqnr: 12, cosine: 0.9, maxAbsError: 0.1, top1Agreement: undefined },
    ]);
  });

  it('takes the recipe from the provenance quantkit recorded, and sizes from the bytes read', () => {
    const recorded = chain('fc2_quant');
    recorded.metadata.set(PROVENANCE_KEYS.recipe, JSON.stringify({ mode: 'dynamic', bits: 8 }));
    const bytes = encodeModel(recorded);
    const report = buildCompareReport(comparison, reference, { model: recorded, bytes });
    expect(report.recipe).toEqual({ mode: 'dynamic', bits: 8 });
    expect(report.summary).toMatchObject({ mode: 'dynamic', sizeAfter: bytes.length, nodes: [] });
    expect(report.summary.sizeBefore).toBeGreaterThan(0);
    expect(report.summary.weightBytesBefore).toBe(32);
    const unknown = buildCompareReport({ samples: 2, outputs: [] }, reference, candidate);
    expect(unknown.recipe).toEqual({});
    expect(unknown.summary.mode).toBe('unknown');
    expect(unknown.layers).toEqual([]);
  });
});
