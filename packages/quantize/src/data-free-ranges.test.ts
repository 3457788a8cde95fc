import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { createDefaultRegistry } from './builtins.js';
import { dataFreeRanges } from './data-free-ranges.js';
import type { QuantPlan } from './plan.js';
import { resolveRecipe } from './resolve-recipe.js';
import { node } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

describe('dataFreeRanges', () => {
  it('takes mean +- n std, clips by Relu and Relu6, unites Concat inputs and measures the rest on random data', async () => {
    // a, b: values with statistics (inputs here, BatchNorm outputs in a real model); x: a plain input.
    const model = createModel({
      opset: 13,
      inputs: [
        { name: 'a', dtype: 'float32', shape: [1, 2, 4, 4] },
        { name: 'b', dtype: 'float32', shape: [1, 2, 4, 4] },
        { name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] },
      ],
      outputs: [
        { name: 'joined', dtype: 'float32', shape: [1, 4, 16] },
        { name: 'doubled', dtype: 'float32', shape: [1, 2, 4, 4] },
      ],
      initializers: {
        low: createTensor('float32', [], Float32Array.of(0)),
        high: createTensor('float32', [], Float32Array.of(6)),
        shape: createTensor('int64', [3], BigInt64Array.of(1n, 4n, 16n)),
      },
      nodes: [
        node('Relu', ['a'], ['relu']),
        node('Clip', ['b', 'low', 'high'], ['relu6']),
        node('Concat', ['relu', 'relu6'], ['concat'], { axis: { type: 'int', value: 1 } }),
        node('Reshape', ['concat', 'shape'], ['joined']),
        node('Add', ['x', 'x'], ['doubled']),
      ],
    });
    const statistics: BatchNormStatistics = new Map([
      ['a', { mean: Float64Array.of(1, -1), std: Float64Array.of(0.5, 2) }],
      ['b', { mean: Float64Array.of(5, 0), std: Float64Array.of(1, 0.1) }],
    ]);
    const plan = {
      activations: ['a', 'relu', 'relu6', 'joined', 'doubled', 'x'],
      sharedParams: new Map(),
    } as unknown as QuantPlan;
    const recipe = resolveRecipe({ mode: 'data-free' });
    const { ranges, sources, randomSamples } = await dataFreeRanges(model, plan, recipe, statistics, {
      executor,
      registry: createDefaultRegistry(),
    });
    const range = (name: string) => [ranges.get(name)!.min[0], ranges.get(name)!.max[0]];
    // a: channel 0 in [1 - 3, 1 + 3], channel 1 in [-1 - 12, -1 + 12]: the union [-13, 11].
    expect(range('a')).toEqual([-13, 11]);
    expect(range('relu')).toEqual([0, 11]);
    // b: [5 - 6, 5 + 6] and [-0.6, 0.6], clipped to [0, 6].
    expect(range('relu6')).toEqual([0, 6]);
    expect(range('joined')).toEqual([0, 11]);
    expect(Object.fromEntries(sources)).toEqual({
      a: 'batch-norm',
      relu: 'batch-norm',
      relu6: 'batch-norm',
      joined: 'propagated',
      doubled: 'random',
      x: 'random',
    });
    // Uniform [-1, 1) inputs: x measured within it, x + x within twice it.
    expect(range('x')[0]).toBeGreaterThanOrEqual(-1);
    expect(range('doubled')[1]).toBeLessThanOrEqual(2);
    expect(range('doubled')[1]).toBeGreaterThan(1.5);
    expect(randomSamples).toBe(8);
  });
});
