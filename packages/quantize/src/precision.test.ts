import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from './metrics.js';
import type { QuantizeOptions } from './options.js';
import { quantizeModel } from './quantize-model.js';
import {
  attentionModel,
  cnnModel,
  createRandom,
  hostIntegerKernelsExact,
  mlpModel,
  node,
  randomTensor,
  type TestModel,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });
const unfusedExecutor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'disabled' });

async function sqnrOf(
  test: TestModel,
  options: Omit<QuantizeOptions, 'executor' | 'calibrationData'>,
  checkedIn = executor,
) {
  const random = createRandom(12);
  // Enough samples that fresh ones rarely leave the calibrated ranges: at 16 bits, saturation, not rounding,
  // is what limits accuracy.
  const calibration = Array.from({ length: 64 }, () => test.sample(random));
  const result = await quantizeModel(encodeModel(test.model), {
    executor,
    calibrationData: calibration,
    ...options,
  });
  const reference = await executor.createSession(encodeModel(test.model));
  const quantized = await checkedIn.createSession(result.bytes);
  const metrics = createMetricsAccumulator();
  for (let i = 0; i < 6; i++) {
    const feeds = test.sample(random);
    const name = reference.outputNames[0]!;
    metrics.add((await reference.run(feeds))[name]!, (await quantized.run(feeds))[name]!);
  }
  await reference.dispose();
  await quantized.dispose();
  return { sqnr: metrics.result().sqnr, result };
}

describe('precisions beyond int8', () => {
  it.each([
    ['CNN at opset 13 (com.microsoft 16-bit Q/DQ)', () => cnnModel(71, 13)],
    ['CNN at opset 21 (ONNX 16-bit Q/DQ)', () => cnnModel(72, 21)],
    ['MLP', () => mlpModel(73, 128)],
    ['attention block', () => attentionModel(74)],
  ])('16-bit activations with 16-bit weights reach 45 dB: %s', async (_, build) => {
    const test = build();
    const { sqnr, result } = await sqnrOf(test, { mode: 'static', activationBits: 16, bits: 16 });
    expect(sqnr).toBeGreaterThanOrEqual(45);
    const dtypes = new Set([...result.model.graph.initializers.values()].map((t) => t.dtype));
    expect(dtypes.has('uint16')).toBe(true);
    const opset = result.model.opsetImports.find((entry) => entry.domain === '')!.version;
    const { graph } = result.model;
    const wide = result.model.graph.nodes.filter(
      (n) =>
        n.opType.endsWith('uantizeLinear') &&
        ['uint16', 'int16'].includes(graph.initializers.get(n.inputs[2]!)?.dtype ?? ''),
    );
    expect(wide.length).toBeGreaterThan(0);
    expect([...new Set(wide.map((n) => n.domain))]).toEqual(opset >= 21 ? [''] : ['com.microsoft']);
  });

  it('16-bit activations with 8-bit weights beat 8-bit activations (weights then dominate the error)', async () => {
    // Full 8-bit weights (x86-vnni), checked where onnxruntime computes them exactly (see hostIntegerKernelsExact).
    const checkedIn = (await hostIntegerKernelsExact()) ? executor : unfusedExecutor;
    const a8 = await sqnrOf(cnnModel(75), { mode: 'static', target: 'x86-vnni' }, checkedIn);
    const a16 = await sqnrOf(
      cnnModel(75),
      { mode: 'static', target: 'x86-vnni', activationBits: 16 },
      checkedIn,
    );
    expect(a16.sqnr).toBeGreaterThan(a8.sqnr + 1);
  });

  it('16 bits for chosen activations only (tensor overrides): the rest stays 8-bit', async () => {
    // x -> x * x (a power: its values span orders of magnitude) -> MatMul (a filterbank) -> y.
    const r = createRandom(81);
    const power: TestModel = {
      model: createModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 16] }],
        initializers: { w: randomTensor([64, 16], r, 1) },
        nodes: [
          node('Mul', ['x', 'x'], ['p'], {}, 'square'),
          node('MatMul', ['p', 'w'], ['y'], {}, 'filterbank'),
        ],
      }),
      sample: (random) => ({
        x: createTensor(
          'float32',
          [1, 64],
          Float32Array.from({ length: 64 }, () => Math.exp((random() - 0.5) * 8)),
        ),
      }),
    };
    const zeroPointTypes = (result: Awaited<ReturnType<typeof sqnrOf>>['result']) => {
      const { graph } = result.model;
      const types = (value: string) => {
        const quantize = graph.nodes.find(
          (n) => n.opType === 'QuantizeLinear' && n.inputs[0]!.startsWith(value),
        );
        return graph.initializers.get(quantize!.inputs[2]!)?.dtype;
      };
      return ['x', 'p', 'y'].map(types);
    };
    const partial = await sqnrOf(power, { mode: 'static', overrides: { tensors: { p: { bits: 16 } } } });
    expect(zeroPointTypes(partial.result)).toEqual(['uint8', 'uint16', 'uint8']);
    expect(partial.result.summary.verification).toMatchObject({ verified: true });
    const all = await sqnrOf(power, { mode: 'static', overrides: { tensors: { '*': { bits: 16 } } } });
    expect(zeroPointTypes(all.result)).toEqual(['uint16', 'uint16', 'uint16']);
    // Every tensor at 16 bits by override computes what activationBits 16 does.
    const global = await sqnrOf(power, { mode: 'static', activationBits: 16 });
    expect(all.sqnr).toBeCloseTo(global.sqnr, 9);
  });

  it('4-bit weights are stored packed (int4) at opset 21 and in an 8-bit container below', async () => {
    const at21 = await sqnrOf(cnnModel(76, 21), { mode: 'static', bits: 4 });
    const at13 = await sqnrOf(cnnModel(76, 13), { mode: 'static', bits: 4 });
    const weightDtypes = (r: typeof at21) =>
      [...r.result.model.graph.initializers.entries()]
        .filter(([name]) => name.endsWith('_quantized'))
        .map(([, t]) => t.dtype);
    expect(weightDtypes(at21)).toContain('int4');
    expect(weightDtypes(at13)).not.toContain('int4');
    expect(at21.result.summary.sizeAfter).toBeLessThan(at13.result.summary.sizeAfter);
    // Same codes either way: the two models compute the same thing.
    expect(Math.abs(at21.sqnr - at13.sqnr)).toBeLessThan(0.5);
    expect(at21.sqnr).toBeGreaterThan(10);
  });
});

describe('float precisions', () => {
  it.each([
    ['CNN', () => cnnModel(101)],
    ['MLP', () => mlpModel(102, 128)],
    ['attention block', () => attentionModel(103)],
  ])('fp16 keeps SQNR >= 60 dB and halves the size: %s', async (_, build) => {
    const test = build();
    const { sqnr, result } = await sqnrOf(test, { mode: 'float', floatPrecision: 'fp16' });
    expect(sqnr).toBeGreaterThanOrEqual(60);
    expect(result.summary.weightBytesAfter / result.summary.weightBytesBefore).toBeLessThan(0.55);
    expect(result.model.graph.inputs[0]!.dtype).toBe('float32');
  });

  it('bf16 weight storage keeps SQNR >= 40 dB', async () => {
    const { sqnr, result } = await sqnrOf(mlpModel(104, 128), { mode: 'float', floatPrecision: 'bf16' });
    expect(sqnr).toBeGreaterThanOrEqual(40);
    expect([...result.model.graph.initializers.values()].some((t) => t.dtype === 'bfloat16')).toBe(true);
  });

  it('fp8 e4m3fn weights run at opset 19 and are refused below it', async () => {
    const { sqnr, result } = await sqnrOf(cnnModel(105, 19), { mode: 'float', floatPrecision: 'fp8-e4m3fn' });
    // About 32 dB per e4m3fn layer (half an ulp of a 3-bit mantissa); three stacked layers lose some 5 dB more.
    expect(sqnr).toBeGreaterThanOrEqual(22);
    expect([...result.model.graph.initializers.values()].some((t) => t.dtype === 'float8e4m3fn')).toBe(true);
    await expect(sqnrOf(cnnModel(105, 13), { mode: 'float', floatPrecision: 'fp8-e4m3fn' })).rejects.toThrow(
      /opset/,
    );
  });

  it('fp8 follows the plan: an excluded Conv keeps its float32 weight, the others are fp8', async () => {
    const test = cnnModel(107, 19);
    const convs = test.model.graph.nodes.filter((node) => node.opType === 'Conv');
    expect(convs.length).toBeGreaterThan(1);
    const excluded = convs[0]!;
    const { sqnr, result } = await sqnrOf(test, {
      mode: 'float',
      floatPrecision: 'fp8-e4m3fn',
      exclude: [excluded.name],
    });
    expect(sqnr).toBeGreaterThanOrEqual(22);
    const { graph } = result.model;
    const weightOf = (name: string) => {
      const node = graph.nodes.find((n) => n.name === name)!;
      return graph.initializers.get(node.inputs[1]!)?.dtype ?? graph.producer(node.inputs[1]!)?.opType;
    };
    expect(weightOf(excluded.name)).toBe('float32');
    for (const conv of convs.slice(1)) expect(weightOf(conv.name)).toBe('DequantizeLinear');
    const decision = result.summary.nodes.find((node) => node.name === excluded.name)!;
    expect(decision.quantized).toBe(false);
  });

  it('q4f16: 4-bit MatMulNBits weights with fp16 for the rest cost under 0.5 dB over q4', async () => {
    const test = attentionModel(106, 64, 8);
    const q4 = await sqnrOf(test, { mode: 'weight-only', granularity: 'block', bits: 4, accuracyLevel: 0 });
    const q4f16 = await sqnrOf(test, {
      mode: 'weight-only',
      granularity: 'block',
      bits: 4,
      accuracyLevel: 0,
      floatPrecision: 'fp16',
    });
    expect(q4f16.sqnr).toBeGreaterThan(q4.sqnr - 0.5);
    expect(q4f16.result.model.graph.nodes.some((n) => n.opType === 'MatMulNBits')).toBe(true);
    expect(q4f16.result.summary.sizeAfter).toBeLessThan(q4.result.summary.sizeAfter);
  });
});
