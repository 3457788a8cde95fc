import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OutputComparison, fidelitySamples } from './min-sqnr.js';
import { quantizeModel } from './quantize-model.js';
import { drawSamples, twoRegionModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

describe('fidelitySamples', () => {
  const chain = twoRegionModel();
  const samples = drawSamples(chain, 6, 2);

  it('takes the first 4 calibration samples from an array or a source read afresh, else the verify sample, else random data', async () => {
    const { graph } = chain.model;
    expect(await fidelitySamples(graph, { mode: 'static', calibrationData: samples })).toEqual({
      samples: samples.slice(0, 4),
      origin: 'calibration',
    });
    const source = async function* () {
      yield* samples;
    };
    expect(await fidelitySamples(graph, { mode: 'static', calibrationData: source })).toEqual({
      samples: samples.slice(0, 4),
      origin: 'calibration',
    });
    expect(await fidelitySamples(graph, { mode: 'dynamic', verifySample: samples[5]! })).toEqual({
      samples: [samples[5]],
      origin: 'given',
    });
    const random = await fidelitySamples(graph, { mode: 'dynamic' });
    expect(random.origin).toBe('random');
    expect(random.samples).toHaveLength(4);
    expect(random.samples[0]!['x']!.shape).toEqual([1, 64]);
  });
});

describe('quantizeModel with minSqnr', () => {
  const chain = twoRegionModel();
  const calibrationData = drawSamples(chain, 4, 9);

  it('keeps the most sensitive regions float until the output reaches the floor, and records them', async () => {
    // 2-bit weights: both regions lose a lot, and the floor sits between what one and both float give.
    const base = { mode: 'weight-only', bits: 2, granularity: 'channel', executor, calibrationData } as const;
    const planned = await quantizeModel(chain.model, { ...base, minSqnr: -1000 });
    const fidelity0 = planned.summary.fidelity!;
    expect(fidelity0.samples).toBe('calibration');
    expect(fidelity0.kept).toEqual([]);
    expect(fidelity0.sensitivity).toEqual([]);

    const minSqnr = fidelity0.sqnr + 6;
    const result = await quantizeModel(chain.model, { ...base, minSqnr });
    const fidelity = result.summary.fidelity!;
    expect(fidelity.sqnr).toBeCloseTo(fidelity0.sqnr, 6);
    // Each region measured alone, most sensitive (lowest SQNR) first.
    expect(fidelity.sensitivity.map((region) => region.nodes)).toHaveLength(2);
    const sqnrs = fidelity.sensitivity.map((region) => region.sqnr);
    expect(sqnrs).toEqual([...sqnrs].sort((a, b) => a - b));
    // Whatever was kept is a prefix of that order, and the written model meets the floor.
    expect(fidelity.kept.length).toBeGreaterThan(0);
    expect(fidelity.kept).toEqual(fidelity.sensitivity.slice(0, fidelity.kept.length));
    expect(fidelity.finalSqnr).toBeGreaterThanOrEqual(minSqnr);
    const comparison = await OutputComparison.create(executor, encode(chain), calibrationData);
    expect(await comparison.sqnr(result.bytes)).toBeCloseTo(fidelity.finalSqnr, 6);
    // The plan says why, and the recipe reproduces the model without measuring.
    const kept = fidelity.kept.flatMap((region) => region.nodes);
    for (const name of kept) {
      const decision = result.plan.decisions.find((d) => d.name === name)!;
      expect(decision.quantized).toBe(false);
      expect(decision.reason).toMatch(
        /^kept float for the -?\d+(\.\d+)? dB output SQNR floor: quantized alone/,
      );
    }
    const again = await quantizeModel(chain.model, { ...base, keepFloat: result.summary.recipe.keepFloat! });
    expect(again.bytes).toEqual(result.bytes);
  });

  it('refuses a floor it cannot measure or apply', async () => {
    await expect(quantizeModel(chain.model, { mode: 'dynamic', minSqnr: 30 })).rejects.toThrow(
      /minSqnr.* needs an executor/,
    );
    await expect(quantizeModel(chain.model, { mode: 'float', executor, minSqnr: 30 })).rejects.toThrow(
      /mode "float" has none/,
    );
    await expect(
      quantizeModel(chain.model, { mode: 'dynamic', executor, minSqnr: Number.NaN }),
    ).rejects.toThrow(/minSqnr.* must be a finite number of dB, got NaN/);
  });
});

function encode(model: ReturnType<typeof twoRegionModel>): Uint8Array {
  return encodeModel(model.model);
}

describe("calibrationMethod 'auto'", () => {
  const chain = twoRegionModel();
  const calibrationData = drawSamples(chain, 8, 4);

  it('calibrates with minmax and clip, compares on the held-out last quarter, and writes what the chosen one writes', async () => {
    const result = await quantizeModel(chain.model, {
      mode: 'static',
      executor,
      calibrationData,
      calibrationMethod: 'auto',
    });
    const choice = result.summary.calibrationChoice!;
    expect(choice.heldOut).toBe(2);
    expect(choice.candidates.map((c) => [c.method, c.biasCorrection])).toEqual([
      ['minmax', false],
      ['minmax', true],
      ['clip', false],
      ['clip', true],
    ]);
    const best = choice.candidates.reduce((winner, c) => (c.sqnr > winner.sqnr ? c : winner));
    expect(choice.chosen).toBe(best.method);
    // The comparison is the one OutputComparison makes on the held-out samples.
    const comparison = await OutputComparison.create(
      executor,
      encodeModel(chain.model),
      calibrationData.slice(6),
    );
    const fitted = await quantizeModel(chain.model, {
      mode: 'static',
      executor,
      calibrationData: calibrationData.slice(0, 6),
      calibrationMethod: 'minmax',
      verify: false,
    });
    expect(await comparison.sqnr(fitted.bytes)).toBeCloseTo(choice.candidates[0]!.sqnr, 6);
    // The chosen candidate calibrates again on every sample; the recipe names it.
    expect(result.summary.recipe.calibrationMethod).toBe(best.method);
    expect(result.summary.recipe.biasCorrection === true).toBe(best.biasCorrection);
    const direct = await quantizeModel(chain.model, {
      mode: 'static',
      executor,
      calibrationData,
      calibrationMethod: best.method,
      biasCorrection: best.biasCorrection,
    });
    expect(result.bytes).toEqual(direct.bytes);
  });

  it('needs static mode and an executor', async () => {
    await expect(
      quantizeModel(chain.model, { mode: 'dynamic', executor, calibrationMethod: 'auto' }),
    ).rejects.toThrow(/needs mode "static" and an executor/);
  });
});
