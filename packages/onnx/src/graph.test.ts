import { QuantError, type Tensor } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { type Node, subgraphsOf } from './graph-node.js';
import { createNode } from './model-builder.js';

const f32 = (values: number[], shape = [values.length]): Tensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});

function chain(): { graph: Graph; a: Node; b: Node; c: Node } {
  const a = createNode({ opType: 'Relu', inputs: ['x'], outputs: ['a'], name: 'a' });
  const b = createNode({ opType: 'Add', inputs: ['a', 'w'], outputs: ['b'], name: 'b' });
  const c = createNode({ opType: 'Mul', inputs: ['a', 'b'], outputs: ['y'], name: 'c' });
  const graph = new Graph({
    name: 'g',
    nodes: [a, b, c],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 2] }],
    valueInfo: [{ name: 'a', dtype: 'float32', shape: ['n', 2] }],
    initializers: { w: f32([1, 2]) },
  });
  return { graph, a, b, c };
}

// ------------------------------------------------------------------------------------------------------------
// Naive reference implementations: full scans, no caching.

function naiveOuterNames(graph: Graph): Set<string> {
  const defined = new Set<string>(['']);
  for (const input of graph.inputs) defined.add(input.name);
  for (const name of graph.initializers.keys()) defined.add(name);
  for (const node of graph.nodes) for (const output of node.outputs) defined.add(output);
  const outer = new Set<string>();
  for (const node of graph.nodes) for (const name of naiveUses(node)) if (!defined.has(name)) outer.add(name);
  for (const output of graph.outputs) if (!defined.has(output.name)) outer.add(output.name);
  return outer;
}

function naiveUses(node: Node): Set<string> {
  const uses = new Set(node.inputs.filter((name) => name !== ''));
  for (const sub of subgraphsOf(node)) for (const name of naiveOuterNames(sub)) uses.add(name);
  return uses;
}

function naiveProducer(graph: Graph, name: string): Node | undefined {
  return graph.nodes.find((node) => node.outputs.includes(name));
}

function naiveConsumers(graph: Graph, name: string): Set<Node> {
  return new Set(graph.nodes.filter((node) => naiveUses(node).has(name)));
}

function naiveNames(graph: Graph): Set<string> {
  const names = new Set<string>();
  for (const list of [graph.inputs, graph.outputs, graph.valueInfo])
    for (const info of list) names.add(info.name);
  for (const name of graph.initializers.keys()) names.add(name);
  for (const node of graph.nodes) {
    if (node.name) names.add(node.name);
    for (const name of [...node.inputs, ...node.outputs]) names.add(name);
    for (const sub of subgraphsOf(node)) for (const name of naiveNames(sub)) names.add(name);
  }
  return names;
}

describe('Graph queries', () => {
  it('finds producers and consumers', () => {
    const { graph, a, b, c } = chain();
    expect(graph.producer('a')).toBe(a);
    expect(graph.producer('x')).toBeUndefined();
    expect(new Set(graph.consumers('a'))).toEqual(new Set([b, c]));
    expect(graph.consumers('y')).toEqual([]);
    expect(graph.isInitializer('w')).toBe(true);
    expect(graph.isOutput('y')).toBe(true);
    expect(graph.valueType('a')).toEqual({ dtype: 'float32', shape: ['n', 2] });
    expect(graph.valueType('w')).toEqual({ dtype: 'float32', shape: [2] });
    expect(graph.valueType('b')).toBeUndefined();
  });

  it('counts outer-scope uses inside subgraphs as consumers', () => {
    const { graph } = chain();
    const body = new Graph({
      name: 'then',
      nodes: [createNode({ opType: 'Add', inputs: ['a', 'inner_in'], outputs: ['t'] })],
      inputs: [{ name: 'inner_in' }],
      outputs: [{ name: 't' }, { name: 'w' }],
    });
    const nested = new Graph({
      name: 'else',
      nodes: [
        createNode({
          opType: 'If',
          inputs: ['cond'],
          outputs: ['e'],
          attributes: { then_branch: new Graph({ name: 'deep', outputs: [{ name: 'b' }] }) },
        }),
      ],
      outputs: [{ name: 'e' }],
    });
    const ifNode = createNode({
      opType: 'If',
      inputs: ['cond'],
      outputs: ['r'],
      attributes: { then_branch: body, else_branch: nested },
    });
    graph.addNode(ifNode);
    expect(graph.consumers('a')).toContain(ifNode);
    expect(graph.consumers('w')).toContain(ifNode);
    expect(graph.consumers('b')).toContain(ifNode);
    expect(graph.consumers('inner_in')).toEqual([]);
    // An edit inside the subgraph is noticed by the outer graph.
    body.addNode(createNode({ opType: 'Neg', inputs: ['x'], outputs: ['nx'] }));
    expect(graph.consumers('x')).toContain(ifNode);
    body.removeNode(body.nodes[0]!);
    expect(graph.consumers('a')).not.toContain(ifNode);
    // replaceAllUses reaches into subgraphs.
    graph.replaceAllUses('x', 'x2');
    expect(body.nodes[0]!.inputs).toEqual(['x2']);
  });

  it('reads constants from initializers and Constant nodes', () => {
    const graph = new Graph({
      nodes: [
        createNode({ opType: 'Constant', outputs: ['t'], attributes: { value: f32([1, 2, 3, 4], [2, 2]) } }),
        createNode({
          opType: 'Constant',
          outputs: ['vf'],
          attributes: { value_float: { type: 'float', value: 2 } },
        }),
        createNode({ opType: 'Constant', outputs: ['vfs'], attributes: { value_floats: [0.5, 1.5] } }),
        createNode({ opType: 'Constant', outputs: ['vi'], attributes: { value_int: 7 } }),
        createNode({ opType: 'Constant', outputs: ['vis'], attributes: { value_ints: [1, -2] } }),
        createNode({ opType: 'Constant', outputs: ['vs'], attributes: { value_string: 'text' } }),
        createNode({ opType: 'Relu', inputs: ['t'], outputs: ['r'] }),
      ],
      initializers: { init: f32([9]) },
    });
    expect(graph.getConstant('init')?.data).toEqual(Float32Array.of(9));
    expect(graph.getConstant('t')).toMatchObject({ dtype: 'float32', shape: [2, 2] });
    expect(graph.getConstant('vf')).toEqual({ dtype: 'float32', shape: [], data: Float32Array.of(2) });
    expect(graph.getConstant('vfs')).toEqual({
      dtype: 'float32',
      shape: [2],
      data: Float32Array.of(0.5, 1.5),
    });
    expect(graph.getConstant('vi')).toEqual({ dtype: 'int64', shape: [], data: BigInt64Array.of(7n) });
    expect(graph.getConstant('vis')).toEqual({ dtype: 'int64', shape: [2], data: BigInt64Array.of(1n, -2n) });
    expect(graph.getConstant('vs')).toBeUndefined();
    expect(graph.getConstant('r')).toBeUndefined();
  });

  it('gives unique, deterministic names', () => {
    const make = () => chain().graph;
    const first = make();
    const names = [
      first.uniqueName('a'),
      first.uniqueName('a'),
      first.uniqueName('new'),
      first.uniqueName('new'),
    ];
    expect(names).toEqual(['a_1', 'a_2', 'new', 'new_1']);
    const second = make();
    expect([
      second.uniqueName('a'),
      second.uniqueName('a'),
      second.uniqueName('new'),
      second.uniqueName('new'),
    ]).toEqual(names);
    const graph = make();
    graph.addNode(createNode({ opType: 'Relu', inputs: ['y'], outputs: ['z_1'], name: 'z' }));
    expect(graph.uniqueName('z')).toBe('z_2');
    expect(graph.uniqueName('w')).toBe('w_1');
  });
});

describe('Graph edits', () => {
  it('inserts, removes and rewires', () => {
    const { graph, a, b, c } = chain();
    const q = createNode({ opType: 'Identity', inputs: ['a'], outputs: ['a_q'] });
    graph.insertNodeBefore(q, b);
    expect(graph.nodes).toEqual([a, q, b, c]);
    expect(graph.replaceAllUses('a', 'a_q', { except: [q] })).toBe(2);
    expect(graph.consumers('a')).toEqual([q]);
    expect(new Set(graph.consumers('a_q'))).toEqual(new Set([b, c]));
    graph.replaceAllUses('y', 'y2');
    expect(graph.outputs[0]!.name).toBe('y2');
    expect(graph.replaceAllUses('b', 'b2', { outputs: false })).toBe(1);
    graph.removeNode(q);
    expect(graph.producer('a_q')).toBeUndefined();
    expect(graph.consumers('a')).toEqual([]);
    expect(() => graph.removeNode(q)).toThrowError(QuantError);
    expect(() => graph.addNode(a)).toThrowError(/already/);
  });

  it('notices direct edits of the nodes array', () => {
    const { graph, c } = chain();
    const extra = createNode({ opType: 'Neg', inputs: ['y'], outputs: ['z'] });
    graph.nodes.push(extra);
    expect(graph.producer('z')).toBe(extra);
    graph.nodes = graph.nodes.filter((node) => node !== c);
    expect(graph.producer('y')).toBeUndefined();
    c.inputs[0] = 'x';
    graph.invalidate();
    expect(graph.consumers('x')).toEqual([graph.nodes[0]]);
  });

  it('sorts topologically, stably, and reports cycles', () => {
    const { graph, a, b, c } = chain();
    graph.topologicalSort();
    expect(graph.nodes).toEqual([a, b, c]);
    const d = createNode({ opType: 'Neg', inputs: ['x'], outputs: ['d'] });
    graph.nodes = [c, d, b, a];
    graph.topologicalSort();
    // d is independent and keeps its place relative to a (it was first among ready nodes after none).
    expect(graph.nodes).toEqual([d, a, b, c]);
    graph.replaceInput(a, 'x', 'y');
    expect(() => graph.topologicalSort()).toThrowError(/cycle/);
    try {
      graph.topologicalSort();
    } catch (error) {
      expect(QuantError.is(error, 'INVALID_MODEL')).toBe(true);
      // The named node is on the cycle a -> b -> c -> a, not the independent d.
      expect((error as Error).message).not.toContain('"d"');
    }
  });

  it('orders nodes after producers used by their subgraphs', () => {
    const producer = createNode({ opType: 'Neg', inputs: ['x'], outputs: ['p'] });
    const body = new Graph({ outputs: [{ name: 'p' }] });
    const ifNode = createNode({
      opType: 'If',
      inputs: ['x'],
      outputs: ['r'],
      attributes: { then_branch: body },
    });
    const graph = new Graph({ nodes: [ifNode, producer], inputs: [{ name: 'x' }], outputs: [{ name: 'r' }] });
    graph.topologicalSort();
    expect(graph.nodes).toEqual([producer, ifNode]);
  });

  it('keeps indexes equal to a naive recomputation through random edit sequences', () => {
    const pool = ['x', 'w', 'v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'o'];
    const name = fc.constantFrom(...pool);
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        inputs: fc.array(name, { maxLength: 3 }),
        out: name,
        at: fc.nat(),
      }),
      fc.record({ kind: fc.constant('addIf' as const), outer: name, out: name, at: fc.nat() }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('replaceInput' as const), at: fc.nat(), from: name, to: name }),
      fc.record({ kind: fc.constant('replaceAll' as const), from: name, to: name, except: fc.nat() }),
      fc.record({
        kind: fc.constant('setInput' as const),
        at: fc.nat(),
        position: fc.nat({ max: 4 }),
        to: name,
      }),
      fc.record({ kind: fc.constant('replaceOutput' as const), at: fc.nat(), to: name }),
      fc.record({ kind: fc.constant('push' as const), input: name, out: name }),
      fc.record({ kind: fc.constant('subgraphEdit' as const), at: fc.nat(), outer: name }),
      fc.record({ kind: fc.constant('sort' as const) }),
      fc.record({ kind: fc.constant('initializer' as const), target: name, remove: fc.boolean() }),
      fc.record({ kind: fc.constant('unique' as const), base: name }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const graph = new Graph({
          inputs: [{ name: 'x' }],
          outputs: [{ name: 'o' }],
          initializers: { w: f32([1]) },
        });
        const pick = (at: number): Node | undefined => graph.nodes[at % Math.max(graph.nodes.length, 1)];
        for (const step of ops) {
          switch (step.kind) {
            case 'add':
              graph.addNode(
                createNode({ opType: 'Op', inputs: step.inputs, outputs: [step.out] }),
                step.at % (graph.nodes.length + 1),
              );
              break;
            case 'addIf': {
              const body = new Graph({
                nodes: [createNode({ opType: 'Neg', inputs: [step.outer], outputs: ['inner'] })],
                outputs: [{ name: 'inner' }],
              });
              graph.addNode(
                createNode({
                  opType: 'If',
                  inputs: ['x'],
                  outputs: [step.out],
                  attributes: { then_branch: body },
                }),
                step.at % (graph.nodes.length + 1),
              );
              break;
            }
            case 'remove': {
              const node = pick(step.at);
              if (node) graph.removeNode(node);
              break;
            }
            case 'replaceInput': {
              const node = pick(step.at);
              if (node) graph.replaceInput(node, step.from, step.to);
              break;
            }
            case 'replaceAll': {
              const except = pick(step.except);
              graph.replaceAllUses(step.from, step.to, { except: except ? [except] : [] });
              break;
            }
            case 'setInput': {
              const node = pick(step.at);
              if (node) graph.setInput(node, step.position, step.to);
              break;
            }
            case 'replaceOutput': {
              const node = pick(step.at);
              if (node?.outputs[0] !== undefined) graph.replaceOutput(node, node.outputs[0], step.to);
              break;
            }
            case 'push':
              graph.nodes.push(createNode({ opType: 'Op', inputs: [step.input], outputs: [step.out] }));
              break;
            case 'subgraphEdit': {
              const node = graph.nodes.filter((n) => n.opType === 'If')[step.at % 3];
              const body = node ? subgraphsOf(node)[0] : undefined;
              body?.addNode(
                createNode({ opType: 'Neg', inputs: [step.outer], outputs: [body.uniqueName('t')] }),
              );
              break;
            }
            case 'sort':
              try {
                graph.topologicalSort();
              } catch (error) {
                if (!QuantError.is(error, 'INVALID_MODEL')) throw error;
              }
              break;
            case 'initializer':
              if (step.remove) graph.removeInitializer(step.target);
              else if (!graph.producer(step.target)) graph.addInitializer(step.target, f32([2]));
              break;
            case 'unique':
              expect(naiveNames(graph).has(graph.uniqueName(step.base))).toBe(false);
              break;
          }
          for (const value of [...pool, 'inner']) {
            expect(graph.producer(value)).toBe(naiveProducer(graph, value));
            expect(new Set(graph.consumers(value))).toEqual(naiveConsumers(graph, value));
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
