import { type Tensor, createTensor } from '@quantkit/core';
import { type Model, cloneModel, createModel, encodeModel } from '@quantkit/onnx';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { equalizationScales, equalizeCrossLayer, findLayerPairs } from './cross-layer-equalization.js';
import { createRandom, gaussianTensor, node, randomTensor } from './test-models.js';
import { channelRanges, weightLayer } from './weight-layer.js';

const ints = (value: number[]) => ({ type: 'ints' as const, value });
const int = (value: number) => ({ type: 'int' as const, value });

/** Channel ranges made to differ up to 100x: weights of output channel m scaled by 10^(2 m / (count - 1) - 1). */
function unevenTensor(shape: number[], random: () => number, axis: 0 | 1): Tensor<'float32'> {
  const tensor = gaussianTensor(shape, random, 0.3);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const count = shape[axis]!;
  for (let i = 0; i < tensor.data.length; i++) {
    const channel = Math.floor(i / inner) % count;
    tensor.data[i] = tensor.data[i]! * 10 ** ((2 * channel) / (count - 1) - 1);
  }
  return tensor;
}

/**
 * x [1, 4, 8, 8] -> Conv 3x3 (4 -> 8) -> Relu -> depthwise Conv 3x3 (group 8) -> PRelu (per-channel slope) ->
 * grouped Conv 1x1 (8 -> 8, group 2) -> LeakyRelu -> Conv 1x1 (8 -> 6) -> Reshape [1, 384] -> Gemm (transB, 384 -> 16)
 * -> Relu -> Gemm (16 -> 12) -> Gemm (transB, 12 -> 5): every kind of pair, each first layer's channels uneven.
 */
function chainModel(): Model {
  const random = createRandom(41);
  return createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 5] }],
    initializers: {
      w1: unevenTensor([8, 4, 3, 3], random, 0),
      b1: randomTensor([8], random, 0.2),
      w2: unevenTensor([8, 1, 3, 3], random, 0),
      b2: randomTensor([8], random, 0.2),
      slope: createTensor(
        'float32',
        [8, 1, 1],
        Float32Array.from({ length: 8 }, () => 0.1 + 0.2 * random()),
      ),
      w3: unevenTensor([8, 4, 1, 1], random, 0),
      b3: randomTensor([8], random, 0.2),
      w4: unevenTensor([6, 8, 1, 1], random, 0),
      shape: createTensor('int64', [2], BigInt64Array.of(1n, 384n)),
      w5: unevenTensor([16, 384], random, 0),
      b5: randomTensor([16], random, 0.2),
      w6: unevenTensor([16, 12], random, 1),
      b6: randomTensor([12], random, 0.2),
      w7: gaussianTensor([5, 12], random, 0.3),
    },
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints([1, 1, 1, 1]) }, 'conv1'),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'w2', 'b2'], ['c2'], { pads: ints([1, 1, 1, 1]), group: int(8) }, 'depthwise'),
      node('PRelu', ['c2', 'slope'], ['r2']),
      node('Conv', ['r2', 'w3', 'b3'], ['c3'], { group: int(2) }, 'grouped'),
      node('LeakyRelu', ['c3'], ['r3'], { alpha: { type: 'float', value: 0.2 } }),
      node('Conv', ['r3', 'w4'], ['c4'], {}, 'conv4'),
      node('Reshape', ['c4', 'shape'], ['flat']),
      node('Gemm', ['flat', 'w5', 'b5'], ['g5'], { transB: int(1) }, 'gemm5'),
      node('Relu', ['g5'], ['r5']),
      node('Gemm', ['r5', 'w6', 'b6'], ['g6'], { alpha: { type: 'float', value: 0.5 } }, 'gemm6'),
      node('Gemm', ['g6', 'w7'], ['y'], { transB: int(1) }, 'gemm7'),
    ],
  });
}

async function run(model: Model, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'all' });
  const name = model.graph.inputs[0]!.name;
  const output = model.graph.outputs[0]!.name;
  return (await session.run({ [name]: new ort.Tensor('float32', x, shape) }))[output]!.data as Float32Array;
}

describe('equalizationScales', () => {
  it('makes each pair of channel ranges equal: r1 / s = r2 s (seeded property)', () => {
    const range = fc.double({ min: 1e-4, max: 1e4, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(range, range), { minLength: 1, maxLength: 32 }), (pairs) => {
        const r1 = Float64Array.from(pairs, ([first]) => first);
        const r2 = Float64Array.from(pairs, ([, second]) => second);
        const scales = equalizationScales(r1, r2);
        scales.forEach((scale, i) => {
          expect(scale).toBeGreaterThan(0);
          expect(Math.abs(r1[i]! / scale - r2[i]! * scale)).toBeLessThanOrEqual((1e-9 * r1[i]!) / scale);
        });
      }),
      { seed: 12_019, numRuns: 200 },
    );
  });

  it('keeps scale 1 where either range is zero', () => {
    expect([...equalizationScales(Float64Array.of(0, 4, 100), Float64Array.of(2, 0, 1))]).toEqual([1, 1, 10]);
  });
});

describe('equalizeCrossLayer', () => {
  it('finds Conv, depthwise, grouped and Gemm (transB) pairs across Relu, PRelu, LeakyRelu and nothing', () => {
    const pairs = findLayerPairs(chainModel().graph).map((pair) => `${pair.first.name}->${pair.second.name}`);
    // conv4 -> gemm5 is joined by Reshape, which moves channels: no pair.
    expect(pairs).toEqual([
      'conv1->depthwise',
      'depthwise->grouped',
      'grouped->conv4',
      'gemm5->gemm6',
      'gemm6->gemm7',
    ]);
  });

  it('keeps the float function (onnxruntime) and equalizes each pair single-handed', async () => {
    const model = chainModel();
    const equalized = cloneModel(model);
    const statistics: BatchNormStatistics = new Map([
      ['c1', { mean: new Float64Array(8).fill(1), std: new Float64Array(8).fill(2) }],
    ]);
    const result = equalizeCrossLayer(equalized.graph, statistics, { maxSweeps: 50, tolerance: 1e-6 });
    expect(result.pairs).toBe(5);
    expect(result.sweeps).toBeGreaterThan(1);
    // The statistics of conv1's output follow its channels: divided by the scales it took.
    const scaled = statistics.get('c1')!;
    const before = channelRanges(weightLayer(model.graph, model.graph.nodes[0]!)!, 'output');
    const after = channelRanges(weightLayer(equalized.graph, equalized.graph.nodes[0]!)!, 'output');
    for (let c = 0; c < 8; c++) {
      const ratio = after[c]! / before[c]!;
      // The weights are float32: the ratio agrees to float32 precision.
      expect(Math.abs(scaled.std[c]! / 2 - ratio)).toBeLessThanOrEqual(1e-5 * ratio);
    }
    // Converged: each pair's ranges agree without another step.
    for (const pair of findLayerPairs(equalized.graph)) {
      const first = channelRanges(weightLayer(equalized.graph, pair.first)!, 'output');
      const second = channelRanges(weightLayer(equalized.graph, pair.second)!, 'input');
      first.forEach((range, i) => {
        expect(range).toBeCloseTo(second[i]!, 3);
      });
    }
    const random = createRandom(5);
    for (let trial = 0; trial < 3; trial++) {
      const x = Float32Array.from({ length: 256 }, () => random() * 2 - 1);
      const expected = await run(model, x, [1, 4, 8, 8]);
      const actual = await run(equalized, x, [1, 4, 8, 8]);
      const scale = expected.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
      expected.forEach((value, i) => {
        expect(Math.abs(actual[i]! - value)).toBeLessThanOrEqual(1e-4 * scale);
      });
    }
  });

  it('never equalizes across Clip, Sigmoid, an Add with another branch, or a value read twice', () => {
    const random = createRandom(7);
    const conv = (input: string, output: string, name: string) =>
      node('Conv', [input, `${name}_w`, `${name}_b`], [output], {}, name);
    const initializers: Record<string, Tensor> = {};
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) {
      initializers[`${name}_w`] = gaussianTensor([4, 4, 1, 1], random, 0.3);
      initializers[`${name}_b`] = randomTensor([4], random, 0.1);
    }
    initializers.low = createTensor('float32', [], Float32Array.of(0));
    initializers.high = createTensor('float32', [], Float32Array.of(6));
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 4, 4] }],
      outputs: [
        { name: 'y', dtype: 'float32', shape: [1, 4, 4, 4] },
        { name: 'side', dtype: 'float32', shape: [1, 4, 4, 4] },
      ],
      initializers,
      nodes: [
        conv('x', 'a_out', 'a'),
        node('Clip', ['a_out', 'low', 'high'], ['clipped']),
        conv('clipped', 'b_out', 'b'),
        node('Sigmoid', ['b_out'], ['sigmoid']),
        conv('sigmoid', 'c_out', 'c'),
        node('Add', ['c_out', 'x'], ['sum']),
        conv('sum', 'd_out', 'd'),
        node('Relu', ['d_out'], ['relu']),
        node('Relu', ['d_out'], ['side']),
        conv('relu', 'e_out', 'e'),
        conv('e_out', 'f_out', 'f'),
        conv('f_out', 'y', 'g'),
      ],
    });
    // e -> f and f -> g are the only pairs: the rest cross Clip, Sigmoid, Add, or d's output read twice.
    expect(findLayerPairs(model.graph).map((pair) => pair.first.name)).toEqual(['e', 'f']);
  });
});
