import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('weight ranges', () => {
  it('MSE-clipped 4-bit weights lose less than min-max ones on heavy-tailed weights', async () => {
    const test = mlpModel(61, 256);
    const w2 = test.model.graph.initializers.get('w2')!.data as Float32Array;
    const random = createRandom(8);
    // Laplace-distributed weights, as trained layers have: a long tail that min-max must cover.
    for (let i = 0; i < w2.length; i++) {
      const u = random() - 0.5;
      w2[i] = -0.03 * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    }
    const samples = Array.from({ length: 4 }, () => test.sample(random));
    const run = (weightRange: 'minmax' | 'mse') =>
      quantizeModel(encodeModel(test.model), {
        mode: 'static',
        bits: 4,
        weightRange,
        executor,
        calibrationData: samples,
        report: {},
      });
    const minmax = (await run('minmax')).report!.layers.find((layer) => layer.node === 'Gemm_h2')!;
    const mse = (await run('mse')).report!.layers.find((layer) => layer.node === 'Gemm_h2')!;
    expect(mse.weight!.sqnr).toBeGreaterThan(minmax.weight!.sqnr + 1);
    expect(mse.sqnr).toBeGreaterThan(minmax.sqnr);
  });

  it('records the choice in the recipe', async () => {
    const result = await quantizeModel(encodeModel(mlpModel().model), {
      mode: 'weight-only',
      weightRange: 'mse',
    });
    expect(result.summary.recipe.weightRange).toBe('mse');
    await expect(
      quantizeModel(encodeModel(mlpModel().model), { mode: 'weight-only', weightRange: 'best' as never }),
    ).rejects.toThrow(/weightRange must be "minmax" or "mse"/);
  });
});
