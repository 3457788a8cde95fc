import { createTensor, QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { feedInputs } from './calibrate.js';
import { compareModels } from './compare-models.js';
import { quantizeModel } from './quantize-model.js';
import { DEFAULT_SEED, randomSampleSource } from './random-samples.js';
import { drawSamples, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('compareModels', () => {
  const test = mlpModel(7, 32);
  const samples = drawSamples(test, 3, 5);

  it('finds a model exact against itself, at the outputs and at every value', async () => {
    const comparison = await compareModels(
      { model: test.model },
      { model: test.model },
      {
        executor,
        samples,
        perLayer: true,
      },
    );
    expect(comparison.samples).toBe(3);
    expect(comparison.outputs).toEqual([
      { output: 'y', sqnr: Infinity, cosine: 1, maxAbsError: 0, top1Agreement: 1, samples: 3 },
    ]);
    expect(comparison.layers!.map((layer) => layer.value).sort()).toEqual(['a1', 'a2', 'h1', 'h2', 'y']);
    for (const layer of comparison.layers!) expect(layer.sqnr).toBe(Infinity);
    expect(comparison.layers!.find((layer) => layer.value === 'a1')).toMatchObject({ opType: 'Relu' });
  });

  it('measures a quantized model, worst value first, naming the node above Q/DQ pairs', async () => {
    const { bytes } = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
      bits: 4,
    });
    const quantized = decodeModel(bytes);
    const source = randomSampleSource(feedInputs(test.model), 4, DEFAULT_SEED);
    const comparison = await compareModels(
      { model: test.model },
      { model: quantized, bytes },
      { executor, samples: source, perLayer: true },
    );
    expect(comparison.samples).toBe(4);
    const layers = comparison.layers!;
    const sqnrs = layers.map((layer) => layer.sqnr);
    expect(sqnrs).toEqual([...sqnrs].sort((a, b) => a - b));
    expect(Number.isFinite(sqnrs[0])).toBe(true);
    // The output row of the layers measures what the output comparison does.
    expect(layers.find((layer) => layer.value === 'y')!.sqnr).toBeCloseTo(comparison.outputs[0]!.sqnr, 6);
    // In the QDQ model "a1" comes out of a DequantizeLinear, the Relu folded into the first Gemm's output range: the
    // node computing it is that Gemm.
    expect(layers.map((layer) => [layer.value, layer.node, layer.opType]).sort()).toEqual([
      ['a1', 'Gemm_h1', 'Gemm'],
      ['a2', 'Gemm_h2', 'Gemm'],
      ['y', 'Gemm_y', 'Gemm'],
    ]);
    expect(quantized.graph.producer('a1')?.opType).toBe('DequantizeLinear');
    // Without per-layer, only the outputs; run from the model instead of its bytes, the same numbers.
    const outputsOnly = await compareModels(
      { model: test.model },
      { model: quantized },
      {
        executor,
        samples: source,
      },
    );
    expect(outputsOnly.layers).toBeUndefined();
    expect(outputsOnly.outputs).toEqual(comparison.outputs);
  });

  it('refuses two models that take different inputs or lack an output, naming them', async () => {
    const other = createModel({
      opset: 13,
      inputs: [['z', 'float32', [1, 2]]],
      outputs: [['y', 'float32', [1, 2]]],
      initializers: { w: createTensor('float32', [2, 2], new Float32Array(4)) },
      nodes: [{ name: 'mm', opType: 'MatMul', inputs: ['z', 'w'], outputs: ['y'] }],
    });
    const inputs = await compareModels(
      { model: test.model, name: 'a.onnx' },
      { model: other },
      {
        executor,
        samples,
      },
    ).catch((error: unknown) => error);
    expect(QuantError.is(inputs, 'INVALID_ARGUMENT')).toBe(true);
    expect((inputs as Error).message).toBe(
      'a.onnx and candidate take different inputs ("x" vs "z"); compare needs two versions of one model',
    );
    const renamed = createModel({
      opset: 13,
      inputs: [['x', 'float32', ['batch', 64]]],
      outputs: [['out', 'float32', ['batch', 64]]],
      nodes: [{ name: 'id', opType: 'Identity', inputs: ['x'], outputs: ['out'] }],
    });
    const outputs = await compareModels(
      { model: test.model },
      { model: renamed, name: 'b.onnx' },
      {
        executor,
        samples,
      },
    ).catch((error: unknown) => error);
    expect((outputs as Error).message).toBe('b.onnx has no output "y"; its outputs are "out"');
  });

  it('refuses to compare on no samples, naming where they were to come from', async () => {
    const none = compareModels(
      { model: test.model },
      { model: test.model },
      {
        executor,
        samples: [],
        samplesFrom: 'data/',
      },
    );
    await expect(none).rejects.toThrow(/^no samples to compare on in data\/$/);
    await expect(none).rejects.toSatisfy((error) => QuantError.is(error, 'CALIBRATION_DATA'));
  });
});
