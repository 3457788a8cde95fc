import type { Tensor } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { createNode } from './model-builder.js';

const f32 = (values: number[], shape = [values.length]): Tensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});

describe('removeUnused', () => {
  it('removes unused initializers and Constant nodes', () => {
    const graph = new Graph({
      nodes: [
        createNode({ opType: 'Constant', outputs: ['k1'], attributes: { value: f32([1]) } }),
        createNode({ opType: 'Constant', outputs: ['k2'], attributes: { value: f32([1]) } }),
        createNode({ opType: 'Add', inputs: ['x', 'k1'], outputs: ['y'] }),
        createNode({ opType: 'Neg', inputs: ['x'], outputs: ['dead'] }),
      ],
      inputs: [{ name: 'x' }, { name: 'overridable' }],
      outputs: [{ name: 'y' }],
      valueInfo: [{ name: 'k2', dtype: 'float32' }],
      initializers: { used: f32([1]), unused: f32([2]), overridable: f32([3]) },
    });
    graph.addNode(createNode({ opType: 'Mul', inputs: ['y', 'used'], outputs: ['y2'] }));
    graph.replaceAllUses('y', 'y2', { except: [graph.nodes[4]!] });
    expect(graph.removeUnused()).toBe(2);
    expect([...graph.initializers.keys()]).toEqual(['used', 'overridable']);
    expect(graph.nodes.map((n) => n.outputs[0])).toEqual(['k1', 'y', 'dead', 'y2']);
    expect(graph.valueInfo).toEqual([]);
    expect(graph.removeUnused({ deadNodes: true })).toBe(1);
    expect(graph.nodes.map((n) => n.outputs[0])).toEqual(['k1', 'y', 'y2']);
  });
});
