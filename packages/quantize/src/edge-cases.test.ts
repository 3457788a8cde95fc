// Shapes real models take that the main tests do not: tied weights with overrides, unnamed nodes, -inf masks,
// constants read twice by one node, and combinations of options that must be refused up front.
import { QuantError, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, createRandom, gaussianTensor, mlpModel, node, randomTensor } from './test-models.js';
import { storedCodes } from './packed-codes.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });
const random = createRandom(141);

function tiedModel() {
  return createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 32] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, 32] }],
    initializers: { w: gaussianTensor([32, 32], createRandom(1), 0.2) },
    nodes: [node('MatMul', ['x', 'w'], ['h'], {}, 'mm_a'), node('MatMul', ['h', 'w'], ['y'], {}, 'mm_b')],
  });
}

describe('edge cases', () => {
  it('gives a tied weight its own copy when a per-node override quantizes it differently', async () => {
    const result = await quantizeModel(encodeModel(tiedModel()), {
      mode: 'weight-only',
      bits: 8,
      overrides: { nodes: { mm_b: { bits: 4 } } },
    });
    const { graph } = result.model;
    const codesOf = (name: string) =>
      storedCodes(graph, graph.producer(graph.nodes.find((n) => n.name === name)!.inputs[1]!)!.inputs[0]!)!;
    expect(Math.max(...Array.from(codesOf('mm_a').data as Int8Array, Math.abs))).toBeGreaterThan(100);
    expect(Math.max(...Array.from(codesOf('mm_b').data as Int8Array, Math.abs))).toBeLessThanOrEqual(7);
  });

  it('names unnamed nodes, so reports and exclusions still see every node', async () => {
    const test = cnnModel(142);
    for (const n of test.model.graph.nodes) n.name = '';
    test.model.graph.invalidate();
    const samples = Array.from({ length: 4 }, () => test.sample(random));
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
      report: {},
    });
    expect(result.report!.layers.filter((layer) => layer.opType === 'Conv').length).toBe(2);
    expect(new Set(result.summary.nodes.map((n) => n.name)).size).toBe(result.summary.nodes.length);
    const fp16 = await quantizeModel(encodeModel(test.model), { mode: 'float', exclude: ['Flatten'] });
    expect([...fp16.model.graph.initializers.values()].some((t) => t.dtype === 'float16')).toBe(true);
  });

  it('keeps a node with a -Infinity mask float instead of failing the run', async () => {
    const mask = createTensor(
      'float32',
      [4, 4],
      Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 0 : -Infinity)),
    );
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [4, 8] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [4, 4] }],
      initializers: { w: gaussianTensor([8, 4], createRandom(2), 0.3), mask },
      nodes: [
        node('MatMul', ['x', 'w'], ['s']),
        node('Add', ['s', 'mask'], ['masked']),
        node('Softmax', ['masked'], ['y']),
      ],
    });
    const samples = Array.from({ length: 4 }, () => ({ x: randomTensor([4, 8], random) }));
    const result = await quantizeModel(encodeModel(model), {
      mode: 'static',
      executor,
      calibrationData: samples,
    });
    const add = result.summary.nodes.find((n) => n.opType === 'Add')!;
    expect(add.quantized).toBe(false);
    expect(add.reason).toMatch(/non-finite/);
    const session = await executor.createSession(result.bytes);
    const y = (await session.run(samples[0]!)).y!.data as Float32Array;
    await session.dispose();
    expect(y.every(Number.isFinite)).toBe(true);
  });

  it('stores a constant a node reads twice once, leaving no dead DequantizeLinear', async () => {
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8] }],
      initializers: {
        w: gaussianTensor([4, 4], createRandom(3), 0.5),
        pad: randomTensor([1, 2], createRandom(4)),
      },
      nodes: [
        node('MatMul', ['x', 'w'], ['h']),
        node('Concat', ['pad', 'h', 'pad'], ['y'], { axis: { type: 'int', value: 1 } }),
      ],
    });
    const samples = Array.from({ length: 4 }, () => ({ x: randomTensor([1, 4], random) }));
    const result = await quantizeModel(encodeModel(model), {
      mode: 'static',
      executor,
      calibrationData: samples,
    });
    const { graph } = result.model;
    for (const dq of graph.nodes.filter((n) => n.opType === 'DequantizeLinear')) {
      expect(
        graph.consumers(dq.outputs[0]!).length + (graph.isOutput(dq.outputs[0]!) ? 1 : 0),
      ).toBeGreaterThan(0);
    }
  });

  it('keeps the first and last layers of a binary network int8 with int32 biases in static mode', async () => {
    const test = cnnModel(143);
    const samples = Array.from({ length: 4 }, () => test.sample(random));
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      quantizer: 'binary',
      executor,
      calibrationData: samples,
    });
    const { graph } = result.model;
    for (const n of graph.nodes.filter((x) => x.opType === 'Conv' || x.opType === 'Gemm')) {
      expect(graph.initializers.get(graph.producer(n.inputs[2]!)!.inputs[0]!)!.dtype).toBe('int32');
    }
  });

  it('keeps the names of nodes it rewrites (MatMulNBits, DynamicQuantizeMatMul)', async () => {
    const bytes = encodeModel(tiedModel());
    const q4 = await quantizeModel(bytes, { mode: 'weight-only', granularity: 'block', bits: 4 });
    expect(q4.model.graph.nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => n.name)).toEqual([
      'mm_a',
      'mm_b',
    ]);
    const dynamic = await quantizeModel(bytes, { mode: 'dynamic' });
    expect(
      dynamic.model.graph.nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul').map((n) => n.name),
    ).toEqual(['mm_a', 'mm_b']);
  });

  it('runs dynamic Conv with asymmetric weights asked for (one zero point for ConvInteger)', async () => {
    const test = cnnModel(144);
    const result = await quantizeModel(encodeModel(test.model), { mode: 'dynamic', symmetric: false });
    const session = await executor.createSession(result.bytes);
    const out = (await session.run(test.sample(random))).logits!.data as Float32Array;
    await session.dispose();
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('refuses combinations that would write a broken model, before doing any work', async () => {
    const bytes = encodeModel(mlpModel(145, 32).model);
    const refused = (promise: Promise<unknown>, pattern: RegExp) =>
      expect(promise).rejects.toSatisfy(
        (error) => QuantError.is(error) && pattern.test((error as Error).message),
      );
    await refused(
      quantizeModel(bytes, { mode: 'weight-only', granularity: 'block', bits: 4, weightRange: 'mse' }),
      /does not apply to granularity "block"/,
    );
    await refused(
      quantizeModel(bytes, { mode: 'dynamic', overrides: { nodes: { Gemm_h2: { bits: 4 } } } }),
      /dynamic mode runs 8-bit/,
    );
    const wide = mlpModel(146, 32);
    (wide.model.graph.initializers.get('w2')!.data as Float32Array)[0] = 40;
    await refused(
      quantizeModel(encodeModel(wide.model), { mode: 'dynamic', quantizer: 'log', bits: 8 }),
      /table-indexed codes/,
    );
  });
});
