import { type Tensor, createRegistry } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import {
  Graph,
  type Model,
  type NodeInit,
  type ValueInfoInit,
  createModel,
  createNode,
  createValueInfo,
  encodeModel,
} from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins } from '../../builtins.js';
import { int64Tensor, randomFloat } from '../../conformance/random-tensors.js';
import { tensorMismatch } from '../../conformance/run-both.js';
import { createRuntime } from '../../runtime.js';

// If and Loop hold subgraphs, which the one-node conformance cases cannot express: these models are built by hand
// and, like the cases, run in onnxruntime-node and in the runtime, whose outputs must agree.

const ortExecutor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });

function graph(
  name: string,
  nodes: readonly NodeInit[],
  inputs: readonly ValueInfoInit[],
  outputs: readonly ValueInfoInit[],
  initializers: Record<string, Tensor> = {},
): Graph {
  return new Graph({
    name,
    nodes: nodes.map((init, index) => ({ ...createNode(init), name: `${name}_${init.opType}_${index}` })),
    inputs: inputs.map(createValueInfo),
    outputs: outputs.map(createValueInfo),
    initializers,
  });
}

async function expectSameAsOrt(model: Model, feeds: Record<string, Tensor>): Promise<Tensor[]> {
  const session = await ortExecutor.createSession(encodeModel(model), { threads: 1 });
  let expected: Tensor[];
  try {
    const results = await session.run(feeds);
    expected = session.outputNames.map((name) => results[name]!);
  } finally {
    await session.dispose();
  }
  const loaded = await createRuntime(createRegistry(builtinRuntimePlugins)).load(model);
  const outputs = await loaded.run(feeds);
  const actual = loaded.outputNames.map((name) => outputs[name]!);
  expect(actual).toHaveLength(expected.length);
  expected.forEach((tensor, index) => {
    expect(tensorMismatch(actual[index]!, tensor), `output ${index}`).toBeUndefined();
  });
  return actual;
}

const bool = (value: boolean): Tensor => ({ dtype: 'bool', shape: [], data: Uint8Array.of(value ? 1 : 0) });
const float = (value: number): Tensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(value) });

describe('If against onnxruntime-node', () => {
  // then: x + 1 (an initializer of the branch); else: x * y, both outer values read by name.
  const thenBranch = graph(
    'then',
    [{ opType: 'Add', inputs: ['x', 'one'], outputs: ['sum'] }],
    [],
    [['sum', 'float32']],
    { one: float(1) },
  );
  const elseBranch = graph(
    'else',
    [{ opType: 'Mul', inputs: ['x', 'y'], outputs: ['product'] }],
    [],
    [['product', 'float32']],
  );
  const model = createModel({
    opset: 13,
    inputs: [
      ['cond', 'bool', []],
      ['x', 'float32', [2, 3]],
      ['y', 'float32', [3]],
    ],
    outputs: [['out', 'float32']],
    nodes: [
      {
        opType: 'If',
        inputs: ['cond'],
        outputs: ['out'],
        attributes: { then_branch: thenBranch, else_branch: elseBranch },
      },
    ],
  });
  const x = randomFloat([2, 3], 1);
  const y = randomFloat([3], 2);

  it('runs then_branch when cond is true', async () => {
    const [out] = await expectSameAsOrt(model, { cond: bool(true), x, y });
    expect(out!.data[0]).toBeCloseTo((x.data[0] ?? 0) + 1, 5);
  });

  it('runs else_branch when cond is false', async () => {
    const [out] = await expectSameAsOrt(model, { cond: bool(false), x, y });
    expect(out!.data[0]).toBeCloseTo((x.data[0] ?? 0) * (y.data[0] ?? 0), 5);
  });

  it('runs nested branches with outputs of different shapes and int64 values', async () => {
    // The shape of x, or its first two dims when the outer cond and the inner one (x's rank == 3) hold.
    const innerThen = graph(
      'inner_then',
      [{ opType: 'Slice', inputs: ['shape', 'zero', 'two'], outputs: ['head'] }],
      [],
      [['head', 'int64']],
      { zero: int64Tensor([0]), two: int64Tensor([2]) },
    );
    const innerElse = graph(
      'inner_else',
      [{ opType: 'Identity', inputs: ['shape'], outputs: ['all'] }],
      [],
      [['all', 'int64']],
    );
    const outerThen = graph(
      'outer_then',
      [
        { opType: 'Size', inputs: ['shape'], outputs: ['rank'] },
        { opType: 'Equal', inputs: ['rank', 'three'], outputs: ['is3d'] },
        {
          opType: 'If',
          inputs: ['is3d'],
          outputs: ['picked'],
          attributes: { then_branch: innerThen, else_branch: innerElse },
        },
      ],
      [],
      [['picked', 'int64']],
      { three: int64Tensor([3], []) },
    );
    const outerElse = graph(
      'outer_else',
      [{ opType: 'Identity', inputs: ['shape'], outputs: ['same'] }],
      [],
      [['same', 'int64']],
    );
    const nested = createModel({
      opset: 13,
      inputs: [
        ['cond', 'bool', []],
        ['x', 'float32', ['a', 'b', 'c']],
      ],
      outputs: [['out', 'int64']],
      nodes: [
        { opType: 'Shape', inputs: ['x'], outputs: ['shape'] },
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['out'],
          attributes: { then_branch: outerThen, else_branch: outerElse },
        },
      ],
    });
    const input = randomFloat([4, 5, 6], 3);
    const [sliced] = await expectSameAsOrt(nested, { cond: bool(true), x: input });
    expect(Array.from(sliced!.data as BigInt64Array, Number)).toEqual([4, 5]);
    const [whole] = await expectSameAsOrt(nested, { cond: bool(false), x: input });
    expect(whole!.shape).toEqual([3]);
  });
});

describe('Loop against onnxruntime-node', () => {
  /**
   * A loop carrying `acc` (acc += i * step, step an outer value) and scanning acc each iteration; its condition
   * stays true, or becomes i < limit - 1 when `stopAt` is given.
   */
  function loopModel(options: { tripCount: boolean; condition: boolean; stopAt?: number }): Model {
    const conditionNodes: NodeInit[] =
      options.stopAt === undefined
        ? [{ opType: 'Identity', inputs: ['cond_in'], outputs: ['cond_out'] }]
        : [{ opType: 'Less', inputs: ['i', 'stop'], outputs: ['cond_out'] }];
    const body = graph(
      'body',
      [
        { opType: 'Cast', inputs: ['i'], outputs: ['i_float'], attributes: { to: 1 } },
        { opType: 'Mul', inputs: ['i_float', 'step'], outputs: ['increment'] },
        { opType: 'Add', inputs: ['acc_in', 'increment'], outputs: ['acc_out'] },
        { opType: 'Identity', inputs: ['acc_out'], outputs: ['scan'] },
        ...conditionNodes,
      ],
      [
        ['i', 'int64', []],
        ['cond_in', 'bool', []],
        ['acc_in', 'float32', [2]],
      ],
      [
        ['cond_out', 'bool', []],
        ['acc_out', 'float32', [2]],
        ['scan', 'float32', [2]],
      ],
      options.stopAt === undefined ? {} : { stop: int64Tensor([options.stopAt - 1], []) },
    );
    return createModel({
      opset: 13,
      inputs: [
        ...(options.tripCount ? [['M', 'int64', []] as const] : []),
        ...(options.condition ? [['cond', 'bool', []] as const] : []),
        ['acc', 'float32', [2]],
        ['step', 'float32', [2]],
      ],
      outputs: [
        ['final', 'float32', [2]],
        ['scanned', 'float32', ['iterations', 2]],
      ],
      nodes: [
        {
          opType: 'Loop',
          inputs: [options.tripCount ? 'M' : '', options.condition ? 'cond' : '', 'acc'],
          outputs: ['final', 'scanned'],
          attributes: { body },
        },
      ],
    });
  }
  const acc = randomFloat([2], 4);
  const step = randomFloat([2], 5);

  it('runs M iterations, carrying and scanning values', async () => {
    const [final, scanned] = await expectSameAsOrt(loopModel({ tripCount: true, condition: true }), {
      M: int64Tensor([5], []),
      cond: bool(true),
      acc,
      step,
    });
    expect(scanned!.shape).toEqual([5, 2]);
    expect(final!.data[0]).toBeCloseTo(acc.data[0]! + 10 * step.data[0]!, 5);
  });

  it('stops when the body condition turns false, without a trip count', async () => {
    const [, scanned] = await expectSameAsOrt(loopModel({ tripCount: false, condition: true, stopAt: 4 }), {
      cond: bool(true),
      acc,
      step,
    });
    expect(scanned!.shape).toEqual([4, 2]);
  });

  it('runs M iterations without a condition input', async () => {
    await expectSameAsOrt(loopModel({ tripCount: true, condition: false }), {
      M: int64Tensor([3], []),
      acc,
      step,
    });
  });

  it('stops at M before the condition turns false', async () => {
    const [, scanned] = await expectSameAsOrt(loopModel({ tripCount: true, condition: true, stopAt: 10 }), {
      M: int64Tensor([2], []),
      cond: bool(true),
      acc,
      step,
    });
    expect(scanned!.shape).toEqual([2, 2]);
  });

  it('skips the body when the initial condition is false', async () => {
    const [final, scanned] = await expectSameAsOrt(loopModel({ tripCount: true, condition: true }), {
      M: int64Tensor([5], []),
      cond: bool(false),
      acc,
      step,
    });
    expect(final!.data).toEqual(acc.data);
    expect(scanned!.shape).toEqual([0, 2]);
  });

  it('runs no iteration for M = 0', async () => {
    await expectSameAsOrt(loopModel({ tripCount: true, condition: false }), {
      M: int64Tensor([0], []),
      acc,
      step,
    });
  });
});
