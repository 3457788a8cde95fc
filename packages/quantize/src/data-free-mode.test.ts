import { type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, encodeModel, exposeOutputs } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, createRandom, drawSamples, gaussianTensor, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

const ints = (value: number[]) => ({ type: 'ints' as const, value });
const INPUT = [1, 8, 12, 12];

/**
 * x [1, 8, 12, 12] uniform in [-1, 1) -> Conv 3x3 (8 -> 16) -> BN -> Relu -> Conv 1x1 (16 -> 16) -> BN -> Relu
 * -> Conv 1x1 (16 -> 4). The first BatchNorm's scales run from 0.1 to 10 and the second Conv's input channels are
 * weighted by their inverse, so every channel matters alike downstream while, once BatchNorm is folded, the first
 * layer's channel ranges (and its output's) differ 100x: one per-tensor int8 grid rounds the small channels away.
 * Each BatchNorm's running statistics are its input's true ones on that input distribution, as training would
 * leave them (the first's in closed form, the second's measured), so its shift and scale are its output's mean and
 * standard deviation.
 */
async function hundredfoldModel(): Promise<Model> {
  const random = createRandom(31);
  const w1 = gaussianTensor([16, 8, 3, 3], random, 0.3);
  const b1 = randomTensor([16], random, 0.2);
  const scale1 = Float32Array.from({ length: 16 }, (_, c) => 10 ** (2 * (c / 15) - 1));
  const w2 = gaussianTensor([16, 16, 1, 1], random, 0.3);
  for (let i = 0; i < w2.data.length; i++) w2.data[i] = w2.data[i]! / scale1[i % 16]!;
  const b2 = randomTensor([16], random, 0.2);
  // Uniform [-1, 1) has variance 1/3; interior outputs of the first Conv have variance sum(w^2) / 3.
  const variance1 = Float32Array.from({ length: 16 }, (_, m) => {
    let sum = 0;
    for (let k = 0; k < 72; k++) sum += w1.data[m * 72 + k]! ** 2;
    return sum / 3;
  });
  // Every third channel almost always positive (mean 4 std): high bias for absorption to move.
  const shift1 = Float32Array.from(scale1, (scale, c) => scale * (c % 3 === 0 ? 4 : 0.3));
  const channel = (values: Float32Array) => createTensor('float32', [16], values);
  const bn2Mean = channel(new Float32Array(16));
  const bn2Variance = channel(new Float32Array(16).fill(1));
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: INPUT }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 12, 12] }],
    initializers: {
      w1,
      b1,
      bn1_scale: channel(scale1),
      bn1_shift: channel(shift1),
      bn1_mean: b1,
      bn1_var: channel(variance1),
      w2,
      b2,
      bn2_scale: channel(Float32Array.from({ length: 16 }, () => 0.5 + random())),
      bn2_shift: channel(Float32Array.from({ length: 16 }, () => random() - 0.2)),
      bn2_mean: bn2Mean,
      bn2_var: bn2Variance,
      w3: gaussianTensor([4, 16, 1, 1], random, 0.3),
      b3: randomTensor([4], random, 0.1),
    },
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }),
      node('BatchNormalization', ['c1', 'bn1_scale', 'bn1_shift', 'bn1_mean', 'bn1_var'], ['bn1']),
      node('Relu', ['bn1'], ['r1']),
      node('Conv', ['r1', 'w2', 'b2'], ['c2'], { kernel_shape: ints([1, 1]) }),
      node('BatchNormalization', ['c2', 'bn2_scale', 'bn2_shift', 'bn2_mean', 'bn2_var'], ['bn2']),
      node('Relu', ['bn2'], ['r2']),
      node('Conv', ['r2', 'w3', 'b3'], ['y'], { kernel_shape: ints([1, 1]) }),
    ],
  });
  // The second BatchNorm's running statistics: c2's per-channel mean and variance over 32 samples.
  const session = await ort.InferenceSession.create(encodeModel(exposeOutputs(model, ['c2'])));
  const sums = new Float64Array(16);
  const squares = new Float64Array(16);
  let count = 0;
  for (const sample of inputs(32, 3)) {
    const feeds = { x: new ort.Tensor('float32', sample.x!.data as Float32Array, INPUT) };
    const c2 = (await session.run(feeds)).c2!.data as Float32Array;
    const positions = c2.length / 16;
    for (let i = 0; i < c2.length; i++) {
      const c = Math.floor(i / positions);
      sums[c] = sums[c]! + c2[i]!;
      squares[c] = squares[c]! + c2[i]! ** 2;
    }
    count += positions;
  }
  for (let c = 0; c < 16; c++) {
    bn2Mean.data[c] = sums[c]! / count;
    bn2Variance.data[c] = squares[c]! / count - (sums[c]! / count) ** 2;
  }
  return model;
}

function inputs(count: number, seed: number): Record<string, Tensor>[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => ({ x: randomTensor([...INPUT], random) }));
}

interface Comparison {
  readonly sqnr: number;
  /** Mean over samples and positions of (quantized - float), per output channel. */
  readonly shift: Float64Array;
}

/** Runs the written model and the float one in onnxruntime on the same inputs; every output must be finite. */
async function compare(
  bytes: Uint8Array,
  float: Uint8Array,
  samples: Record<string, Tensor>[],
): Promise<Comparison> {
  const [quantized, reference] = [
    await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' }),
    await ort.InferenceSession.create(float),
  ];
  let signal = 0;
  let noise = 0;
  const shift = new Float64Array(4);
  for (const sample of samples) {
    const feeds = { x: new ort.Tensor('float32', sample.x!.data as Float32Array, INPUT) };
    const test = (await quantized.run(feeds)).y!.data as Float32Array;
    const expected = (await reference.run(feeds)).y!.data as Float32Array;
    const positions = test.length / 4;
    for (let i = 0; i < test.length; i++) {
      expect(Number.isFinite(test[i]!)).toBe(true);
      signal += expected[i]! ** 2;
      noise += (test[i]! - expected[i]!) ** 2;
      shift[Math.floor(i / positions)]! += (test[i]! - expected[i]!) / (positions * samples.length);
    }
  }
  return { sqnr: 10 * Math.log10(signal / noise), shift };
}

const meanAbsolute = (values: Float64Array) =>
  values.reduce((sum, value) => sum + Math.abs(value), 0) / values.length;

describe("mode 'data-free'", () => {
  let model: Model;
  let float: Uint8Array;
  beforeAll(async () => {
    model = await hundredfoldModel();
    float = encodeModel(model);
  });
  const held = inputs(16, 77);
  const base = { mode: 'data-free', executor, granularity: 'tensor' } as const;
  const off = { equalize: false, absorbHighBias: false, correctBias: false };

  it('recovers at least 15 dB of per-tensor SQNR by equalization, absorption and bias correction', async () => {
    const plain = await quantizeModel(model, { ...base, dataFree: off });
    const dfq = await quantizeModel(model, base);
    const before = await compare(plain.bytes, float, held);
    const after = await compare(dfq.bytes, float, held);
    console.log(
      `data-free per-tensor: ${before.sqnr.toFixed(2)} dB plain, ${after.sqnr.toFixed(2)} dB with DFQ`,
    );
    expect(before.sqnr).toBeLessThan(25);
    expect(after.sqnr - before.sqnr).toBeGreaterThanOrEqual(15);
    // Absorption moves the high-mean channels of the first pair; the second BatchNorm's channels are not high.
    expect(dfq.summary.dataFree).toMatchObject({
      batchNormStatistics: 2,
      equalizedPairs: 2,
      biasesAbsorbed: 1,
      biasesCorrected: 2,
    });
    expect(dfq.summary.recipe.dataFree).toEqual({
      equalize: true,
      absorbHighBias: true,
      correctBias: true,
      deviations: 6,
    });
  });

  it('lowers the mean output shift with analytic bias correction', async () => {
    const plain = await quantizeModel(model, { ...base, dataFree: off });
    const corrected = await quantizeModel(model, { ...base, dataFree: { ...off, correctBias: true } });
    expect(corrected.summary.dataFree!.biasesCorrected).toBe(2);
    const before = await compare(plain.bytes, float, held);
    const after = await compare(corrected.bytes, float, held);
    console.log(
      `mean |output shift|: ${meanAbsolute(before.shift)} plain, ${meanAbsolute(after.shift)} corrected`,
    );
    expect(meanAbsolute(after.shift)).toBeLessThan(meanAbsolute(before.shift) * 0.5);
  });

  it('says where each activation range came from', async () => {
    const result = await quantizeModel(model, base);
    const { ranges, rangeSources, randomSamples } = result.summary.dataFree!;
    // The model input has no statistics: measured on random inputs. Both Relu outputs rest on BatchNorm.
    expect(ranges.x).toBe('random');
    expect(ranges.r1).toBe('batch-norm');
    expect(ranges.r2).toBe('batch-norm');
    expect(rangeSources.random).toBeGreaterThanOrEqual(1);
    expect(randomSamples).toBeGreaterThan(0);
    expect(result.summary.nodes.find((decision) => decision.opType === 'Conv')?.reason).toMatch(
      /without data/,
    );
  });

  it('writes models onnxruntime loads in QDQ and QOperator form', async () => {
    const cnn = cnnModel();
    const samples = drawSamples(cnn, 4, 9);
    const reference = await ort.InferenceSession.create(encodeModel(cnn.model));
    for (const format of ['qdq', 'qoperator'] as const) {
      const result = await quantizeModel(cnn.model, { mode: 'data-free', executor, format });
      expect(result.summary.verification).toBeDefined();
      const { ranges } = result.summary.dataFree!;
      // MaxPool's output shares r1's parameters; the second Conv has no BatchNorm, so r2 is measured.
      expect(ranges).toEqual({
        image: 'random',
        r1: 'batch-norm',
        r2: 'random',
        gap: 'random',
        logits: 'random',
      });
      const session = await ort.InferenceSession.create(result.bytes, { graphOptimizationLevel: 'all' });
      let signal = 0;
      let noise = 0;
      for (const sample of samples) {
        const feeds = {
          image: new ort.Tensor('float32', sample.image!.data as Float32Array, [1, 3, 16, 16]),
        };
        const test = (await session.run(feeds)).logits!.data as Float32Array;
        const expected = (await reference.run(feeds)).logits!.data as Float32Array;
        test.forEach((value, i) => {
          expect(Number.isFinite(value)).toBe(true);
          signal += expected[i]! ** 2;
          noise += (value - expected[i]!) ** 2;
        });
      }
      // Only the first layer has statistics; the rest is measured on random data like the samples: close anyway.
      expect(10 * Math.log10(signal / noise)).toBeGreaterThan(20);
    }
  });

  it('needs an executor where a range has no statistics, and says which', async () => {
    await expect(quantizeModel(model, { mode: 'data-free', verify: false })).rejects.toThrow(
      /no BatchNorm statistics for 2 activation\(s\) \(first "x"\).*needs an executor/,
    );
  });

  it('refuses a non-positive range width, naming the option', async () => {
    await expect(
      quantizeModel(model, { mode: 'data-free', executor, dataFree: { deviations: 0 } }),
    ).rejects.toThrow(/dataFree.deviations.*positive/);
  });
});
