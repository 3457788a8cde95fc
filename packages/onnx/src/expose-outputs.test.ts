import { QuantError } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { exposeOutputs } from './expose-outputs.js';
import { decodeModel, encodeModel } from './model.js';
import { createModel } from './model-builder.js';
import { floatTensor, maxAbsDiff, runOrt } from './test-helpers.js';

function mlp(withValueInfo: boolean) {
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', ['batch', 4]]],
    outputs: [['y', 'float32', ['batch', 2]]],
    valueInfo: withValueInfo ? [['h', 'float32', ['batch', 3]]] : [],
    initializers: { w1: floatTensor([4, 3], 1), w2: floatTensor([3, 2], 2) },
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { opType: 'Relu', inputs: ['h'], outputs: ['r'] },
      { opType: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
    ],
  });
}

describe('exposeOutputs', () => {
  it('adds intermediate outputs that onnxruntime returns, typed or not', async () => {
    for (const withValueInfo of [true, false]) {
      const model = mlp(withValueInfo);
      const exposed = exposeOutputs(model, ['h', 'r', 'y', 'x']);
      expect(model.graph.outputs.map((o) => o.name)).toEqual(['y']);
      expect(exposed.graph.outputs.map((o) => o.name)).toEqual(['y', 'h', 'r', 'x']);
      expect(exposed.graph.outputs[1]!.dtype).toBe(withValueInfo ? 'float32' : undefined);
      expect(exposed.graph.outputs[3]!.dtype).toBe('float32');
      const x = floatTensor([2, 4], 5);
      const out = await runOrt(encodeModel(exposed), { x });
      const h = out['h']!.data as Float32Array;
      expect(out['h']!.dims).toEqual([2, 3]);
      expect(
        maxAbsDiff(
          out['r']!.data,
          h.map((v) => Math.max(v, 0)),
        ),
      ).toBe(0);
      expect(maxAbsDiff(out['x']!.data, x.data)).toBe(0);
      const plain = await runOrt(encodeModel(model), { x });
      expect(maxAbsDiff(out['y']!.data, plain['y']!.data)).toBe(0);
    }
  });

  it('leaves the original model untouched and rejects unknown names', () => {
    const model = mlp(false);
    const before = encodeModel(model);
    const exposed = exposeOutputs(model, ['h']);
    exposed.graph.removeNode(exposed.graph.nodes[2]!);
    expect(encodeModel(model)).toEqual(before);
    expect(decodeModel(before).graph.nodes).toHaveLength(3);
    expect(() => exposeOutputs(model, ['nope'])).toThrowError(QuantError);
    expect(() => exposeOutputs(model, ['nope'])).toThrowError(/"nope"/);
  });
});
