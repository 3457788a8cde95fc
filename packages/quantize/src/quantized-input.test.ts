// A model that is already quantized (a quantization-aware-trained export, or quantkit's own output) is refused
// with a clear error rather than quantized again around its Q/DQ pairs.
import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { QUANTIZE_MODES } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { drawSamples, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

describe('an already quantized model', () => {
  it('is refused in every mode, counting its quantization ops', async () => {
    const mlp = mlpModel(2, 32);
    const once = await quantizeModel(encodeModel(mlp.model), {
      mode: 'static',
      executor,
      calibrationData: drawSamples(mlp, 4, 1),
    });
    const quantizeOps = once.model.graph.nodes.filter((node) => node.opType === 'QuantizeLinear').length;
    expect(quantizeOps).toBeGreaterThan(0);
    for (const mode of QUANTIZE_MODES) {
      const failure = await quantizeModel(once.bytes, {
        mode,
        executor,
        ...(mode === 'static' && { calibrationData: drawSamples(mlp, 4, 1) }),
      }).catch((error: unknown) => error);
      expect(QuantError.is(failure, 'UNSUPPORTED'), `${mode}: ${String(failure)}`).toBe(true);
      expect((failure as Error).message).toMatch(
        new RegExp(`the model is already quantized: it holds .*\\b${quantizeOps} QuantizeLinear\\b`),
      );
    }
  });
});
