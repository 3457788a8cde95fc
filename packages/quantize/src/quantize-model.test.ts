import { readFileSync } from 'node:fs';
import { QuantError, type Tensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from './metrics.js';
import type { QuantizeMode } from './options.js';
import { quantizeModel } from './quantize-model.js';
import {
  type TestModel,
  attentionModel,
  cnnModel,
  constantWeightsModel,
  createRandom,
  gaussianTensor,
  mlpModel,
  node,
  openWakeWordModel,
  randomTensor,
  drawSamples as samples,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

/** Runs both models in onnxruntime-node on fresh samples and returns the accumulated output metrics. */
async function evaluate(
  floatBytes: Uint8Array,
  quantizedBytes: Uint8Array,
  inputs: Record<string, Tensor>[],
) {
  const reference = await executor.createSession(floatBytes);
  const quantized = await executor.createSession(quantizedBytes);
  const metrics = createMetricsAccumulator();
  try {
    for (const feeds of inputs) {
      const expected = await reference.run(feeds);
      const actual = await quantized.run(feeds);
      for (const name of reference.outputNames) metrics.add(expected[name]!, actual[name]!, name);
    }
  } finally {
    await reference.dispose();
    await quantized.dispose();
  }
  return metrics.result();
}

async function quantize(test: TestModel, mode: QuantizeMode, extra: Record<string, unknown> = {}) {
  return quantizeModel(encodeModel(test.model), {
    mode,
    executor,
    calibrationData: samples(test, 16, 100),
    ...extra,
  });
}

/** Weight matrices still stored in float32: every rank >= 2 float initializer (or Constant) left over. */
function floatWeights(model: Model): string[] {
  const names: string[] = [];
  for (const [name, tensor] of model.graph.initializers) {
    if (tensor.dtype === 'float32' && tensor.shape.length >= 2 && tensor.data.length > 16) names.push(name);
  }
  for (const n of model.graph.nodes) {
    const value = n.attributes.get('value');
    if (
      n.opType === 'Constant' &&
      value?.type === 'tensor' &&
      value.value.dtype === 'float32' &&
      value.value.shape.length >= 2
    ) {
      names.push(n.outputs[0]!);
    }
  }
  return names;
}

const models: Record<string, () => TestModel> = {
  'CNN with BatchNorm': () => cnnModel(),
  'CNN at opset 11 (per-channel through com.microsoft DequantizeLinear)': () => cnnModel(5, 11),
  'CNN at opset 21': () => cnnModel(6, 21),
  MLP: () => mlpModel(),
  'attention block': () => attentionModel(),
  'opset 9 with Constant-node weights': () => constantWeightsModel(),
};

describe.each(Object.entries(models))('%s', (_, build) => {
  const test = build();
  const floatBytes = encodeModel(test.model);
  const evaluation = samples(test, 8, 200);

  it.each([
    'static',
    'dynamic',
    'weight-only',
  ] as const)('%s: loads and runs in onnxruntime-node with SQNR >= 28 dB', async (mode) => {
    // 28, not 30: the default target (x86-avx2) keeps weights to 7 bits, which costs the MLP's static run 0.3 dB
    // below 30.
    const result = await quantize(test, mode);
    const metrics = await evaluate(floatBytes, result.bytes, evaluation);
    expect(metrics.sqnr).toBeGreaterThanOrEqual(28);
    expect(metrics.cosine).toBeGreaterThan(0.99);
    expect(floatWeights(result.model)).toEqual([]);
  });

  it('writes byte-identical files on two runs and leaves the input untouched', async () => {
    const before = Uint8Array.from(floatBytes);
    const first = await quantize(test, 'static');
    const second = await quantize(test, 'static');
    expect(Buffer.from(first.bytes).equals(Buffer.from(second.bytes))).toBe(true);
    expect(Buffer.from(floatBytes).equals(Buffer.from(before))).toBe(true);
  });
});

describe('static mode', () => {
  it('stores every Conv/Gemm weight in int8 behind DequantizeLinear, with int32 biases', async () => {
    const result = await quantize(cnnModel(), 'static');
    const { graph } = result.model;
    for (const n of graph.nodes.filter((candidate) => ['Conv', 'Gemm'].includes(candidate.opType))) {
      const weightDq = graph.producer(n.inputs[1]!)!;
      expect(weightDq.opType).toBe('DequantizeLinear');
      expect(graph.initializers.get(weightDq.inputs[0]!)!.dtype).toBe('int8');
      const biasDq = graph.producer(n.inputs[2]!)!;
      expect(biasDq.opType).toBe('DequantizeLinear');
      expect(graph.initializers.get(biasDq.inputs[0]!)!.dtype).toBe('int32');
      expect(graph.producer(n.inputs[0]!)!.opType).toBe('DequantizeLinear');
    }
    // BatchNorm folded, Relu fused into the Conv outputs' saturation.
    expect(graph.nodes.map((n) => n.opType)).not.toContain('BatchNormalization');
    expect(graph.nodes.map((n) => n.opType)).not.toContain('Relu');
  });

  it('keeps ops without a quantized form float and says why', async () => {
    const result = await quantize(attentionModel(), 'static');
    const softmax = result.summary.nodes.find((n) => n.opType === 'Softmax')!;
    expect(softmax.quantized).toBe(false);
    expect(softmax.reason).toMatch(/no quantized form/);
  });

  it('shrinks a weight-dominated model to at most 30% in every mode', async () => {
    for (const mode of ['static', 'dynamic', 'weight-only'] as const) {
      const result = await quantize(mlpModel(), mode);
      expect(result.summary.sizeAfter / result.summary.sizeBefore).toBeLessThanOrEqual(0.3);
    }
  });

  it('per-channel weights beat per-tensor on a model whose channels differ in scale', async () => {
    const test = mlpModel(7);
    const w1 = test.model.graph.initializers.get('w1')!;
    const data = w1.data as Float32Array;
    // Give output rows (transB: axis 0) magnitudes spread over two decades.
    for (let row = 0; row < w1.shape[0]!; row++)
      for (let c = 0; c < 64; c++) data[row * 64 + c]! *= 10 ** ((row % 8) / 4 - 1);
    const floatBytes = encodeModel(test.model);
    const evaluation = samples(test, 8, 300);
    const channel = await evaluate(floatBytes, (await quantize(test, 'weight-only')).bytes, evaluation);
    const tensor = await evaluate(
      floatBytes,
      (await quantize(test, 'weight-only', { granularity: 'tensor' })).bytes,
      evaluation,
    );
    expect(channel.sqnr).toBeGreaterThan(tensor.sqnr + 3);
  });

  it('records provenance in metadata_props', async () => {
    const result = await quantize(mlpModel(), 'static', { calibrationHash: 'abc123' });
    const decoded = decodeModel(result.bytes);
    expect(JSON.parse(decoded.metadata.get('quantkit.recipe')!)).toMatchObject({ mode: 'static', bits: 8 });
    expect(decoded.metadata.get('quantkit.calibration_sha256')).toBe('abc123');
    expect(decoded.metadata.get('quantkit.version')).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses to run without calibration data or with samples that do not fit', async () => {
    const test = mlpModel();
    await expect(quantizeModel(encodeModel(test.model), { mode: 'static', executor })).rejects.toSatisfy(
      (error) => QuantError.is(error, 'CALIBRATION_DATA'),
    );
    const wrongShape = [{ x: { dtype: 'float32', shape: [4, 63], data: new Float32Array(252) } as Tensor }];
    await expect(
      quantizeModel(encodeModel(test.model), { mode: 'static', executor, calibrationData: wrongShape }),
    ).rejects.toSatisfy(
      (error) => QuantError.is(error, 'CALIBRATION_DATA') && /"x"/.test((error as Error).message),
    );
    const wrongType = [{ x: { dtype: 'int32', shape: [4, 64], data: new Int32Array(256) } as Tensor }];
    await expect(
      quantizeModel(encodeModel(test.model), { mode: 'static', executor, calibrationData: wrongType }),
    ).rejects.toSatisfy(
      (error) => QuantError.is(error, 'CALIBRATION_DATA') && /int32/.test((error as Error).message),
    );
  });

  it('honours --exclude by node name and op type', async () => {
    const result = await quantize(mlpModel(), 'static', { exclude: ['Gemm_h2', 'Relu*'] });
    const decision = result.summary.nodes.find((n) => n.name === 'Gemm_h2')!;
    expect(decision.quantized).toBe(false);
    expect(decision.reason).toContain('excluded by "Gemm_h2"');
    expect(result.model.graph.nodes.filter((n) => n.opType === 'Relu').length).toBe(2);
  });
});

describe('a real third-party model (openwakeword-js hello_deepa.onnx)', () => {
  const path = openWakeWordModel('hello_deepa.onnx');
  const bytes = new Uint8Array(readFileSync(path));
  const model = decodeModel(bytes, path);
  const input = model.graph.inputs[0]!;
  const shape = input.shape!.map((d) => (typeof d === 'number' ? d : 1));
  const test: TestModel = {
    model,
    sample: (random) => ({
      [input.name]: {
        dtype: 'float32',
        shape,
        data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
      },
    }),
  };

  it('float mode (fp16) loads and runs with SQNR >= 60 dB', async () => {
    // Its decomposed LayerNorm (Pow -> ReduceMean -> Sqrt) once made onnxruntime's fusion fail on fp16 Pow.
    const result = await quantize(test, 'float');
    const metrics = await evaluate(bytes, result.bytes, samples(test, 4, 401));
    expect(metrics.sqnr).toBeGreaterThanOrEqual(60);
    expect(result.summary.sizeAfter).toBeLessThan(result.summary.sizeBefore * 0.55);
  });

  it.each([
    'static',
    'dynamic',
    'weight-only',
  ] as const)('%s: quantizes and runs in onnxruntime-node', async (mode) => {
    const result = await quantize(test, mode);
    const metrics = await evaluate(bytes, result.bytes, samples(test, 8, 400));
    expect(result.summary.sizeAfter).toBeLessThan(result.summary.sizeBefore * 0.4);
    expect(metrics.sqnr).toBeGreaterThanOrEqual(20);
    expect(result.summary.nodes.some((n) => n.quantized)).toBe(true);
  });
});

describe('weights in older layouts', () => {
  it('stores a weight shared by two nodes once', async () => {
    const r = createRandom(11);
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 32] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 32] }],
      initializers: { tied: gaussianTensor([32, 32], r, 0.2) },
      nodes: [
        node('MatMul', ['x', 'tied'], ['h']),
        node('Relu', ['h'], ['a']),
        node('MatMul', ['a', 'tied'], ['y']),
      ],
    });
    const test: TestModel = { model, sample: (random) => ({ x: randomTensor([2, 32], random) }) };
    for (const mode of ['static', 'weight-only'] as const) {
      const result = await quantize(test, mode);
      const codes = [...result.model.graph.initializers.values()].filter(
        (t) => t.dtype === 'int8' && t.data.length === 32 * 32,
      );
      expect([mode, codes.length]).toEqual([mode, 1]);
      const metrics = await evaluate(encodeModel(model), result.bytes, samples(test, 4, 12));
      expect(metrics.sqnr).toBeGreaterThanOrEqual(30);
    }
  });

  it('drops float weights that an IR 3 model also lists as graph inputs', async () => {
    const r = createRandom(12);
    const weight = gaussianTensor([24, 16], r, 0.2);
    const model = createModel({
      opset: 8,
      irVersion: 3,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 24] },
        { name: 'w', dtype: 'float32', shape: [24, 16] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 16] }],
      initializers: { w: weight },
      nodes: [node('MatMul', ['x', 'w'], ['y'])],
    });
    const test: TestModel = { model, sample: (random) => ({ x: randomTensor([1, 24], random) }) };
    for (const mode of ['dynamic', 'weight-only'] as const) {
      const result = await quantize(test, mode);
      expect(result.model.graph.inputs.map((input) => input.name)).toEqual(['x']);
      expect(floatWeights(result.model)).toEqual([]);
      const metrics = await evaluate(encodeModel(model), result.bytes, samples(test, 4, 13));
      expect(metrics.sqnr).toBeGreaterThanOrEqual(30);
    }
    await expect(quantize(test, 'static')).rejects.toSatisfy(
      (error) => QuantError.is(error, 'UNSUPPORTED') && /opset 9 or newer/.test((error as Error).message),
    );
  });
});

describe('format qoperator', () => {
  it("writes integer operators that onnxruntime runs with the QDQ model's accuracy", async () => {
    const test = cnnModel(81);
    const result = await quantize(test, 'static', { format: 'qoperator' });
    const ops = result.model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((op) => op === 'QLinearConv').length).toBe(2);
    expect(ops).toContain('QGemm');
    expect(result.summary.qoperator!.converted).toBeGreaterThanOrEqual(4);
    const metrics = await evaluate(encodeModel(test.model), result.bytes, samples(test, 6, 82));
    expect(metrics.sqnr).toBeGreaterThanOrEqual(30);
  });

  it('is refused for weight-only models, which have no integer compute', async () => {
    await expect(quantize(mlpModel(), 'weight-only', { format: 'qoperator' })).rejects.toThrow(
      /needs integer compute/,
    );
  });
});

describe('a model given decoded', () => {
  it('is cloned, never changed, and quantizes as its encoding does, in every mode', async () => {
    for (const test of [cnnModel(61), mlpModel(62, 64), attentionModel(63)]) {
      const before = encodeModel(test.model);
      const calibrationData = samples(test, 3, 64);
      const cases = [
        { mode: 'static', calibrationData },
        { mode: 'static', calibrationData, format: 'qoperator' },
        { mode: 'dynamic' },
        { mode: 'weight-only' },
        { mode: 'weight-only', bits: 4, granularity: 'block' },
        { mode: 'float', calibrationData },
      ] as const;
      for (const options of cases) {
        const fromModel = await quantizeModel(test.model, { ...options, executor });
        const fromBytes = await quantizeModel(before, { ...options, executor });
        const label = `${test.model.graph.name} ${JSON.stringify({ ...options, calibrationData: undefined })}`;
        expect(Buffer.compare(fromModel.bytes, fromBytes.bytes), label).toBe(0);
        expect(Buffer.compare(encodeModel(test.model), before), label).toBe(0);
      }
    }
  });
});
