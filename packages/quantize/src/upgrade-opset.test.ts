// Static quantization moves opset-9 models to opset 10; the rewritten Slice must slice exactly as before.
import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

describe('opset 9 -> 10', () => {
  it('keeps "slice to the end" (ends = INT64_MAX) slicing to the end', async () => {
    const random = createRandom(9);
    // Exporters write INT64_MAX for an open end; decoded as a double it is 2^63, one past the int64 range.
    const float = createModel({
      opset: 9,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 6] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 4] }],
      initializers: { w: randomTensor([6, 6], random) },
      nodes: [
        node('MatMul', ['x', 'w'], ['h'], {}, 'mm'),
        node(
          'Slice',
          ['h'],
          ['y'],
          {
            axes: { type: 'ints', value: [1] },
            starts: { type: 'ints', value: [2] },
            ends: { type: 'ints', value: [2 ** 63] },
          },
          'tail',
        ),
      ],
    });
    const x = createTensor('float32', [2, 6], Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)));
    const result = await quantizeModel(encodeModel(float), { mode: 'static', executor, calibrationData: [{ x }] });
    const session = await executor.createSession(result.bytes);
    const reference = await executor.createSession(encodeModel(float));
    try {
      const [actual, expected] = [(await session.run({ x }))['y']!, (await reference.run({ x }))['y']!];
      expect(actual.shape).toEqual([2, 4]);
      const data = actual.data as Float32Array;
      for (const [i, value] of (expected.data as Float32Array).entries()) {
        expect(Math.abs(data[i]! - value)).toBeLessThan(0.05);
      }
    } finally {
      await Promise.all([session.dispose(), reference.dispose()]);
    }
  });
});
