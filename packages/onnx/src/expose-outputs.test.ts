import { QuantError } from '@quantkit/core';
import { floatTensor, maxAbsDiff, runOrt } from '@quantkit/test-kit';
import { describe, expect, it } from 'vitest';
import { exposeOutputs, exposeOutputsInBytes } from './expose-outputs.js';
import { Graph } from './graph.js';
import { decodeModel, encodeModel } from './model.js';
import { createModel, createNode } from './model-builder.js';
import type { ValueInfo } from './value-info.js';

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

  it('carries values out of (nested) If branches under the names `aliases` gives, leaving the model unchanged', async () => {
    const inner = new Graph({
      name: 'inner_then',
      nodes: [
        createNode({ opType: 'Mul', inputs: ['h', 'h'], outputs: ['deep'] }),
        createNode({ opType: 'Neg', inputs: ['deep'], outputs: ['inner_out'] }),
      ],
      outputs: [{ name: 'inner_out', dtype: 'float32', shape: [2, 3] }],
    });
    const innerElse = new Graph({
      name: 'inner_else',
      nodes: [createNode({ opType: 'Identity', inputs: ['h'], outputs: ['inner_else_out'] })],
      outputs: [{ name: 'inner_else_out', dtype: 'float32', shape: [2, 3] }],
    });
    const thenBranch = new Graph({
      name: 'then',
      nodes: [
        createNode({ opType: 'Relu', inputs: ['x'], outputs: ['h'] }),
        createNode({
          opType: 'If',
          inputs: ['c2'],
          outputs: ['then_out'],
          attributes: { then_branch: inner, else_branch: innerElse },
        }),
      ],
      outputs: [{ name: 'then_out', dtype: 'float32', shape: [2, 3] }],
    });
    const elseBranch = new Graph({
      name: 'else',
      nodes: [createNode({ opType: 'Sigmoid', inputs: ['x'], outputs: ['else_out'] })],
      outputs: [{ name: 'else_out', dtype: 'float32', shape: [2, 3] }],
    });
    const model = createModel({
      opset: 13,
      inputs: [
        ['x', 'float32', [2, 3]],
        ['c1', 'bool', []],
        ['c2', 'bool', []],
      ],
      outputs: [['y', 'float32', [2, 3]]],
      nodes: [
        {
          opType: 'If',
          inputs: ['c1'],
          outputs: ['y'],
          attributes: { then_branch: thenBranch, else_branch: elseBranch },
        },
      ],
    });
    const before = encodeModel(model);
    const aliases = new Map<string, string>();
    const exposed = exposeOutputs(model, ['deep', 'h', 'else_out'], aliases);
    expect(encodeModel(model)).toEqual(before);
    expect([...aliases.keys()]).toEqual(['deep', 'h', 'else_out']);
    expect(() => exposeOutputs(model, ['deep'])).toThrow(/no node, input or initializer/);
    const x = floatTensor([2, 3], 7);
    const bool = (value: boolean) => ({
      dtype: 'bool' as const,
      shape: [],
      data: Uint8Array.of(value ? 1 : 0),
    });
    const taken = await runOrt(encodeModel(exposed), { x, c1: bool(true), c2: bool(true) });
    const relu = (x.data as Float32Array).map((v) => Math.max(v, 0));
    expect(maxAbsDiff(taken[aliases.get('h')!]!.data, relu)).toBe(0);
    expect(
      maxAbsDiff(
        taken[aliases.get('deep')!]!.data,
        relu.map((v) => v * v),
      ),
    ).toBeLessThan(1e-6);
    // The branch not taken gives the placeholder 0.
    expect(Array.from(taken[aliases.get('else_out')!]!.data as Float32Array)).toEqual([0]);
    const other = await runOrt(encodeModel(exposed), { x, c1: bool(false), c2: bool(true) });
    expect(Array.from(other[aliases.get('deep')!]!.data as Float32Array)).toEqual([0]);
  });

  it('exposeOutputsInBytes appends the outputs to the encoding: onnxruntime returns what exposeOutputs gives', async () => {
    for (const withValueInfo of [true, false]) {
      const model = mlp(withValueInfo);
      const bytes = encodeModel(model);
      const probe = exposeOutputsInBytes(bytes, model, ['h', 'r', 'y', 'x']);
      // The weights are not encoded again: the probe is the model's bytes plus a short tail.
      expect(probe.subarray(0, bytes.length)).toEqual(bytes);
      expect(probe.length - bytes.length).toBeLessThan(64);
      const x = floatTensor([2, 4], 6);
      const viaBytes = await runOrt(probe, { x });
      const viaModel = await runOrt(encodeModel(exposeOutputs(model, ['h', 'r', 'y', 'x'])), { x });
      for (const name of ['h', 'r', 'y', 'x']) {
        expect(viaBytes[name]!.dims).toEqual(viaModel[name]!.dims);
        expect(maxAbsDiff(viaBytes[name]!.data, viaModel[name]!.data)).toBe(0);
      }
    }
    const model = mlp(false);
    expect(exposeOutputsInBytes(encodeModel(model), model, ['y'])).toEqual(encodeModel(model));
  });

  it("exposeOutputsInBytes' encoding decodes to the model with the outputs added (the graph fields merge)", () => {
    const model = mlp(true);
    const decoded = decodeModel(exposeOutputsInBytes(encodeModel(model), model, ['h', 'r']));
    const expected = exposeOutputs(model, ['h', 'r']);
    expect(decoded.graph.outputs.map((output) => output.name)).toEqual(['y', 'h', 'r']);
    const typeOf = ({ name, dtype, shape }: ValueInfo) => ({ name, dtype, shape });
    expect(decoded.graph.outputs.map(typeOf)).toEqual(expected.graph.outputs.map(typeOf));
    expect(decoded.graph.nodes.map((node) => node.name)).toEqual(model.graph.nodes.map((node) => node.name));
    expect([...decoded.graph.initializers.keys()]).toEqual([...model.graph.initializers.keys()]);
    expect(decoded.graph.name).toBe(model.graph.name);
    expect(() => exposeOutputsInBytes(encodeModel(model), model, ['nope'])).toThrowError(/"nope"/);
  });
});
