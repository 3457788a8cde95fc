import type { Tensor } from '@quantkit/core';
import { floatTensor, maxAbsDiff, runOrt } from '@quantkit/test-kit';
import { describe, expect, it } from 'vitest';
import { foldBatchNorm } from './fold-batch-norm.js';
import { decodeModel, encodeModel, type Model } from './model.js';
import { type CreateModelOptions, createModel, type NodeInit } from './model-builder.js';

function bnParams(channels: number, seed: number, prefix = 'bn'): Record<string, Tensor> {
  return {
    [`${prefix}_scale`]: floatTensor([channels], seed, 1, 0.2),
    [`${prefix}_bias`]: floatTensor([channels], seed + 1),
    [`${prefix}_mean`]: floatTensor([channels], seed + 2, 0.5),
    [`${prefix}_var`]: floatTensor([channels], seed + 3, 0.4, 1),
  };
}

const bnNode = (input: string, output: string, extra: NodeInit['attributes'] = {}): NodeInit => ({
  opType: 'BatchNormalization',
  inputs: [input, 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'],
  outputs: [output],
  attributes: { epsilon: { type: 'float', value: 1e-3 }, ...extra },
});

/** Runs the model before and after folding on the same input; returns the fold count and the max difference. */
async function foldAndCompare(
  options: CreateModelOptions,
  inputShape: number[],
): Promise<{ count: number; diff: number; folded: Model }> {
  const model = createModel(options);
  const original = encodeModel(model);
  const folded = decodeModel(original);
  const count = foldBatchNorm(folded.graph);
  const feeds = { x: floatTensor(inputShape, 99) };
  const before = await runOrt(original, feeds);
  const after = await runOrt(encodeModel(folded), feeds);
  let diff = 0;
  for (const output of model.graph.outputs) {
    diff = Math.max(diff, maxAbsDiff(before[output.name]!.data, after[output.name]!.data));
  }
  return { count, diff, folded };
}

describe('foldBatchNorm', () => {
  it('folds Conv (grouped, with bias) + BatchNorm + Relu', async () => {
    const { count, diff, folded } = await foldAndCompare(
      {
        opset: 13,
        inputs: [['x', 'float32', [1, 4, 5, 5]]],
        outputs: [['y', 'float32', [1, 6, 5, 5]]],
        initializers: { w: floatTensor([6, 2, 3, 3], 1), b: floatTensor([6], 2), ...bnParams(6, 10) },
        nodes: [
          {
            opType: 'Conv',
            inputs: ['x', 'w', 'b'],
            outputs: ['c'],
            attributes: { group: 2, pads: [1, 1, 1, 1] },
          },
          bnNode('c', 'n'),
          { opType: 'Relu', inputs: ['n'], outputs: ['y'] },
        ],
      },
      [1, 4, 5, 5],
    );
    expect(count).toBe(1);
    expect(diff).toBeLessThan(1e-4);
    expect(folded.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu']);
    // The old weight, bias and BatchNorm parameters are gone; only the folded ones remain.
    expect(folded.graph.initializers.size).toBe(2);
  });

  it('folds Conv without bias, creating one', async () => {
    const { count, diff, folded } = await foldAndCompare(
      {
        opset: 17,
        inputs: [['x', 'float32', [2, 3, 4, 4]]],
        outputs: [['y', 'float32', [2, 5, 2, 2]]],
        initializers: { w: floatTensor([5, 3, 3, 3], 3), ...bnParams(5, 20) },
        nodes: [{ opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }, bnNode('c', 'y')],
      },
      [2, 3, 4, 4],
    );
    expect(count).toBe(1);
    expect(diff).toBeLessThan(1e-4);
    expect(folded.graph.nodes[0]!.inputs).toHaveLength(3);
    expect(folded.graph.outputs[0]!.name).toBe('y');
  });

  it('folds ConvTranspose with the [C_in, C_out/group, ...] weight layout', async () => {
    for (const withBias of [false, true]) {
      const { count, diff } = await foldAndCompare(
        {
          opset: 13,
          inputs: [['x', 'float32', [1, 4, 3, 3]]],
          outputs: [['y', 'float32', undefined]],
          initializers: { w: floatTensor([4, 3, 2, 2], 4), b: floatTensor([6], 5), ...bnParams(6, 30) },
          nodes: [
            {
              opType: 'ConvTranspose',
              inputs: withBias ? ['x', 'w', 'b'] : ['x', 'w'],
              outputs: ['c'],
              attributes: { group: 2, strides: [2, 2] },
            },
            bnNode('c', 'y'),
          ],
        },
        [1, 4, 3, 3],
      );
      expect(count).toBe(1);
      expect(diff).toBeLessThan(1e-4);
    }
  });

  it('folds Gemm with and without transB, alpha, beta and C', async () => {
    for (const transB of [0, 1]) {
      for (const withC of [false, true]) {
        const { count, diff } = await foldAndCompare(
          {
            opset: 15,
            inputs: [['x', 'float32', [3, 4]]],
            outputs: [['y', 'float32', [3, 5]]],
            initializers: {
              w: floatTensor(transB ? [5, 4] : [4, 5], 6),
              c: floatTensor([5], 7),
              ...bnParams(5, 40),
            },
            nodes: [
              {
                opType: 'Gemm',
                inputs: withC ? ['x', 'w', 'c'] : ['x', 'w'],
                outputs: ['g'],
                attributes: { transB, alpha: { type: 'float', value: 2 }, beta: 0.5 },
              },
              bnNode('g', 'y'),
            ],
          },
          [3, 4],
        );
        expect(count).toBe(1);
        expect(diff).toBeLessThan(1e-4);
      }
    }
  });

  it('folds weights held in Constant nodes (opset 9, IR 3) and keeps them Constant nodes', async () => {
    const params = bnParams(4, 50);
    const constant = (name: string, value: Tensor): NodeInit => ({
      opType: 'Constant',
      outputs: [name],
      attributes: { value },
    });
    const { count, diff, folded } = await foldAndCompare(
      {
        opset: 9,
        irVersion: 3,
        inputs: [['x', 'float32', [1, 2, 4, 4]]],
        outputs: [['y', 'float32', [1, 4, 4, 4]]],
        nodes: [
          constant('w', floatTensor([4, 2, 1, 1], 8)),
          ...Object.entries(params).map(([name, value]) => constant(name, value)),
          { opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
          bnNode('c', 'y'),
        ],
      },
      [1, 2, 4, 4],
    );
    expect(count).toBe(1);
    expect(diff).toBeLessThan(1e-4);
    expect(folded.graph.initializers.size).toBe(0);
    expect(folded.graph.nodes.map((n) => n.opType)).toEqual(['Constant', 'Constant', 'Conv']);
  });

  it('leaves BatchNorm alone when the intermediate value has other uses', async () => {
    const { count, diff } = await foldAndCompare(
      {
        opset: 13,
        inputs: [['x', 'float32', [1, 2, 3, 3]]],
        outputs: [
          ['y', 'float32', [1, 2, 3, 3]],
          ['c', 'float32', [1, 2, 3, 3]],
        ],
        initializers: { w: floatTensor([2, 2, 1, 1], 9), ...bnParams(2, 60) },
        nodes: [{ opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }, bnNode('c', 'y')],
      },
      [1, 2, 3, 3],
    );
    expect(count).toBe(0);
    expect(diff).toBe(0);
  });

  it('leaves training-mode BatchNorm and non-constant parameters alone', () => {
    const model = createModel({
      opset: 15,
      inputs: [
        ['x', 'float32', [1, 2, 3, 3]],
        ['bn_scale', 'float32', [2]],
      ],
      outputs: [['y', 'float32', undefined]],
      initializers: { w: floatTensor([2, 2, 1, 1], 9), ...bnParams(2, 70) },
      nodes: [{ opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }, bnNode('c', 'y', { training_mode: 1 })],
    });
    expect(foldBatchNorm(model.graph)).toBe(0);
    model.graph.nodes[1]!.attributes.delete('training_mode');
    model.graph.initializers.delete('bn_scale');
    expect(foldBatchNorm(model.graph)).toBe(0);
  });
});
