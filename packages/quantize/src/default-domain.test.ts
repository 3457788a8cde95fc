// Exporters spell the default ONNX domain '' or 'ai.onnx'; both mean the same standard ops, in every mode.
import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { QuantizeMode } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

/** x -> Conv -> BatchNormalization -> Relu -> Flatten -> MatMul -> y, every node in domain "ai.onnx". */
function spelledOut() {
  const random = createRandom(7);
  const ones = createTensor('float32', [4], Float32Array.of(1, 1.5, 0.5, 2));
  return createModel({
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8] }],
    initializers: {
      w: randomTensor([4, 2, 3, 3], random, 0.5),
      scale: ones,
      bias: createTensor('float32', [4], Float32Array.of(0.1, -0.1, 0.2, 0)),
      mean: createTensor('float32', [4], Float32Array.of(0, 0.1, -0.1, 0.05)),
      variance: ones,
      fc: randomTensor([16, 8], random, 0.5),
    },
    nodes: [
      {
        opType: 'Conv',
        domain: 'ai.onnx',
        inputs: ['x', 'w'],
        outputs: ['c'],
        name: 'conv',
        attributes: { pads: [0, 0, 0, 0] },
      },
      {
        opType: 'BatchNormalization',
        domain: 'ai.onnx',
        inputs: ['c', 'scale', 'bias', 'mean', 'variance'],
        outputs: ['b'],
        name: 'bn',
      },
      { opType: 'Relu', domain: 'ai.onnx', inputs: ['b'], outputs: ['r'], name: 'relu' },
      { opType: 'Flatten', domain: 'ai.onnx', inputs: ['r'], outputs: ['f'], name: 'flatten' },
      { opType: 'MatMul', domain: 'ai.onnx', inputs: ['f', 'fc'], outputs: ['y'], name: 'fc' },
    ],
  });
}

describe('domain "ai.onnx"', () => {
  const x = randomTensor([1, 2, 4, 4], createRandom(3));
  for (const mode of ['static', 'dynamic', 'weight-only'] as QuantizeMode[]) {
    it(`is the default domain in ${mode} mode: BatchNorm folds, Conv and MatMul are quantized`, async () => {
      const float = encodeModel(spelledOut());
      const result = await quantizeModel(float, {
        mode,
        executor,
        ...(mode === 'static' && { calibrationData: [{ x }] }),
      });
      const decision = (name: string) => result.summary.nodes.find((node) => node.name === name);
      expect(decision('fc')?.quantized, decision('fc')?.reason).toBe(true);
      if (mode !== 'dynamic') expect(decision('conv')?.quantized, decision('conv')?.reason).toBe(true);
      expect(result.model.graph.nodes.some((node) => node.opType === 'BatchNormalization')).toBe(false);
      expect(result.summary.verification).toMatchObject({ verified: true });
    });
  }
});
