import { QuantError, type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import {
  type Attribute,
  type Model,
  cloneModel,
  createModel,
  encodeModel,
  exposeOutputs,
  intAttribute,
} from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { QuantizeOptions } from './options.js';
import { quantizeModel } from './quantize-model.js';
import {
  attentionModel,
  createRandom,
  drawSamples,
  gaussianTensor,
  mlpModel,
  node,
  randomTensor,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });
const ints = (value: number[]): Attribute => ({ type: 'ints', value });

/** Conv (3 -> 8, 3x3) -> Relu -> Conv (8 -> 16, 3x3, stride 2, 2 groups) -> Relu -> Flatten -> Gemm (576 -> 10). */
function convNet(): Model {
  const random = createRandom(61);
  return createModel({
    opset: 13,
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, 12, 12] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 10] }],
    initializers: {
      w1: gaussianTensor([8, 3, 3, 3], random, 0.3),
      b1: randomTensor([8], random, 0.1),
      w2: gaussianTensor([16, 4, 3, 3], random, 0.25),
      b2: randomTensor([16], random, 0.1),
      w3: gaussianTensor([10, 576], random, 0.05),
      b3: randomTensor([10], random, 0.1),
    },
    nodes: [
      node('Conv', ['image', 'w1', 'b1'], ['c1'], { pads: ints([1, 1, 1, 1]) }, 'conv1'),
      node('Relu', ['c1'], ['r1']),
      node(
        'Conv',
        ['r1', 'w2', 'b2'],
        ['c2'],
        { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]), group: { type: 'int', value: 2 } },
        'conv2',
      ),
      node('Relu', ['c2'], ['r2']),
      node('Flatten', ['r2'], ['flat']),
      node('Gemm', ['flat', 'w3', 'b3'], ['logits'], { transB: { type: 'int', value: 1 } }, 'gemm'),
    ],
  });
}

const LAYERS = { conv1: ['w1', 'c1'], conv2: ['w2', 'c2'], gemm: ['w3', 'logits'] } as const;

/** Images like photographs: smooth per-channel patterns (neighbouring pixels correlate) with a little noise. */
function images(count: number, seed: number): Record<string, Tensor>[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => {
    const data = new Float32Array(3 * 12 * 12);
    for (let c = 0; c < 3; c++) {
      const [offset, amplitude, fx, fy, phase] = [
        random() - 0.5,
        random(),
        random() * 0.6,
        random() * 0.6,
        random() * 6,
      ];
      for (let y = 0; y < 12; y++) {
        for (let x = 0; x < 12; x++) {
          data[(c * 12 + y) * 12 + x] =
            offset + amplitude * Math.sin(fx * x + fy * y + phase) + 0.1 * (random() - 0.5);
        }
      }
    }
    return { image: createTensor('float32', [1, 3, 12, 12], data) };
  });
}

async function runAll(
  bytes: Uint8Array,
  samples: readonly Record<string, Tensor>[],
  names: readonly string[],
) {
  const session = await executor.createSession(bytes);
  try {
    const runs: Record<string, Float32Array>[] = [];
    for (const sample of samples) {
      const outputs = await session.run(sample);
      runs.push(Object.fromEntries(names.map((name) => [name, outputs[name]!.data as Float32Array])));
    }
    return runs;
  } finally {
    await session.dispose();
  }
}

/**
 * The float weight a written node computes with, as onnxruntime computes it (4-bit codes below opset 21 are stored
 * packed and unpacked by a small subgraph in front of the DequantizeLinear), and the DequantizeLinear's scales.
 */
async function writtenWeight(model: Model, nodeName: string, sample: Record<string, Tensor>) {
  const { graph } = model;
  const layer = graph.nodes.find((candidate) => candidate.name === nodeName)!;
  const dq = graph.producer(layer.inputs[1]!)!;
  expect(dq.opType).toBe('DequantizeLinear');
  const [run] = await runAll(encodeModel(exposeOutputs(model, [dq.outputs[0]!])), [sample], [dq.outputs[0]!]);
  const scale = graph.getConstant(dq.inputs[1]!)!.data as Float32Array;
  const zero = dq.inputs[2] ? graph.getConstant(dq.inputs[2]) : undefined;
  return { weight: run![dq.outputs[0]!]!, scale, zero, axis: intAttribute(dq, 'axis', 1) };
}

/**
 * Each layer's output error in onnxruntime on held-out samples: the float model with only that layer's weight
 * replaced by the written one, against the float model, at that layer's output (its inputs stay float).
 */
async function layerErrors(written: Model, samples: readonly Record<string, Tensor>[]) {
  const float = convNet();
  const outputs = Object.values(LAYERS).map(([, output]) => output);
  const reference = await runAll(encodeModel(exposeOutputs(float, outputs)), samples, outputs);
  const errors: Record<string, number> = {};
  for (const [layer, [weight, output]] of Object.entries(LAYERS)) {
    const changed = cloneModel(float);
    const original = float.graph.initializers.get(weight)!;
    const { weight: dequantized } = await writtenWeight(written, layer, samples[0]!);
    changed.graph.initializers.set(weight, createTensor('float32', original.shape, dequantized));
    const runs = await runAll(encodeModel(exposeOutputs(changed, [output])), samples, [output]);
    let sum = 0;
    let count = 0;
    runs.forEach((run, s) => {
      const expected = reference[s]![output]!;
      run[output]!.forEach((value, i) => {
        sum += (value - expected[i]!) ** 2;
        count++;
      });
    });
    errors[layer] = sum / count;
  }
  return errors;
}

/** Output SQNR in dB of a written model against the float model, both in onnxruntime, on `samples`. */
async function outputSqnr(bytes: Uint8Array, samples: readonly Record<string, Tensor>[]): Promise<number> {
  const [test, reference] = [
    await runAll(bytes, samples, ['logits']),
    await runAll(encodeModel(convNet()), samples, ['logits']),
  ];
  let signal = 0;
  let noise = 0;
  test.forEach((run, s) => {
    run.logits!.forEach((value, i) => {
      expect(Number.isFinite(value)).toBe(true);
      const expected = reference[s]!.logits![i]!;
      signal += expected ** 2;
      noise += (value - expected) ** 2;
    });
  });
  return 10 * Math.log10(signal / noise);
}

describe('finetune adaround', () => {
  const calibrationData = images(16, 1);
  const heldOut = images(12, 2);
  const base: QuantizeOptions = {
    mode: 'weight-only',
    bits: 4,
    granularity: 'channel',
    executor,
    calibrationData,
  };
  const finetune = { method: 'adaround', iterations: 400 } as const;

  it('beats round-to-nearest on every layer and on output SQNR with 4-bit per-channel weights', async () => {
    const nearest = await quantizeModel(convNet(), base);
    const events: { done: number; total: number | undefined; detail?: string | undefined }[] = [];
    const adaround = await quantizeModel(convNet(), {
      ...base,
      finetune,
      onProgress: (event) => {
        if (event.phase === 'finetune') events.push(event);
      },
    });
    // The summary's own measurement (on the sampled calibration columns).
    const summary = adaround.summary.finetune!;
    expect(summary.layers.map((layer) => layer.node)).toEqual(['conv1', 'conv2', 'gemm']);
    for (const layer of summary.layers) {
      expect(layer.errorAfter).toBeLessThan(layer.errorBefore);
      expect(layer.changed).toBeGreaterThan(0);
    }
    expect(adaround.summary.recipe.finetune).toMatchObject({
      method: 'adaround',
      iterations: 400,
      samples: 32,
    });
    // onnxruntime's measurement, on held-out samples.
    const before = await layerErrors(nearest.model, heldOut);
    const after = await layerErrors(adaround.model, heldOut);
    for (const layer of Object.keys(LAYERS)) expect(after[layer]!).toBeLessThan(before[layer]!);
    const sqnrBefore = await outputSqnr(nearest.bytes, heldOut);
    const sqnrAfter = await outputSqnr(adaround.bytes, heldOut);
    expect(sqnrAfter).toBeGreaterThan(sqnrBefore + 1);
    // Codes stay in the 4-bit symmetric range (per output channel, axis 0, zero point 0); progress covers every
    // step of every layer.
    for (const [layer, [weight]] of Object.entries(LAYERS)) {
      const {
        weight: dequantized,
        scale,
        zero,
        axis,
      } = await writtenWeight(adaround.model, layer, heldOut[0]!);
      expect(axis).toBe(0);
      expect(Array.from(zero?.data ?? [0], Number).every((value) => value === 0)).toBe(true);
      const perChannel = dequantized.length / scale.length;
      expect(perChannel * scale.length).toBe(convNet().graph.initializers.get(weight)!.data.length);
      dequantized.forEach((value, i) => {
        const code = value / scale[Math.floor(i / perChannel)]!;
        expect(Math.abs(code - Math.round(code))).toBeLessThan(1e-3);
        expect(Math.abs(Math.round(code))).toBeLessThanOrEqual(7);
      });
    }
    expect(events.at(-1)).toMatchObject({ done: 1200, total: 1200 });
    expect(events[0]?.detail).toMatch(/^layer 1\/3 conv1/);
    console.log(
      `[adaround] per-layer MSE (ORT, held out) RTN ${JSON.stringify(before)} AdaRound ${JSON.stringify(after)}; ` +
        `output SQNR RTN ${sqnrBefore.toFixed(2)} dB, AdaRound ${sqnrAfter.toFixed(2)} dB; ` +
        `ms per layer ${summary.layers.map((layer) => layer.milliseconds).join(', ')}`,
    );
  }, 120_000);

  it('repeats for a seed, and static mode finetunes too', async () => {
    const first = await quantizeModel(convNet(), { ...base, finetune: { ...finetune, iterations: 60 } });
    const again = await quantizeModel(convNet(), { ...base, finetune: { ...finetune, iterations: 60 } });
    expect(again.bytes).toEqual(first.bytes);
    const reseeded = await quantizeModel(convNet(), {
      ...base,
      finetune: { ...finetune, iterations: 60, seed: 9 },
    });
    expect(reseeded.bytes).not.toEqual(first.bytes);
    const staticRun = await quantizeModel(convNet(), {
      ...base,
      mode: 'static',
      bits: 8,
      finetune: 'adaround',
    });
    expect(staticRun.summary.finetune?.layers).toHaveLength(3);
    expect(staticRun.summary.verification).toBeDefined();
    for (const layer of staticRun.summary.finetune!.layers)
      expect(layer.errorAfter).toBeLessThanOrEqual(layer.errorBefore);
  }, 120_000);

  it('optimises each layer once across the runs a fidelity floor repeats', async () => {
    let finished = 0;
    const result = await quantizeModel(convNet(), {
      ...base,
      minSqnr: 1,
      finetune: { ...finetune, iterations: 30 },
      onProgress: (event) => {
        if (event.phase === 'finetune' && event.done === event.total) finished++;
      },
    });
    expect(result.summary.fidelity).toBeDefined();
    expect(finished).toBe(1);
    expect(result.summary.finetune?.layers).toHaveLength(3);
  }, 60_000);

  it("finetunes dynamic mode's transposed Gemm weights and weight-only MatMul weights", async () => {
    const mlp = mlpModel();
    const mlpSamples = drawSamples(mlp, 16, 5);
    const dynamic = await quantizeModel(mlp.model, {
      mode: 'dynamic',
      executor,
      calibrationData: mlpSamples,
      finetune: { method: 'adaround', iterations: 100 },
    });
    expect(dynamic.summary.verification).toBeDefined();
    expect(dynamic.summary.finetune!.layers.map((layer) => layer.opType)).toEqual(['Gemm', 'Gemm', 'Gemm']);
    for (const layer of dynamic.summary.finetune!.layers)
      expect(layer.errorAfter).toBeLessThan(layer.errorBefore);

    const attention = attentionModel();
    const samples = drawSamples(attention, 16, 6);
    const heldOutSamples = drawSamples(attention, 8, 7);
    const options: QuantizeOptions = { mode: 'weight-only', bits: 4, executor, calibrationData: samples };
    const nearest = await quantizeModel(attention.model, options);
    const adaround = await quantizeModel(attention.model, {
      ...options,
      finetune: { method: 'adaround', iterations: 200 },
    });
    const layers = adaround.summary.finetune!.layers;
    expect(layers.length).toBeGreaterThan(0);
    expect(layers.every((layer) => layer.opType === 'MatMul')).toBe(true);
    for (const layer of layers) expect(layer.errorAfter).toBeLessThan(layer.errorBefore);
    const float = encodeModel(attention.model);
    const sqnr = async (bytes: Uint8Array) => {
      const [test, reference] = [
        await runAll(bytes, heldOutSamples, ['out']),
        await runAll(float, heldOutSamples, ['out']),
      ];
      let [signal, noise] = [0, 0];
      test.forEach((run, s) => {
        run.out!.forEach((value, i) => {
          signal += reference[s]!.out![i]! ** 2;
          noise += (value - reference[s]!.out![i]!) ** 2;
        });
      });
      return 10 * Math.log10(signal / noise);
    };
    const [before, after] = [await sqnr(nearest.bytes), await sqnr(adaround.bytes)];
    expect(after).toBeGreaterThan(before);
    // 4-bit blocks of 16 along K (MatMulNBits).
    const blocked: QuantizeOptions = { ...options, granularity: 'block', blockSize: 16 };
    const nearestBlocks = await quantizeModel(attention.model, blocked);
    const adaroundBlocks = await quantizeModel(attention.model, {
      ...blocked,
      finetune: { method: 'adaround', iterations: 200 },
    });
    expect(adaroundBlocks.model.graph.nodes.some((candidate) => candidate.opType === 'MatMulNBits')).toBe(
      true,
    );
    expect(adaroundBlocks.summary.finetune!.layers.length).toBe(layers.length);
    const [blocksBefore, blocksAfter] = [await sqnr(nearestBlocks.bytes), await sqnr(adaroundBlocks.bytes)];
    expect(blocksAfter).toBeGreaterThan(blocksBefore);
    console.log(
      `[adaround] attention weight-only 4-bit output SQNR per channel RTN ${before.toFixed(2)} dB, AdaRound ` +
        `${after.toFixed(2)} dB; blocks of 16 RTN ${blocksBefore.toFixed(2)} dB, AdaRound ${blocksAfter.toFixed(2)} dB`,
    );
  }, 120_000);

  it('names the problem with wrong combinations', async () => {
    const expectError = async (options: QuantizeOptions, code: string, pattern: RegExp) => {
      const failure = await quantizeModel(convNet(), options).catch((error: unknown) => error);
      expect(QuantError.is(failure)).toBe(true);
      expect((failure as QuantError).code).toBe(code);
      expect((failure as QuantError).message).toMatch(pattern);
    };
    await expectError(
      { ...base, mode: 'float', finetune: 'adaround' },
      'INVALID_ARGUMENT',
      /mode "float" has none/,
    );
    await expectError(
      { ...base, quantizer: 'binary', finetune: 'adaround' },
      'INVALID_ARGUMENT',
      /"binary" is not linear/,
    );
    await expectError(
      { ...base, calibrationData: undefined, finetune: 'adaround' },
      'CALIBRATION_DATA',
      /needs calibration samples/,
    );
    await expectError(
      { ...base, executor: undefined, finetune: 'adaround' },
      'INVALID_ARGUMENT',
      /needs an executor/,
    );
    await expectError(
      { ...base, finetune: { method: 'adaround', learningRate: -1 } },
      'INVALID_ARGUMENT',
      /finetune.learningRate.* must be a positive number/,
    );
    await expectError(
      { ...base, finetune: 'sgd' as never },
      'INVALID_ARGUMENT',
      /must be one of "adaround", "bias-correction"/,
    );
  });

  it("takes 'bias-correction' as biasCorrection", async () => {
    const result = await quantizeModel(convNet(), {
      ...base,
      mode: 'static',
      bits: 8,
      finetune: 'bias-correction',
    });
    expect(result.summary.recipe.biasCorrection).toBe(true);
    expect(result.summary.biasCorrection?.corrected).toBe(3);
  }, 60_000);
});
