// Networks inside If branches (a voice-activity model keeps its whole network there): weights in the branches are
// quantized, whether the branch holds them, reads them from the main graph, or builds them with Constant nodes;
// and the If's output is typed from its branches, so what follows it is quantized too.
import { type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Graph, createModel, encodeModel, subgraphsOf } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { QuantizeMode } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { weightBytes } from './summary.js';
import { createRandom, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

function branch(
  name: string,
  nodes: ReturnType<typeof node>[],
  initializers: Record<string, Tensor> = {},
): Graph {
  return createModel({
    opset: 13,
    graphName: name,
    inputs: [],
    outputs: [{ name: `${name}_out`, dtype: 'float32' }],
    initializers,
    nodes,
  }).graph;
}

/**
 * x [2, 32], cond -> If(then: x @ shared @ constant; else: x @ local, then a nested If whose branch does
 * x @ shared @ else_c, a Constant of the else branch) -> h -> MatMul(tail) -> y. `shared` is a main-graph initializer also read by the main graph.
 */
function branchyModel(opset: number) {
  const random = createRandom(opset);
  const shared = randomTensor([32, 32], random, 0.3);
  const then = branch('then', [
    node('MatMul', ['x', 'shared'], ['t1'], {}, 'then_mm'),
    node(
      'Constant',
      [],
      ['c'],
      { value: { type: 'tensor', value: randomTensor([32, 32], random, 0.3) } },
      'then_c',
    ),
    node('MatMul', ['t1', 'c'], ['then_out'], {}, 'then_mm2'),
  ]);
  // The nested branch also reads a Constant node of the branch around it (inlined exports keep weights so).
  const nested = branch('inner', [
    node('MatMul', ['e1', 'shared'], ['inner_t'], {}, 'inner_mm'),
    node('MatMul', ['inner_t', 'else_c'], ['inner_out'], {}, 'inner_mm2'),
  ]);
  const passthrough = branch('pass', [node('Identity', ['e1'], ['pass_out'], {}, 'pass_id')]);
  const otherwise = branch(
    'else',
    [
      node('MatMul', ['x', 'local'], ['e1'], {}, 'else_mm'),
      node(
        'Constant',
        [],
        ['else_c'],
        { value: { type: 'tensor', value: randomTensor([32, 32], random, 0.3) } },
        'else_c',
      ),
      node(
        'If',
        ['cond2'],
        ['else_out'],
        {
          then_branch: { type: 'graph', value: nested },
          else_branch: { type: 'graph', value: passthrough },
        },
        'else_if',
      ),
    ],
    { local: randomTensor([32, 32], random, 0.3) },
  );
  return createModel({
    opset,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 32] },
      { name: 'cond', dtype: 'bool', shape: [] },
      { name: 'cond2', dtype: 'bool', shape: [] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', shape: [2, 8] },
      { name: 'side', dtype: 'float32', shape: [2, 32] },
    ],
    initializers: { shared, tail: randomTensor([32, 8], random, 0.3) },
    nodes: [
      node(
        'If',
        ['cond'],
        ['h'],
        {
          then_branch: { type: 'graph', value: then },
          else_branch: { type: 'graph', value: otherwise },
        },
        'branch',
      ),
      node('MatMul', ['h', 'tail'], ['y'], {}, 'tail_mm'),
      node('MatMul', ['x', 'shared'], ['side'], {}, 'side_mm'),
    ],
  });
}

function feeds(seed: number, cond: boolean, cond2: boolean) {
  return {
    x: randomTensor([2, 32], createRandom(seed)),
    cond: createTensor('bool', [], Uint8Array.of(cond ? 1 : 0)),
    cond2: createTensor('bool', [], Uint8Array.of(cond2 ? 1 : 0)),
  };
}

async function run(bytes: Uint8Array, input: Record<string, Tensor>) {
  const session = await executor.createSession(bytes);
  try {
    return await session.run(input);
  } finally {
    await session.dispose();
  }
}

/** The 8-bit tensors of a graph and every body in it: initializers and Constant node values. */
function codeTensors(graph: Graph): Tensor[] {
  const found: Tensor[] = [...graph.initializers.values()];
  for (const n of graph.nodes) {
    const value = n.opType === 'Constant' ? n.attributes.get('value') : undefined;
    if (value?.type === 'tensor') found.push(value.value);
    for (const body of subgraphsOf(n)) found.push(...codeTensors(body));
  }
  return found.filter((tensor) => tensor.dtype === 'int8' || tensor.dtype === 'uint8');
}

function sqnr(reference: Float32Array, test: Float32Array): number {
  let signal = 0;
  let noise = 0;
  reference.forEach((value, i) => {
    signal += value * value;
    noise += (value - test[i]!) ** 2;
  });
  return 10 * Math.log10(signal / noise);
}

describe('weights inside If branches', () => {
  // Static: the If's output gets one uint8 range for both branches, whose values differ in scale here, and the
  // branches are weight-only. A weight several bodies read is stored once in every mode.
  const modes: { mode: QuantizeMode; floor: number; size: number }[] = [
    { mode: 'weight-only', floor: 30, size: 0.45 },
    { mode: 'dynamic', floor: 25, size: 0.45 },
    { mode: 'static', floor: 12, size: 0.45 },
  ];
  for (const opset of [11, 13, 17, 21]) {
    for (const { mode, floor, size } of modes) {
      it(`are quantized in ${mode} mode at opset ${opset}, every path loads and stays close`, async () => {
        const float = encodeModel(branchyModel(opset));
        const calibrationData = [feeds(1, true, true), feeds(2, false, true), feeds(3, false, false)];
        const result = await quantizeModel(float, {
          mode,
          executor,
          ...(mode === 'static' && { calibrationData }),
        });
        const decisions = result.summary.nodes;
        const quantized = (name: string) => decisions.find((decision) => decision.name === name)?.quantized;
        for (const name of [
          'then_mm',
          'then_mm2',
          'else_mm',
          'inner_mm',
          'inner_mm2',
          'tail_mm',
          'side_mm',
        ]) {
          expect(quantized(name), `${name}: ${JSON.stringify(decisions.find((d) => d.name === name))}`).toBe(
            true,
          );
        }
        expect(decisions.find((decision) => decision.name === 'inner_mm')!.scope).toBe(
          'branch/else_branch/else_if/then_branch',
        );
        if (mode === 'static') {
          expect(decisions.find((decision) => decision.name === 'then_mm')!.reason).toMatch(/weight-only/);
        }
        // Every float32 weight is gone: 4 bytes per weight became 1 (plus scales).
        expect(result.summary.weightBytesAfter).toBeLessThan(result.summary.weightBytesBefore * size);
        // And each 32x32 weight is stored once per form, though `shared` is read by the main graph and two bodies:
        // in static mode the main graph multiplies it in integers (7-bit codes on the default x86-avx2) while the
        // bodies dequantize it to float (8-bit codes), so it has two forms there.
        expect(codeTensors(result.model.graph).filter((tensor) => tensor.data.length === 1024)).toHaveLength(
          mode === 'static' ? 5 : 4,
        );
        expect(weightBytes(result.model.graph)).toBe(result.summary.weightBytesAfter);
        for (const [cond, cond2] of [
          [true, true],
          [false, true],
          [false, false],
        ] as const) {
          const input = feeds(10, cond, cond2);
          const [expected, actual] = await Promise.all([run(float, input), run(result.bytes, input)]);
          for (const output of ['y', 'side']) {
            const value = actual[output]!.data as Float32Array;
            expect(value.every(Number.isFinite)).toBe(true);
            expect(
              sqnr(expected[output]!.data as Float32Array, value),
              `${output} cond=${cond},${cond2}`,
            ).toBeGreaterThan(floor);
          }
        }
      });
    }
  }
});
