import { type Tensor, createSeededRandom, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Attribute, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ColumnSampler, weightLayout } from './layer-columns.js';
import { node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });
const ints = (value: number[]): Attribute => ({ type: 'ints', value });

/** Runs one node in onnxruntime: the reference the sampled columns must reproduce. */
async function runNode(
  opType: string,
  input: Tensor<'float32'>,
  weight: Tensor<'float32'>,
  attributes: Record<string, Attribute>,
  outputRank: number,
) {
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [...input.shape] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: new Array<string>(outputRank).fill('d') }],
    initializers: { w: weight },
    nodes: [node(opType, ['x', 'w'], ['y'], attributes, 'layer')],
  });
  const session = await executor.createSession(encodeModel(model));
  try {
    return { model, output: (await session.run({ x: input })).y as Tensor<'float32'> };
  } finally {
    await session.dispose();
  }
}

/** W times every column the sampler kept (it keeps all when its capacity covers them), [rows, count]. */
function product(sampler: ColumnSampler, weight: Tensor<'float32'>, layout: ReturnType<typeof weightLayout>) {
  const { rows, inner, groups, order } = layout!;
  const { inputs, count } = sampler.columns();
  const out = new Float64Array(rows * count);
  for (let r = 0; r < rows; r++) {
    const g = Math.floor(r / (rows / groups));
    for (let n = 0; n < count; n++) {
      let sum = 0;
      for (let k = 0; k < inner; k++)
        sum += weight.data[order[r * inner + k]!]! * inputs[(g * inner + k) * count + n]!;
      out[r * count + n] = sum;
    }
  }
  return { out, count };
}

describe('ColumnSampler', () => {
  const convCases: {
    name: string;
    input: number[];
    weight: number[];
    attributes: Record<string, Attribute>;
  }[] = [
    {
      name: 'padded 3x3',
      input: [2, 3, 7, 6],
      weight: [4, 3, 3, 3],
      attributes: { pads: ints([1, 1, 1, 1]) },
    },
    {
      name: 'strided, dilated, uneven pads',
      input: [1, 2, 9, 8],
      weight: [3, 2, 3, 2],
      attributes: { strides: ints([2, 3]), dilations: ints([2, 1]), pads: ints([0, 1, 2, 0]) },
    },
    {
      name: 'grouped',
      input: [1, 4, 5, 5],
      weight: [6, 2, 3, 3],
      attributes: { group: { type: 'int', value: 2 } },
    },
    {
      name: 'depthwise',
      input: [1, 5, 6, 6],
      weight: [5, 1, 3, 3],
      attributes: { group: { type: 'int', value: 5 }, pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) },
    },
    {
      name: 'SAME_UPPER',
      input: [1, 2, 6, 5],
      weight: [2, 2, 2, 3],
      attributes: { auto_pad: { type: 'string', value: 'SAME_UPPER' }, strides: ints([2, 2]) },
    },
    {
      name: '1-d',
      input: [2, 3, 10],
      weight: [4, 3, 3],
      attributes: { strides: ints([2]), pads: ints([1, 0]) },
    },
  ];

  for (const { name, input, weight, attributes } of convCases) {
    it(`takes a Conv's im2col patches (${name}) that give onnxruntime's output`, async () => {
      const random = createSeededRandom(input.length * 31 + weight[0]!);
      const x = randomTensor(input, random);
      const w = randomTensor(weight, random);
      const { model, output } = await runNode('Conv', x, w, attributes, input.length);
      const convNode = model.graph.nodes[0]!;
      const layout = weightLayout(convNode, w, w);
      const sampler = new ColumnSampler(convNode, w.shape, layout!, 10_000, 1);
      expect(sampler.add(x)).toBe(true);
      const { out, count } = product(sampler, w, layout);
      // The sampler keeps every patch in (batch, position) order; the output is [N, M, positions...].
      const rows = weight[0]!;
      const positions = output.data.length / (input[0]! * rows);
      expect(count).toBe(input[0]! * positions);
      for (let n = 0; n < count; n++) {
        const batch = Math.floor(n / positions);
        for (let r = 0; r < rows; r++) {
          const expected = output.data[(batch * rows + r) * positions + (n % positions)]!;
          expect(out[r * count + n]).toBeCloseTo(expected, 4);
        }
      }
    });
  }

  for (const [name, attributes, weightShape] of [
    ['Gemm', {}, [6, 4]],
    ['Gemm transB', { transB: { type: 'int', value: 1 } }, [4, 6]],
  ] as const) {
    it(`takes a ${name}'s rows`, async () => {
      const random = createSeededRandom(7);
      const x = randomTensor([5, 6], random);
      const w = randomTensor([...weightShape], random);
      const { model, output } = await runNode('Gemm', x, w, attributes, 2);
      const gemm = model.graph.nodes[0]!;
      const layout = weightLayout(gemm, w, w);
      const sampler = new ColumnSampler(gemm, w.shape, layout!, 100, 1);
      expect(sampler.add(x)).toBe(true);
      const { out, count } = product(sampler, w, layout);
      expect(count).toBe(5);
      for (let n = 0; n < 5; n++)
        for (let r = 0; r < 4; r++) expect(out[r * 5 + n]).toBeCloseTo(output.data[n * 4 + r]!, 4);
    });
  }

  it("takes a batched MatMul's rows, and a Gemm's [K, N] copy of a transB weight", async () => {
    const random = createSeededRandom(9);
    const x = randomTensor([2, 3, 6], random);
    const w = randomTensor([6, 4], random);
    const { model, output } = await runNode('MatMul', x, w, {}, 3);
    const matmul = model.graph.nodes[0]!;
    const layout = weightLayout(matmul, w, w);
    const sampler = new ColumnSampler(matmul, w.shape, layout!, 100, 1);
    expect(sampler.add(x)).toBe(true);
    const { out, count } = product(sampler, w, layout);
    expect(count).toBe(6);
    for (let n = 0; n < 6; n++)
      for (let r = 0; r < 4; r++) expect(out[r * 6 + n]).toBeCloseTo(output.data[n * 4 + r]!, 4);
    const transB = node('Gemm', ['x', 'w'], ['y'], { transB: { type: 'int', value: 1 } });
    const stored = createTensor('float32', [6, 4], w.data);
    expect(weightLayout(transB, createTensor('float32', [4, 6], new Float32Array(24)), stored)?.rows).toBe(4);
  });

  it('keeps a uniform seeded subset when there are more vectors than room', () => {
    const gemm = node('Gemm', ['x', 'w'], ['y']);
    const w = createTensor('float32', [1, 1], new Float32Array([1]));
    const layout = weightLayout(gemm, w, w)!;
    const draw = (seed: number) => {
      const sampler = new ColumnSampler(gemm, w.shape, layout, 200, seed);
      for (let batch = 0; batch < 10; batch++) {
        sampler.add(
          createTensor(
            'float32',
            [100, 1],
            Float32Array.from({ length: 100 }, (_, i) => batch * 100 + i),
          ),
        );
      }
      return Array.from(sampler.columns().inputs);
    };
    const kept = draw(3);
    expect(kept).toHaveLength(200);
    expect(new Set(kept).size).toBe(200);
    expect(draw(3)).toEqual(kept);
    // Every tenth of the stream is represented: the mean of a uniform subset of 0..999 is near 500.
    const mean = kept.reduce((sum, value) => sum + value, 0) / kept.length;
    expect(mean).toBeGreaterThan(400);
    expect(mean).toBeLessThan(600);
    expect(kept.filter((value) => value >= 900).length).toBeGreaterThan(5);
  });
});
