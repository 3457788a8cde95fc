import { createTensor } from '@quantkit/core';
import { type Model, cloneModel, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { absorbHighBias } from './high-bias-absorption.js';
import { createRandom, gaussianTensor, node, randomTensor } from './test-models.js';

const ints = (value: number[]) => ({ type: 'ints' as const, value });

/**
 * x [1, 4, 6, 6] in [-1, 1) -> Conv 1x1 (4 -> 6, bias 5, weights summing under 0.5 in magnitude) -> Relu ->
 * Conv 3x3 (6 -> 3, `pads`) -> y: the first Conv's output lies in [4.5, 5.5], above c = 5 - 3 x 0.15 = 4.55
 * except at its extremes, so absorption changes nothing the Relu lets through.
 */
function highBiasModel(pads: number[], second: 'Conv' | 'Gemm' = 'Conv'): Model {
  const random = createRandom(17);
  const w1 = gaussianTensor([6, 4, 1, 1], random, 0.03);
  const isConv = second === 'Conv';
  return createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: isConv ? [1, 4, 6, 6] : [3, 4] }],
    outputs: [
      {
        name: 'y',
        dtype: 'float32',
        shape: isConv ? [1, 3, 6 + pads[0]! * 2 - 2, 6 + pads[0]! * 2 - 2] : [3, 3],
      },
    ],
    initializers: {
      w1: isConv ? w1 : createTensor('float32', [4, 6], gaussianTensor([4, 6], random, 0.03).data),
      b1: createTensor('float32', [6], new Float32Array(6).fill(5)),
      w2: isConv ? gaussianTensor([3, 6, 3, 3], random, 0.3) : gaussianTensor([6, 3], random, 0.3),
      b2: randomTensor([3], random, 0.1),
    },
    nodes: isConv
      ? [
          node('Conv', ['x', 'w1', 'b1'], ['c1'], {}, 'first'),
          node('Relu', ['c1'], ['r1']),
          node('Conv', ['r1', 'w2', 'b2'], ['y'], { pads: ints(pads), kernel_shape: ints([3, 3]) }, 'second'),
        ]
      : [
          node('Gemm', ['x', 'w1', 'b1'], ['c1'], {}, 'first'),
          node('Relu', ['c1'], ['r1']),
          node('Gemm', ['r1', 'w2', 'b2'], ['y'], { alpha: { type: 'float', value: 0.5 } }, 'second'),
        ],
  });
}

const statistics = (): BatchNormStatistics =>
  new Map([['c1', { mean: new Float64Array(6).fill(5), std: new Float64Array(6).fill(0.15) }]]);

async function outputs(model: Model, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  const random = createRandom(3);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, () => random() * 2 - 1);
  return (await session.run({ x: new ort.Tensor('float32', x, shape) })).y!.data as Float32Array;
}

describe('absorbHighBias', () => {
  for (const kind of ['Conv', 'Gemm'] as const) {
    it(`moves c = mean - 3 std into the next ${kind} and keeps its outputs (onnxruntime)`, async () => {
      const model = highBiasModel([0, 0, 0, 0], kind);
      const absorbed = cloneModel(model);
      const channels = statistics();
      expect(absorbHighBias(absorbed.graph, channels)).toEqual({ absorbed: 1, skippedForPadding: 0 });
      const bias = absorbed.graph.getConstant(absorbed.graph.nodes[0]!.inputs[2]!)!;
      for (const value of bias.data as Float32Array) expect(value).toBeCloseTo(5 - 4.55, 5);
      expect(channels.get('c1')!.mean[0]).toBeCloseTo(0.45, 9);
      const shape = kind === 'Conv' ? [1, 4, 6, 6] : [3, 4];
      const expected = await outputs(model, shape);
      const actual = await outputs(absorbed, shape);
      expected.forEach((value, i) => {
        expect(actual[i]).toBeCloseTo(value, 4);
      });
    });
  }

  it('leaves a next layer that zero-pads alone: its borders would miss c', () => {
    const model = highBiasModel([1, 1, 1, 1]);
    expect(absorbHighBias(model.graph, statistics())).toEqual({ absorbed: 0, skippedForPadding: 1 });
  });
});
