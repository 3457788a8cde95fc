import { QuantError } from '@quantkit/core';
import { floatTensor, runOrt } from '@quantkit/test-kit';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { encodeModel, validateModel } from './model.js';
import { createModel, createNode, createValueInfo, irVersionForOpset, toAttribute } from './model-builder.js';

describe('createModel', () => {
  it('picks the IR version from the ONNX versioning table', () => {
    expect([9, 13, 17, 18, 19, 20, 21, 22, 23].map(irVersionForOpset)).toEqual([
      8, 8, 8, 8, 9, 9, 10, 10, 11,
    ]);
    expect(createModel({ opset: 21, nodes: [], inputs: [], outputs: [] }).irVersion).toBe(10);
    expect(createModel({ nodes: [], inputs: [], outputs: [] }).opsetImports).toEqual([
      { domain: '', version: 17 },
    ]);
  });

  it('infers attribute types from plain values', () => {
    const tensor = floatTensor([2], 1);
    const graph = new Graph();
    expect(toAttribute('a', 3)).toEqual({ type: 'int', value: 3 });
    expect(toAttribute('a', 0.5)).toEqual({ type: 'float', value: 0.5 });
    expect(toAttribute('a', 'same')).toEqual({ type: 'string', value: 'same' });
    expect(toAttribute('a', [1, 2])).toEqual({ type: 'ints', value: [1, 2] });
    expect(toAttribute('a', [1, 2.5])).toEqual({ type: 'floats', value: [1, 2.5] });
    expect(toAttribute('a', ['x'])).toEqual({ type: 'strings', value: ['x'] });
    expect(toAttribute('a', tensor)).toEqual({ type: 'tensor', value: tensor });
    expect(toAttribute('a', [tensor])).toEqual({ type: 'tensors', value: [tensor] });
    expect(toAttribute('a', graph)).toEqual({ type: 'graph', value: graph });
    expect(toAttribute('a', [graph])).toEqual({ type: 'graphs', value: [graph] });
    expect(toAttribute('a', { type: 'float', value: 1 })).toEqual({ type: 'float', value: 1 });
    expect(() => toAttribute('empty', [])).toThrowError(QuantError);
    expect(createValueInfo(['x', 'int8', [1, 'n']])).toEqual({ name: 'x', dtype: 'int8', shape: [1, 'n'] });
    expect(createNode({ opType: 'Relu', outputs: ['y'] })).toMatchObject({
      inputs: [],
      domain: '',
      name: '',
    });
  });

  it('builds runnable models in a few lines: a Conv+BN+Relu CNN and Constant weights at opset 9', async () => {
    const cnn = createModel({
      opset: 13,
      inputs: [['x', 'float32', [1, 3, 8, 8]]],
      outputs: [['y', 'float32', [1, 4, 8, 8]]],
      initializers: {
        w: floatTensor([4, 3, 3, 3], 1),
        scale: floatTensor([4], 2, 0.1, 1),
        bias: floatTensor([4], 3),
        mean: floatTensor([4], 4),
        var: floatTensor([4], 5, 0.1, 1),
      },
      nodes: [
        { opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attributes: { pads: [1, 1, 1, 1] } },
        { opType: 'BatchNormalization', inputs: ['c', 'scale', 'bias', 'mean', 'var'], outputs: ['n'] },
        { opType: 'Relu', inputs: ['n'], outputs: ['y'] },
      ],
    });
    validateModel(cnn);
    expect(cnn.graph.nodes.map((n) => n.name)).toEqual(['Conv_0', 'BatchNormalization_1', 'Relu_2']);
    const out = await runOrt(encodeModel(cnn), { x: floatTensor([1, 3, 8, 8], 6) });
    expect(out['y']!.dims).toEqual([1, 4, 8, 8]);
    expect(Math.min(...Array.from(out['y']!.data as Float32Array))).toBe(0);

    const old = createModel({
      opset: 9,
      inputs: [['x', 'float32', [2, 3]]],
      outputs: [['y', 'float32', [2, 2]]],
      nodes: [
        { opType: 'Constant', outputs: ['w'], attributes: { value: floatTensor([3, 2], 7) } },
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] },
      ],
    });
    const result = await runOrt(encodeModel(old), { x: floatTensor([2, 3], 8) });
    expect(result['y']!.dims).toEqual([2, 2]);
  });
});
