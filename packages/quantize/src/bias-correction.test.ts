import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, gaussianTensor, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

/** Rows per sample: enough that the rounding noise of single values averages out of the per-channel means. */
const ROWS = 128;

/** x [ROWS, 64] in [0, 8) (a post-Relu-like input, mean far from 0) -> Gemm(transB) -> y [ROWS, 32]. */
function positiveGemm() {
  const r = createRandom(21);
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [ROWS, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [ROWS, 32] }],
    initializers: { w: gaussianTensor([32, 64], r, 0.2), b: randomTensor([32], r, 0.5) },
    nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], { transB: { type: 'int', value: 1 } }, 'gemm')],
  });
  const sample = (seed: number) => {
    const random = createRandom(seed);
    return {
      x: createTensor(
        'float32',
        [ROWS, 64],
        Float32Array.from({ length: ROWS * 64 }, () => random() * 8),
      ),
    };
  };
  return { model, sample };
}

/** Mean over samples and rows of (test - reference), per output channel. */
async function meanShift(
  bytes: Uint8Array,
  reference: Uint8Array,
  samples: ReturnType<ReturnType<typeof positiveGemm>['sample']>[],
) {
  const shift = new Float64Array(32);
  const [a, b] = [await ort.InferenceSession.create(bytes), await ort.InferenceSession.create(reference)];
  for (const sample of samples) {
    const feeds = { x: new ort.Tensor('float32', sample.x.data as Float32Array, [ROWS, 64]) };
    const test = (await a.run(feeds)).y!.data as Float32Array;
    const expected = (await b.run(feeds)).y!.data as Float32Array;
    for (let i = 0; i < test.length; i++)
      shift[i % 32]! += (test[i]! - expected[i]!) / (samples.length * ROWS);
  }
  return shift;
}

describe('biasCorrection', () => {
  it('takes the mean output shift of rounded weights out of the bias', async () => {
    const gemm = positiveGemm();
    const calibrationData = [1, 2, 3, 4].map(gemm.sample);
    const held = [11, 12, 13, 14, 15, 16].map(gemm.sample);
    // Per-tensor 8-bit weights round coarsely enough for a visible shift on inputs averaging 4.
    const base = { mode: 'static', executor, calibrationData, granularity: 'tensor' } as const;
    const plain = await quantizeModel(gemm.model, base);
    const corrected = await quantizeModel(gemm.model, { ...base, biasCorrection: true });
    expect(corrected.summary.biasCorrection).toMatchObject({ corrected: 1, samples: 4 });
    expect(corrected.summary.recipe.biasCorrection).toBe(true);
    const float = encodeModel(gemm.model);
    const before = await meanShift(plain.bytes, float, held);
    const after = await meanShift(corrected.bytes, float, held);
    const total = (shift: Float64Array) => shift.reduce((sum, value) => sum + Math.abs(value), 0);
    expect(total(before)).toBeGreaterThan(0.05);
    expect(total(after)).toBeLessThan(total(before) * 0.3);
  });

  it('applies to static mode only', async () => {
    await expect(
      quantizeModel(positiveGemm().model, { mode: 'dynamic', executor, biasCorrection: true }),
    ).rejects.toThrow(/biasCorrection.* corrects the biases of static int8 layers; mode "dynamic" has none/);
  });
});
