// The pipeline's last step: the written model must load in onnxruntime (optimization level all) and keep finite
// whatever the float model keeps finite. These tests hand verifyQuantized "quantized" models built to fail.
import { QuantError, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { node } from './test-models.js';
import { verifyQuantized } from './verify-model.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });
const sample = { x: createTensor('float32', [1, 4], Float32Array.of(0.5, 1, 2, 4)) };

/** y = Log(x) through a chain of nodes; `zeroed` multiplies by 0 first, as a collapsed quantization grid would. */
function logModel(zeroed: boolean): Model {
  return createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
    initializers: { k: createTensor('float32', [], Float32Array.of(zeroed ? 0 : 1)) },
    nodes: [node('Mul', ['x', 'k'], ['scaled'], {}, 'scale'), node('Log', ['scaled'], ['y'], {}, 'log')],
  });
}

function inputs(quantized: Model) {
  const float = logModel(false);
  return {
    executor,
    float: () => float,
    floatBytes: encodeModel(float),
    quantized,
    quantizedBytes: encodeModel(quantized),
    samples: [sample],
    sampleOrigin: 'random' as const,
  };
}

describe('verifyQuantized', () => {
  it('passes a model that keeps the outputs finite and reports its SQNR', async () => {
    const result = await verifyQuantized(inputs(logModel(false)));
    expect(result).toEqual({ verified: true, runtime: 'ort-node', sample: 'random', outputs: [{ name: 'y', sqnr: Infinity }] });
  });

  it('refuses outputs that went -inf and names the first tensor and node that did', async () => {
    const failure = await verifyQuantized(inputs(logModel(true))).catch((error: unknown) => error);
    expect(QuantError.is(failure)).toBe(true);
    const error = failure as QuantError;
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/NaN or infinity in output "y" on a random sample/);
    expect(error.message).toMatch(/first value to go non-finite is "y" \(-inf\), the output of Log node "log"/);
  });

  it('does not blame the quantized model for what the float model already does', async () => {
    const negative = { x: createTensor('float32', [1, 4], Float32Array.of(-1, 1, 0, 4)) };
    const result = await verifyQuantized({ ...inputs(logModel(false)), samples: [negative] });
    expect(result.verified).toBe(true);
  });

  it('is an INTERNAL error when onnxruntime refuses what the float model loads', async () => {
    // DequantizeLinear took no axis attribute before opset 13: onnxruntime refuses the model at load time.
    const refused = createModel({
      opset: 11,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
      initializers: {
        q: createTensor('uint8', [4], Uint8Array.of(1, 2, 3, 4)),
        s: createTensor('float32', [4], Float32Array.of(1, 1, 1, 1)),
      },
      nodes: [
        node('DequantizeLinear', ['q', 's'], ['w'], { axis: { type: 'int', value: 0 } }, 'dq'),
        node('Add', ['x', 'w'], ['y'], {}, 'add'),
      ],
    });
    const failure = await verifyQuantized(inputs(refused)).catch((error: unknown) => error);
    expect((failure as QuantError).code).toBe('INTERNAL');
    expect((failure as QuantError).message).toMatch(/ort-node refuses the quantized model/);
  });

  it('says why it ran nothing when the float model does not run on the sample', async () => {
    const wrong = { x: createTensor('float32', [2, 3], new Float32Array(6)) };
    const result = await verifyQuantized({ ...inputs(logModel(false)), samples: [wrong] });
    expect(result.verified).toBe(false);
    expect(!result.verified && result.reason).toMatch(/the float model does not run on a random sample in ort-node/);
  });
});

describe('quantizeModel verification', () => {
  it('records the run in the summary, and skips it with verify: false', async () => {
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3] }],
      initializers: { w: createTensor('float32', [4, 3], Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 7)) },
      nodes: [node('MatMul', ['x', 'w'], ['y'], {}, 'mm')],
    });
    const checked = await quantizeModel(model, { mode: 'weight-only', executor });
    expect(checked.summary.verification).toMatchObject({ verified: true, runtime: 'ort-node', sample: 'random' });
    const verification = checked.summary.verification;
    expect(verification?.verified === true && verification.outputs[0]!.sqnr).toBeGreaterThan(35);
    const unchecked = await quantizeModel(model, { mode: 'weight-only', executor, verify: false });
    expect(unchecked.summary.verification).toBeUndefined();
  });
});
