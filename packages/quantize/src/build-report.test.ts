import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { commonValues, compareLayers } from './compare-layers.js';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, createRandom, drawSamples, mlpModel, twoRegionModel } from './test-models.js';

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
      // The default target, x86-avx2, keeps weights to 7 bits (exact on every x86).
      expect(layer.weight!.bits).toBe(7);
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
    expect(layer.weight!.bits).toBe(7); // 8 asked, one less on x86-avx2

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

describe('per-layer report of measured runs', () => {
  const chain = twoRegionModel();
  const calibrationData = drawSamples(chain, 4, 9);

  it('gives each layer its sensitivity, the floor and the latency measured, and why nodes stayed float', async () => {
    // 2-bit weights: both regions lose a lot, so the floor measures them alone and keeps the worst float.
    const base = { mode: 'weight-only', bits: 2, granularity: 'channel', executor, calibrationData } as const;
    const probe = await quantizeModel(chain.model, { ...base, minSqnr: Number.MAX_VALUE });
    // Just below what the less sensitive region gives alone: keeping the other float meets it.
    const lessSensitive = probe.summary.fidelity!.sensitivity[1]!.sqnr;
    expect(lessSensitive).toBeGreaterThan(probe.summary.fidelity!.sqnr + 1);
    const result = await quantizeModel(chain.model, {
      ...base,
      minSqnr: lessSensitive - 0.5,
      measureLatency: true,
      report: { modelName: 'chain.onnx' },
    });
    const report = result.report!;
    const fidelity = result.summary.fidelity!;
    expect(fidelity.sensitivity).toHaveLength(2);
    expect(fidelity.kept.length).toBe(1);
    // The report's summary is the run's: the floor's account and the latency measured.
    expect(report.summary.fidelity).toEqual(fidelity);
    const verification = report.summary.verification!;
    expect(verification.verified && verification.latency).toMatchObject({
      floatMs: expect.any(Number),
      quantizedMs: expect.any(Number),
    });
    if (verification.verified) {
      const { floatMs, quantizedMs, ratio } = verification.latency!;
      expect(ratio).toBeCloseTo(quantizedMs / floatMs, 9);
    }
    // Each quantized layer carries its region's SQNR alone; the kept region's nodes are float, saying why.
    const [keptRegion] = fidelity.kept;
    const quantizedRegion = fidelity.sensitivity.find((region) => region !== keptRegion)!;
    expect(report.layers.length).toBeGreaterThan(0);
    for (const layer of report.layers) {
      expect(quantizedRegion.nodes).toContain(layer.node);
      expect(layer.sensitivity).toBe(quantizedRegion.sqnr);
    }
    for (const name of keptRegion!.nodes) {
      const node = report.summary.nodes.find((decision) => decision.name === name)!;
      expect(node.quantized).toBe(false);
      expect(node.reason).toMatch(/^kept float for the -?\d+(\.\d+)? dB output SQNR floor/);
      expect(report.layers.some((layer) => layer.node === name)).toBe(false);
    }
    // Scales and zero points: per channel for the 2-bit Gemm weights, the extremes of as many as it has columns.
    const gemm = report.layers.find((layer) => layer.opType === 'Gemm')!;
    const params = gemm.weight!.quantParams!;
    const columns = chain.model.graph.initializers.get(gemm.node === 'wide' ? 'w1' : 'w2')!.shape[1];
    expect(params.count).toBe(columns);
    expect(params.minScale).toBeGreaterThan(0);
    expect(params.maxScale).toBeGreaterThanOrEqual(params.minScale);
    expect(params.minZeroPoint).toBeLessThanOrEqual(params.maxZeroPoint);
  });

  it('records the latency guard and the nodes it kept float', async () => {
    // A ratio no model meets: the guard keeps every region float, and the report says so node by node.
    const result = await quantizeModel(chain.model, {
      mode: 'static',
      executor,
      calibrationData,
      latencyGuard: { maxRatio: 1e-6 },
      measureLatency: true,
      report: { samples: calibrationData },
    });
    const guard = result.report!.summary.latencyGuard!;
    expect(guard).toEqual(result.summary.latencyGuard);
    expect(guard.ran).toBe(true);
    if (!guard.ran) return;
    expect(guard.trials[0]!.reverted).toBe(0);
    const reverted = guard.reverted.flatMap((region) => region.nodes);
    expect(reverted.length).toBeGreaterThan(0);
    for (const name of reverted) {
      const node = result.report!.summary.nodes.find((decision) => decision.name === name)!;
      expect(node.quantized).toBe(false);
      expect(node.reason).toMatch(/^kept float by the latency guard: quantized, the model ran/);
    }
  });

  it('writes the activation scale and zero point of each static layer', async () => {
    const result = await quantizeModel(chain.model, {
      mode: 'static',
      executor,
      calibrationData,
      report: {},
    });
    const layers = result.report!.layers.filter((layer) => layer.activation !== undefined);
    expect(layers.length).toBeGreaterThan(0);
    for (const { activation } of layers) {
      const { scale, zeroPoint, min, max } = activation!;
      expect(scale).toBeGreaterThan(0);
      expect(Number.isInteger(zeroPoint)).toBe(true);
      // The representable range is the codes' range through that scale and zero point (uint8 here).
      expect(min).toBeCloseTo((0 - zeroPoint!) * scale!, 5);
      expect(max).toBeCloseTo((255 - zeroPoint!) * scale!, 5);
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
