import { QuantError, type Tensor, createRegistry } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins } from '../../builtins.js';
import { randomFloat } from '../../conformance/random-tensors.js';
import { type NodeCase, nodeCaseModel } from '../../conformance/run-both.js';
import { createRuntime } from '../../runtime.js';

async function runNode(spec: NodeCase): Promise<Tensor[]> {
  const { model, feeds } = nodeCaseModel(spec);
  const loaded = await createRuntime(createRegistry(builtinRuntimePlugins)).load(model);
  const outputs = await loaded.run(feeds);
  return loaded.outputNames.map((name) => outputs[name]!);
}

// What the kernels refuse cannot be compared with onnxruntime, which runs these nodes.
describe('refusals', () => {
  it('BatchNormalization in training form is UNSUPPORTED', async () => {
    const parameter = randomFloat([2], 1, 0.5, 1);
    const run = runNode({
      opType: 'BatchNormalization',
      opset: 15,
      inputs: [randomFloat([1, 2, 3, 3], 2), parameter, parameter, parameter, parameter],
      attributes: { training_mode: 1 },
    });
    await expect(run).rejects.toSatisfy((error: unknown) => QuantError.is(error, 'UNSUPPORTED'));
  });

  it('Resize with antialias is UNSUPPORTED', async () => {
    const run = runNode({
      opType: 'Resize',
      opset: 18,
      inputs: [
        randomFloat([1, 1, 4, 4], 3),
        undefined,
        { dtype: 'float32', shape: [4], data: Float32Array.from([1, 1, 0.5, 0.5]) },
      ],
      attributes: { mode: 'linear', antialias: 1 },
    });
    await expect(run).rejects.toSatisfy((error: unknown) => QuantError.is(error, 'UNSUPPORTED'));
  });
});
