// A model that is already quantized in QDQ form (a quantization-aware-trained export, or quantkit's own output)
// keeps its own Q/DQ in static and weight-only runs, which write it back computing the same function; dynamic,
// float and data-free modes, which would replace its scales, refuse it with a clear error.
import { QuantError, type Tensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { QuantizeMode } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { drawSamples, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

async function run(bytes: Uint8Array, samples: Record<string, Tensor>[]): Promise<number[]> {
  const session = await executor.createSession(bytes);
  try {
    const values: number[] = [];
    for (const sample of samples) {
      const outputs = await session.run(sample);
      values.push(...(outputs[session.outputNames[0]!]!.data as Float32Array));
    }
    return values;
  } finally {
    await session.dispose();
  }
}

describe('an already quantized model', () => {
  it('is written back unchanged in function by static and weight-only runs, refused by dynamic, float and data-free', async () => {
    const mlp = mlpModel(2, 32);
    const once = await quantizeModel(encodeModel(mlp.model), {
      mode: 'static',
      executor,
      calibrationData: drawSamples(mlp, 4, 1),
    });
    const quantizeOps = once.model.graph.nodes.filter((node) => node.opType === 'QuantizeLinear').length;
    expect(quantizeOps).toBeGreaterThan(0);
    const samples = drawSamples(mlp, 3, 2);
    const expected = await run(once.bytes, samples);
    for (const mode of ['static', 'weight-only'] as QuantizeMode[]) {
      // No calibration data: every point is the model's own, so nothing needs a range.
      const again = await quantizeModel(once.bytes, { mode, executor });
      expect(again.summary.keptQuantization?.addedWeights, mode).toEqual([]);
      if (mode === 'static') expect(again.summary.keptQuantization?.addedActivations).toEqual([]);
      const actual = await run(again.bytes, samples);
      actual.forEach((value, i) => {
        expect(Math.abs(value - expected[i]!), `${mode} output ${i}`).toBeLessThan(1e-3);
      });
    }
    for (const mode of ['dynamic', 'float', 'data-free'] as QuantizeMode[]) {
      const failure = await quantizeModel(once.bytes, { mode, executor }).catch((error: unknown) => error);
      expect(QuantError.is(failure, 'UNSUPPORTED'), `${mode}: ${String(failure)}`).toBe(true);
      expect((failure as Error).message).toMatch(
        /the model is already quantized .* its own Q\/DQ .* use mode "static"/,
      );
    }
  });
});
