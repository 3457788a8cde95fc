// A model for the auto tests whose layers differ in sensitivity: a wide, well-behaved first layer (many bytes, little
// harm from few bits), a middle layer whose rows each hold one large outlier (its per-channel scale is set by the
// outlier, so few-bit codes round most of its weights to zero), and a small last layer.
import { createTensor } from '@quantkit/core';
import { createModel } from '@quantkit/onnx';
import { type TestModel, createRandom, gaussianTensor, node, randomTensor } from '../test-models.js';

export function mixedSensitivityModel(seed = 7): TestModel {
  const random = createRandom(seed);
  const outliers = gaussianTensor([96, 48], random, 0.1);
  const data = outliers.data as Float32Array;
  for (let row = 0; row < 96; row += 4) data[row * 48 + (row % 48)] = 2.5;
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8] }],
    initializers: {
      w1: gaussianTensor([64, 96], random, 0.12),
      w2: createTensor('float32', [96, 48], data),
      w3: gaussianTensor([48, 8], random, 0.2),
    },
    nodes: [
      node('MatMul', ['x', 'w1'], ['h1'], {}, 'wide'),
      node('Relu', ['h1'], ['a1'], {}, 'relu1'),
      node('MatMul', ['a1', 'w2'], ['h2'], {}, 'outlier'),
      node('Relu', ['h2'], ['a2'], {}, 'relu2'),
      node('MatMul', ['a2', 'w3'], ['y'], {}, 'head'),
    ],
  });
  return { model, sample: (draw) => ({ x: randomTensor([1, 64], draw) }) };
}
