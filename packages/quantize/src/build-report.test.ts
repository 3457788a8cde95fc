import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { commonValues, compareLayers } from './compare-layers.js';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, createRandom, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('per-layer report', () => {
  const test = cnnModel(41);
  const random = createRandom(2);
  const samples = Array.from({ length: 10 }, () => test.sample(random));

  it('compares every quantized layer, its weight and its activation range', async () => {
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
      report: { modelName: 'cnn.onnx' },
    });
    const report = result.report!;
    expect(report.model).toBe('cnn.onnx');
    expect(report.samples).toBe(8);
    const computeLayers = report.layers.filter((layer) => ['Conv', 'Gemm'].includes(layer.opType));
    expect(computeLayers.map((layer) => layer.node)).toEqual(['Conv_c1', 'Conv_c2', 'Gemm_logits']);
    for (const layer of computeLayers) {
      expect(layer.sqnr).toBeGreaterThan(25);
      expect(layer.weight!.sqnr).toBeGreaterThan(35);
      expect(layer.weight!.bits).toBe(8);
      // Min-max ranges from these very samples clip nothing but the half step rounding may shave off an end.
      expect(layer.activation!.clippedShare).toBeLessThan(1e-3);
      expect(layer.activation!.histogram.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
    // The last layer is the model output: its layer metrics and the output metrics agree.
    const last = report.layers.find((layer) => layer.output === 'logits')!;
    expect(last.sqnr).toBeCloseTo(report.outputs[0]!.sqnr, 6);
    // The relu fused into the first Conv is compared at the relu's output name.
    expect(report.layers.find((layer) => layer.node === 'Conv_c1')!.output).toBe('r1');
  });

  it('flags a layer whose weight was made bad and suggests more bits', async () => {
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
      overrides: { nodes: { Conv_c2: { bits: 2, granularity: 'tensor' } } },
      report: {},
    });
    const flagged = result.report!.layers.filter((layer) => layer.flagged);
    expect(flagged.map((layer) => layer.node)).toContain('Conv_c2');
    const suggestion = flagged.find((layer) => layer.node === 'Conv_c2')!.suggestion!;
    expect(suggestion.override).toEqual({ nodes: { Conv_c2: { bits: 8, granularity: 'channel' } } });
    // The suggestion is an overrides document the pipeline takes as it is; applied, the layer is fine again.
    const fixed = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
      overrides: suggestion.override,
      report: {},
    });
    const layer = fixed.report!.layers.find((row) => row.node === 'Conv_c2')!;
    expect(layer.weight!.bits).toBe(8);
    expect(layer.weight!.sqnr).toBeGreaterThan(35);
  });

  it('reports dynamic and weight-only runs on the samples given', async () => {
    const mlp = mlpModel(3, 64);
    const inputs = Array.from({ length: 3 }, () => mlp.sample(random));
    for (const mode of ['dynamic', 'weight-only'] as const) {
      const result = await quantizeModel(encodeModel(mlp.model), {
        mode,
        executor,
        report: { samples: inputs },
      });
      expect(result.report!.samples).toBe(3);
      expect(result.report!.layers.map((layer) => layer.opType)).toEqual(['Gemm', 'Gemm', 'Gemm']);
      expect(
        result.report!.layers.every((layer) => layer.activation === undefined && layer.weight !== undefined),
      ).toBe(true);
    }
  });
});

describe('compareLayers', () => {
  it('is exact for a model against itself and lines up float and quantized values', async () => {
    const test = mlpModel(5, 32);
    const random = createRandom(9);
    const samples = Array.from({ length: 4 }, () => test.sample(random));
    const names = commonValues(test.model, test.model);
    expect(names).toEqual(['h1', 'a1', 'h2', 'a2', 'y']);
    const same = await compareLayers(
      test.model,
      test.model,
      names.map((name) => ({ name })),
      { executor, samples },
    );
    expect(same.every((layer) => layer.sqnr === Infinity && layer.maxAbsError === 0)).toBe(true);
    const quantized = await quantizeModel(encodeModel(test.model), { mode: 'weight-only' });
    const layers = commonValues(test.model, quantized.model);
    expect(layers).toEqual(['h1', 'a1', 'h2', 'a2', 'y']);
    const diff = await compareLayers(
      test.model,
      quantized.model,
      layers.map((name) => ({ name })),
      {
        executor,
        samples,
        maxTensorsPerPass: 2,
      },
    );
    expect(diff.map((layer) => layer.name)).toEqual(layers);
    expect(diff.every((layer) => Number.isFinite(layer.sqnr) && layer.sqnr > 30)).toBe(true);
  });
});
