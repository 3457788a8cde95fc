// Weight-only form 'fold': codes become float through Cast/Sub/Mul over constants, which onnxruntime folds into
// fp32 weights when it loads the model, so the int8 file runs at fp32 speed. Checked against the DequantizeLinear
// form (same values) and against what onnxruntime's optimizer leaves of the chain (nothing).
import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, decodeModel, encodeModel } from '@quantkit/onnx';
import { maxAbsDiff, ortOptimizedModel } from '@quantkit/test-kit';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { QuantizeOptions } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { type TestModel, attentionModel, cnnModel, createRandom, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

/** Op types of the model onnxruntime runs after its level-all optimizations. */
async function optimizedOps(bytes: Uint8Array): Promise<string[]> {
  return decodeModel(await ortOptimizedModel(bytes)).graph.nodes.map((node) => node.opType);
}

async function outputs(bytes: Uint8Array, test: TestModel): Promise<Float32Array[]> {
  const session = await executor.createSession(bytes);
  try {
    const values = await session.run(test.sample(createRandom(5)));
    return Object.values(values).map((tensor) => tensor.data as Float32Array);
  } finally {
    await session.dispose();
  }
}

const opTypes = (model: Model) => model.graph.nodes.map((node) => node.opType);

describe('weight-only form "fold"', () => {
  it.each([
    ['CNN (Conv, per channel on axis 0)', () => cnnModel(71), {}],
    ['MLP (MatMul, per channel on axis 1)', () => mlpModel(72, 64), {}],
    ['attention', () => attentionModel(73), {}],
    ['MLP, asymmetric weights', () => mlpModel(74, 64), { symmetric: false }],
    ['MLP, per tensor', () => mlpModel(75, 64), { granularity: 'tensor' }],
    ['CNN, 4-bit codes packed in the file', () => cnnModel(76), { bits: 4 }],
  ] as [
    string,
    () => TestModel,
    Partial<QuantizeOptions>,
  ][])('%s: the values of the DequantizeLinear form, no DequantizeLinear, and onnxruntime folds the chain away', async (_label, make, options) => {
    const test = make();
    const bytes = encodeModel(test.model);
    const common = { mode: 'weight-only', executor, ...options } as const;
    const dequantize = await quantizeModel(bytes, common);
    const fold = await quantizeModel(bytes, { ...common, weightOnlyForm: 'fold' });
    expect(opTypes(dequantize.model)).toContain('DequantizeLinear');
    expect(opTypes(fold.model)).not.toContain('DequantizeLinear');
    expect(fold.model.metadata.get('quantkit.recipe')).toContain('"weightOnlyForm":"fold"');
    expect(fold.summary.verification?.verified).toBe(true);
    expect(fold.bytes.length).toBeLessThanOrEqual(dequantize.bytes.length * 1.05);
    const expected = await outputs(dequantize.bytes, test);
    const got = await outputs(fold.bytes, test);
    for (const [index, values] of expected.entries()) {
      const peak = Math.max(...values.map(Math.abs));
      expect(maxAbsDiff(got[index]!, values) / peak).toBeLessThan(1e-5);
    }
    // What onnxruntime runs: the float model's ops, with no Cast/Sub/Mul chain or DequantizeLinear left.
    const floatOps = await optimizedOps(bytes);
    const foldOps = await optimizedOps(fold.bytes);
    expect(foldOps.filter((op) => op === 'Cast').length).toBe(floatOps.filter((op) => op === 'Cast').length);
    expect(foldOps).not.toContain('DequantizeLinear');
    expect(foldOps.length).toBe(floatOps.length);
  });

  it('belongs to weight-only mode: another mode names the option and the mode it needs', async () => {
    const bytes = encodeModel(mlpModel(77, 32).model);
    let error: unknown;
    try {
      await quantizeModel(bytes, { mode: 'dynamic', weightOnlyForm: 'fold' });
    } catch (caught) {
      error = caught;
    }
    expect(QuantError.is(error) && error.code === 'INVALID_ARGUMENT').toBe(true);
    expect((error as QuantError).details).toMatchObject({ option: 'mode', allowed: ['weight-only'] });
    await expect(
      quantizeModel(bytes, { mode: 'weight-only', weightOnlyForm: 'cast' as never }),
    ).rejects.toThrow(/weightOnlyForm must be "dequantize" or "fold"/);
  });
});
