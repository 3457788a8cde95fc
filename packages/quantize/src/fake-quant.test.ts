import { QuantError, type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, decodeModel, encodeModel, subgraphsOf } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readProvenance } from './provenance.js';
import { quantizeModel } from './quantize-model.js';
import {
  type TestModel,
  cnnModel,
  createRandom,
  drawSamples,
  gaussianTensor,
  mlpModel,
  node,
  randomTensor,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

async function outputsOf(bytes: Uint8Array, samples: Record<string, Tensor>[]) {
  const session = await executor.createSession(bytes);
  try {
    const outputs: Float32Array[] = [];
    for (const sample of samples) {
      const result = await session.run(sample);
      outputs.push(result[session.outputNames[0]!]!.data as Float32Array);
    }
    return outputs;
  } finally {
    await session.dispose();
  }
}

async function worstDifference(a: Uint8Array, b: Uint8Array, samples: Record<string, Tensor>[]) {
  const [first, second] = [await outputsOf(a, samples), await outputsOf(b, samples)];
  let worst = 0;
  for (const [s, values] of first.entries()) {
    for (const [i, value] of values.entries()) {
      expect(Number.isFinite(second[s]![i]!)).toBe(true);
      worst = Math.max(worst, Math.abs(value - second[s]![i]!));
    }
  }
  return worst;
}

/** The step of the output's own Q/DQ: the scale of the DequantizeLinear that writes the graph output. */
function outputStep(model: Model): number {
  const output = model.graph.outputs[0]!.name;
  const dequantize = model.graph.producer(output)!;
  expect(dequantize.opType).toBe('DequantizeLinear');
  return model.graph.getConstant(dequantize.inputs[1]!)!.data[0] as number;
}

/** Every Conv/Gemm/MatMul weight: float32 initializer -> QuantizeLinear -> DequantizeLinear. */
function expectFloatWeights(model: Model): number {
  const { graph } = model;
  let count = 0;
  for (const node of graph.nodes) {
    if (!['Conv', 'Gemm', 'MatMul'].includes(node.opType)) continue;
    const dequantize = graph.producer(node.inputs[1]!);
    expect(dequantize?.opType).toBe('DequantizeLinear');
    const quantize = graph.producer(dequantize!.inputs[0]!);
    expect(quantize?.opType).toBe('QuantizeLinear');
    expect(graph.getConstant(quantize!.inputs[0]!)?.dtype).toBe('float32');
    count++;
  }
  for (const [name, tensor] of graph.initializers) {
    if (tensor.shape.length >= 2) expect([name, tensor.dtype]).toEqual([name, 'float32']);
  }
  return count;
}

/** Scale of the activation pair on each value (the DequantizeLinear writing it), by value name. */
function activationScales(model: Model): Map<string, number> {
  const scales = new Map<string, number>();
  for (const node of model.graph.nodes) {
    if (node.opType !== 'DequantizeLinear') continue;
    const source = model.graph.producer(node.inputs[0]!);
    if (source?.opType !== 'QuantizeLinear' || model.graph.getConstant(source.inputs[0]!) !== undefined)
      continue;
    scales.set(node.outputs[0]!, model.graph.getConstant(node.inputs[1]!)!.data[0] as number);
  }
  return scales;
}

describe('emit fake-quant', () => {
  for (const opset of [10, 13, 21]) {
    it(`writes float weights behind Q/DQ, computes what the quantized model does, and comes back (opset ${opset})`, async () => {
      const test: TestModel = cnnModel(1, opset);
      const input = encodeModel(test.model);
      const calibrationData = drawSamples(test, 16, 100);
      const direct = await quantizeModel(input, { mode: 'static', executor, calibrationData });
      const fake = await quantizeModel(input, {
        mode: 'static',
        executor,
        calibrationData,
        emit: 'fake-quant',
      });
      expect(fake.summary.recipe.emit).toBe('fake-quant');
      expect(readProvenance(decodeModel(fake.bytes))?.recipe?.['emit']).toBe('fake-quant');
      expect(fake.summary.verification?.verified).toBe(true);
      const fakeModel = decodeModel(fake.bytes);
      expect(expectFloatWeights(fakeModel)).toBe(3);
      // A float model: its file holds float32 weights, larger than the int8 one.
      expect(fake.summary.sizeAfter).toBeGreaterThan(direct.summary.sizeAfter);

      const samples = drawSamples(test, 6, 7);
      const step = outputStep(decodeModel(direct.bytes));
      expect(await worstDifference(direct.bytes, fake.bytes, samples)).toBeLessThanOrEqual(step * 1.001);

      // Back through quantkit: recognised as quantization-aware trained, every scale kept, nothing calibrated.
      const back = await quantizeModel(fake.bytes, { mode: 'static', executor, calibrationData });
      const points = back.summary.keptQuantization!;
      expect(points.addedActivations).toEqual([]);
      expect(points.addedWeights).toEqual([]);
      expect(points.keptWeights.length).toBe(3);
      expect(Object.keys(back.calibrationCache!.tensors)).toEqual([]);
      const backModel = decodeModel(back.bytes);
      expect(expectIntegerWeights(backModel)).toBe(3);
      const directScales = activationScales(decodeModel(direct.bytes));
      const backScales = activationScales(backModel);
      for (const [name, scale] of activationScales(fakeModel)) {
        expect(backScales.get(name)).toBe(scale);
        if (directScales.has(name)) expect(directScales.get(name)).toBe(scale);
      }
      expect(await worstDifference(direct.bytes, back.bytes, samples)).toBeLessThanOrEqual(step * 1.001);
    });
  }

  it('weight-only: weights float behind Q/DQ with the codes the direct run stores', async () => {
    const test = mlpModel(2, 64);
    const input = encodeModel(test.model);
    const direct = await quantizeModel(input, { mode: 'weight-only', executor });
    const fake = await quantizeModel(input, { mode: 'weight-only', executor, emit: 'fake-quant' });
    expect(expectFloatWeights(decodeModel(fake.bytes))).toBeGreaterThan(0);
    const samples = drawSamples(test, 4, 9);
    const worst = await worstDifference(direct.bytes, fake.bytes, samples);
    expect(worst).toBeLessThan(1e-4);
    const back = await quantizeModel(fake.bytes, { mode: 'weight-only', executor });
    expect(back.summary.keptQuantization!.addedWeights).toEqual([]);
    expect(await worstDifference(direct.bytes, back.bytes, samples)).toBeLessThan(1e-4);
  });

  it('writes the weights inside If branches as float behind Q/DQ too, and brings them back', async () => {
    const r = createRandom(12);
    const branch = (name: string) =>
      createModel({
        opset: 13,
        graphName: name,
        inputs: [],
        outputs: [{ name: `${name}_out`, dtype: 'float32' }],
        initializers: { [`${name}_w`]: gaussianTensor([16, 16], r, 0.2) },
        nodes: [node('MatMul', ['h', `${name}_w`], [`${name}_out`], {}, `${name}_mm`)],
      }).graph;
    const model = createModel({
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 16] },
        { name: 'cond', dtype: 'bool', shape: [] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 16] }],
      initializers: { w: gaussianTensor([16, 16], r, 0.2) },
      nodes: [
        node('MatMul', ['x', 'w'], ['h'], {}, 'first'),
        node('If', ['cond'], ['y'], {
          then_branch: { type: 'graph', value: branch('then') },
          else_branch: { type: 'graph', value: branch('else') },
        }),
      ],
    });
    const sample = (random: () => number, cond: boolean) => ({
      x: randomTensor([1, 16], random),
      cond: createTensor('bool', [], Uint8Array.of(cond ? 1 : 0)),
    });
    const random = createRandom(4);
    const calibrationData = [sample(random, true), sample(random, false), sample(random, true)];
    const input = encodeModel(model);
    const direct = await quantizeModel(input, { mode: 'static', executor, calibrationData });
    const fake = await quantizeModel(input, {
      mode: 'static',
      executor,
      calibrationData,
      emit: 'fake-quant',
    });
    const written = decodeModel(fake.bytes);
    const ifNode = written.graph.nodes.find((n) => n.opType === 'If')!;
    for (const body of subgraphsOf(ifNode)) {
      const matMul = body.nodes.find((n) => n.opType === 'MatMul')!;
      const dequantize = body.producer(matMul.inputs[1]!)!;
      expect(dequantize.opType).toBe('DequantizeLinear');
      const quantize = body.producer(dequantize.inputs[0]!)!;
      expect(quantize.opType).toBe('QuantizeLinear');
      const weight = quantize.inputs[0]!;
      expect((body.getConstant(weight) ?? written.graph.getConstant(weight))?.dtype).toBe('float32');
    }
    // Back through quantkit: the branch weights return to integer codes, with the codes their Q computes.
    const back = await quantizeModel(fake.bytes, { mode: 'static', executor, calibrationData });
    const backIf = decodeModel(back.bytes).graph.nodes.find((n) => n.opType === 'If')!;
    for (const body of subgraphsOf(backIf)) {
      const matMul = body.nodes.find((n) => n.opType === 'MatMul')!;
      const dequantize = body.producer(matMul.inputs[1]!)!;
      expect(dequantize.opType).toBe('DequantizeLinear');
      expect(body.getConstant(dequantize.inputs[0]!)?.dtype).toBe('int8');
    }
    for (const cond of [true, false]) {
      const samples = [sample(createRandom(cond ? 5 : 6), cond)];
      expect(await worstDifference(direct.bytes, fake.bytes, samples)).toBeLessThan(1e-3);
      expect(await worstDifference(direct.bytes, back.bytes, samples)).toBeLessThan(1e-3);
    }
  });

  it('refuses modes and formats without a fake-quant form, naming the option', async () => {
    const input = encodeModel(mlpModel(2, 16).model);
    const dynamic = await quantizeModel(input, { mode: 'dynamic', emit: 'fake-quant' }).catch((e) => e);
    expect(QuantError.is(dynamic) && dynamic.code).toBe('INVALID_ARGUMENT');
    expect(dynamic.message).toMatch(/emit.*fake-quant.*static/);
    const qoperator = await quantizeModel(input, {
      mode: 'static',
      format: 'qoperator',
      emit: 'fake-quant',
    }).catch((e) => e);
    expect(QuantError.is(qoperator) && qoperator.code).toBe('UNSUPPORTED');
    expect(qoperator.message).toMatch(/format/);
    // 4-bit blocks are written as MatMulNBits (or blocked DequantizeLinear), which no Q -> DQ pair expresses.
    const blocks = await quantizeModel(input, {
      mode: 'weight-only',
      bits: 4,
      granularity: 'block',
      emit: 'fake-quant',
    }).catch((e) => e);
    expect(QuantError.is(blocks) && blocks.code).toBe('UNSUPPORTED');
    expect(blocks.message).toMatch(/granularity.*block/);
  });
});

/** Every Conv/Gemm/MatMul weight: integer initializer -> DequantizeLinear. */
function expectIntegerWeights(model: Model): number {
  const { graph } = model;
  let count = 0;
  for (const node of graph.nodes) {
    if (!['Conv', 'Gemm', 'MatMul'].includes(node.opType)) continue;
    const dequantize = graph.producer(node.inputs[1]!);
    expect(dequantize?.opType).toBe('DequantizeLinear');
    expect(graph.getConstant(dequantize!.inputs[0]!)?.dtype).toMatch(/int8/);
    count++;
  }
  return count;
}
