import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QuantError, type Tensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { quantizeModel } from '../quantize-model.js';
import { optionsFromRecipe } from '../recipe-options.js';
import { cnnModel, createRandom, drawSamples, randomTensor } from '../test-models.js';
import { assignmentOptions } from './auto-assignment.js';
import { AUTO_CANDIDATE_NAMES } from './auto-candidates.js';
import { type AutoMetric, autoQuantize } from './auto-quantize.js';
import { mixedSensitivityModel } from './auto-test-model.js';

const executor = createOrtExecutor(ort, { name: 'ort-test', graphOptimizationLevel: 'all' });
const test = mixedSensitivityModel();
const input = encodeModel(test.model);
const samples = drawSamples(test, 4, 3);
const layers = ['wide', 'outlier', 'head'];
const dir = mkdtempSync(join(tmpdir(), 'quantkit-auto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a model in onnxruntime-node directly (optimization level all, as verify does) on each sample. */
async function outputsOf(
  bytes: Uint8Array,
  feeds: readonly Record<string, Tensor>[],
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const outputs: Float32Array[] = [];
  for (const feed of feeds) {
    const x = feed.x!;
    const result = await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) });
    outputs.push(result.y!.data as Float32Array);
  }
  await session.release();
  return outputs;
}

/** The SQNR in dB of a model's outputs against the float model's, over all samples, computed here from scratch. */
async function sqnrOf(bytes: Uint8Array): Promise<number> {
  const reference = await outputsOf(input, samples);
  const actual = await outputsOf(bytes, samples);
  let signal = 0;
  let noise = 0;
  for (const [index, expected] of reference.entries()) {
    for (const [at, value] of expected.entries()) {
      signal += value * value;
      noise += (value - actual[index]![at]!) ** 2;
    }
  }
  return 10 * Math.log10(signal / noise);
}

/** A model's first output on samples of any input names, in onnxruntime-node (optimization level all). */
async function outputsOfModel(
  bytes: Uint8Array,
  feeds: readonly Record<string, Tensor>[],
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const outputs: Float32Array[] = [];
  for (const feed of feeds) {
    const inputs = Object.fromEntries(
      Object.entries(feed).map(([name, tensor]) => [
        name,
        new ort.Tensor('float32', tensor.data as Float32Array, [...tensor.shape]),
      ]),
    );
    const result = await session.run(inputs);
    outputs.push(result[session.outputNames[0]!]!.data as Float32Array);
  }
  await session.release();
  return outputs;
}

async function expectFinite(bytes: Uint8Array): Promise<void> {
  for (const output of await outputsOf(bytes, samples)) expect(output.every(Number.isFinite)).toBe(true);
}

describe('autoQuantize', () => {
  it('under a size budget fits and comes at least as close as the best uniform scheme that fits', async () => {
    const uniform = [];
    for (const candidate of AUTO_CANDIDATE_NAMES.filter((name) => name !== 'float')) {
      const assignment = Object.fromEntries(layers.map((layer) => [layer, candidate]));
      const { bytes } = await quantizeModel(input, assignmentOptions(layers, assignment));
      await expectFinite(bytes);
      uniform.push({ candidate, size: bytes.byteLength, sqnr: await sqnrOf(bytes) });
    }
    const int8 = uniform.find((scheme) => scheme.candidate === 'int8')!;
    // Below uniform int8: only the few-bit schemes fit, and the search must mix to do better than them.
    const maxSize = int8.size - 1;
    const fitting = uniform.filter((scheme) => scheme.size <= maxSize);
    expect(fitting.length).toBeGreaterThan(0);
    const bestUniform = Math.max(...fitting.map((scheme) => scheme.sqnr));

    const result = await autoQuantize(input, { executor, maxSize, workers: 1, calibrationData: samples });
    await expectFinite(result.bytes);
    expect(result.bytes.byteLength).toBeLessThanOrEqual(maxSize);
    const sqnr = await sqnrOf(result.bytes);
    expect(sqnr).toBeGreaterThanOrEqual(bestUniform);
    // The layers are not all alike: the outlier layer stays at more bits than the wide one.
    const bits = { float: 32, int8: 8, 'int4-block': 5, log: 4, int4: 4, binary: 1 };
    expect(bits[result.assignment.outlier!]).toBeGreaterThan(bits[result.assignment.wide!]);
    // The report: a cell per layer and candidate, the chosen point on the front.
    expect(result.report.layers.map((layer) => Object.keys(layer.candidates).length)).toEqual([6, 6, 6]);
    const chosen = result.report.points.filter((point) => point.chosen);
    expect(chosen).toHaveLength(1);
    expect(chosen[0]!.front).toBe(true);
    expect(result.report.samples).toEqual({ origin: 'calibration', count: 4 });
  });

  it('writes a recipe that quantizeModel turns into the same bytes', async () => {
    const result = await autoQuantize(input, { executor, minSqnr: 20, workers: 1, calibrationData: samples });
    expect(await sqnrOf(result.bytes)).toBeGreaterThanOrEqual(20 - 0.01);
    const again = await quantizeModel(
      input,
      optionsFromRecipe(JSON.parse(JSON.stringify(result.recipe)), 'r.json'),
    );
    expect(Buffer.from(again.bytes).equals(Buffer.from(result.bytes))).toBe(true);
    // Smallest within the floor: smaller than float, and no measured point that meets the floor is smaller.
    const meeting = result.report.points.filter((point) => point.sqnr === null || point.sqnr >= 20);
    expect(result.bytes.byteLength).toBe(Math.min(...meeting.map((point) => point.size)));
    expect(result.bytes.byteLength).toBeLessThan(input.byteLength);
  });

  it('keeps a metric module within --max-drop, measured on the written model', async () => {
    // The user's data: inputs with labels, the float model's argmax, so the float model scores 1.
    const random = createRandom(11);
    const inputs = Array.from({ length: 40 }, () => ({ x: randomTensor([1, 64], random) }));
    const floatOutputs = await outputsOf(input, inputs);
    const argmax = (values: Float32Array) => values.indexOf(Math.max(...values));
    const data = inputs.map((feed, index) => ({
      input: Array.from(feed.x.data as Float32Array),
      label: argmax(floatOutputs[index]!),
    }));
    writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
    writeFileSync(
      join(dir, 'metric.mjs'),
      `import { readFileSync } from 'node:fs';
const data = JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8'));
export default async function accuracy(run) {
  let correct = 0;
  for (const { input, label } of data) {
    const { y } = await run({ x: { dtype: 'float32', shape: [1, 64], data: Float32Array.from(input) } });
    let best = 0;
    for (let i = 1; i < y.data.length; i++) if (y.data[i] > y.data[best]) best = i;
    if (best === label) correct++;
  }
  return correct / data.length;
}
`,
    );
    const metric = (await import(pathToFileURL(join(dir, 'metric.mjs')).href)).default as AutoMetric;
    const maxDrop = 0.1;
    const result = await autoQuantize(input, { executor, maxDrop, metric, workers: 1 });
    await expectFinite(result.bytes);
    const accuracy = async (bytes: Uint8Array) => {
      const outputs = await outputsOf(bytes, inputs);
      return outputs.filter((output, index) => argmax(output) === data[index]!.label).length / data.length;
    };
    const drop = (await accuracy(input)) - (await accuracy(result.bytes));
    expect(drop).toBeLessThanOrEqual(maxDrop);
    expect(result.report.chosen.metric?.drop).toBeCloseTo(drop, 10);
    expect(result.bytes.byteLength).toBeLessThan(input.byteLength / 2);
    expect(result.report.samples.origin).toBe('random');
  });

  it('names an infeasible budget and the smallest achievable value', async () => {
    const error = await autoQuantize(input, { executor, maxSize: 1000, workers: 1 }).catch(
      (caught) => caught,
    );
    expect(QuantError.is(error)).toBe(true);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(
      /maxSize cannot be met: no assignment fits 1000 bytes \(0.001 MB\); the smallest achievable is \d+ bytes/,
    );
    const every = Object.fromEntries(layers.map((layer) => [layer, 'binary' as const]));
    const smallestUniform = (await quantizeModel(input, assignmentOptions(layers, every))).bytes.byteLength;
    expect(error.details.achievable).toBeLessThanOrEqual(smallestUniform);
    await expect(
      autoQuantize(input, { executor, minSqnr: 400, maxSize: 20_000, workers: 1 }),
    ).rejects.toThrow(
      /minSqnr cannot be met: no assignment within the size budget reaches 400 dB; the best is [\d.]+ dB/,
    );
    await expect(autoQuantize(input, { executor, workers: 1 })).rejects.toThrow(/auto needs a budget/);
    await expect(autoQuantize(input, { executor, maxDrop: 0.1 })).rejects.toThrow(/maxDrop needs metric/);
  });

  it('measures 4-bit blocks only where MatMulNBits runs: Conv layers say which form they get instead', async () => {
    const cnn = cnnModel(31);
    const cnnInput = encodeModel(cnn.model);
    const phases: number[] = [];
    const result = await autoQuantize(cnnInput, {
      executor,
      minSqnr: 25,
      workers: 1,
      calibrationData: drawSamples(cnn, 2, 6),
      onProgress: (event) => event.phase === 'sensitivity' && phases.push(event.total),
    });
    const cells = result.report.layers.map((layer) => [
      layer.opType,
      'skipped' in layer.candidates['int4-block']!,
    ]);
    expect(cells).toEqual([
      ['Conv', true],
      ['Conv', true],
      ['Gemm', false],
    ]);
    // float, 5 uniform schemes, then 2 Conv layers x 4 candidates and the Gemm x 5.
    expect(phases[0]).toBe(1 + 5 + 2 * 4 + 5);
    for (const output of await outputsOfModel(result.bytes, drawSamples(cnn, 2, 6)))
      expect(output.every(Number.isFinite)).toBe(true);
  });

  it('holds a latency budget the float model meets by timing it in the executor', async () => {
    // A generous ratio: whatever this machine measures, the search's choice or a partly reverted one meets it.
    const result = await autoQuantize(input, {
      executor,
      maxSize: 30_000,
      maxLatencyRatio: 50,
      workers: 1,
      calibrationData: samples,
    });
    expect(result.report.chosen.latency?.ratio).toBeLessThanOrEqual(50);
    // int8 codes folded into fp32 at load, so the latency budget is not spent on DequantizeLinear every run.
    expect(result.recipe.weightOnlyForm).toBe('fold');
    expect(result.report.weightOnlyForm).toBe('fold');
    const again = await quantizeModel(input, optionsFromRecipe(JSON.parse(JSON.stringify(result.recipe))));
    expect(Buffer.from(again.bytes).equals(Buffer.from(result.bytes))).toBe(true);
    expect(result.bytes.byteLength).toBeLessThanOrEqual(30_000);
    await expectFinite(result.bytes);
  });
});
