import { type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Graph, type Model, createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from './metrics.js';
import { qdqToQOperator } from './qoperator.js';
import { quantizeModel } from './quantize-model.js';
import {
  type TestModel,
  attentionModel,
  cnnModel,
  createRandom,
  gaussianTensor,
  mlpModel,
  node,
  randomTensor,
  drawSamples as samples,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

async function runAll(
  bytes: Uint8Array,
  inputs: Record<string, Tensor>[],
): Promise<Record<string, Tensor>[]> {
  const session = await executor.createSession(bytes);
  try {
    const results: Record<string, Tensor>[] = [];
    for (const feeds of inputs) results.push(await session.run(feeds));
    return results;
  } finally {
    await session.dispose();
  }
}

function maxAbsDifference(a: Tensor, b: Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  expect(x.length).toBe(y.length);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
  return max;
}

/** Scale of the DequantizeLinear writing graph output `name` (one output quantization step), if any. */
function outputStep(graph: Graph, name: string): number | undefined {
  const producer = graph.producer(name);
  if (producer?.opType !== 'DequantizeLinear') return undefined;
  return (graph.getConstant(producer.inputs[1]!)!.data as Float32Array)[0];
}

function opTypes(model: Model): string[] {
  return model.graph.nodes.map((n) => n.opType);
}

function count(model: Model, opType: string): number {
  return opTypes(model).filter((type) => type === opType).length;
}

/** Every node written for a converted op reads no DQ output and feeds no Q. */
function expectNoQdqAround(model: Model, names: readonly string[]): void {
  const { graph } = model;
  for (const name of names) {
    const nodes = graph.nodes.filter((n) => n.name === name);
    expect(nodes.length, name).toBeGreaterThan(0);
    for (const n of nodes) {
      for (const input of n.inputs) {
        expect([name, input, input === '' ? undefined : graph.producer(input)?.opType]).not.toEqual([
          name,
          input,
          'DequantizeLinear',
        ]);
      }
      for (const output of n.outputs) {
        expect(graph.consumers(output).map((c) => `${name}->${c.opType}`)).not.toContain(
          `${name}->QuantizeLinear`,
        );
      }
    }
  }
}

const ints = (value: number[]) => ({ type: 'ints' as const, value });

/**
 * The CNN with a branch through ops the planner does not quantize itself but which sit between quantized ops:
 * Conv -> {Sigmoid, LeakyRelu} -> Concat -> AveragePool -> Resize(nearest) -> Conv -> Relu -> GlobalAveragePool
 * -> Flatten -> Gemm -> Softmax (a float output).
 */
function branchedCnnModel(seed = 8): TestModel {
  const r = createRandom(seed);
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, 16, 16] }],
    outputs: [
      { name: 'logits', dtype: 'float32', shape: [1, 10] },
      { name: 'probs', dtype: 'float32', shape: [1, 10] },
    ],
    initializers: {
      wa: gaussianTensor([8, 3, 3, 3], r, 0.3),
      ba: randomTensor([8], r, 0.1),
      wb: gaussianTensor([8, 16, 3, 3], r, 0.15),
      bb: randomTensor([8], r, 0.1),
      wc: gaussianTensor([8, 10], r, 0.5),
      bc: randomTensor([10], r, 0.1),
      up_scales: createTensor('float32', [4], Float32Array.of(1, 1, 2, 2)),
    },
    nodes: [
      node('Conv', ['image', 'wa', 'ba'], ['a'], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }),
      node('Sigmoid', ['a'], ['s']),
      node('LeakyRelu', ['a'], ['l'], { alpha: { type: 'float', value: 0.1 } }),
      node('Concat', ['s', 'l'], ['cat'], { axis: { type: 'int', value: 1 } }),
      node('AveragePool', ['cat'], ['ap'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('Resize', ['ap', '', 'up_scales'], ['up'], { mode: { type: 'string', value: 'nearest' } }),
      node('Conv', ['up', 'wb', 'bb'], ['b'], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }),
      node('Relu', ['b'], ['rb']),
      node('GlobalAveragePool', ['rb'], ['g']),
      node('Flatten', ['g'], ['f'], { axis: { type: 'int', value: 1 } }),
      node('Gemm', ['f', 'wc', 'bc'], ['logits']),
      node('Softmax', ['logits'], ['probs'], { axis: { type: 'int', value: -1 } }),
    ],
  });
  return { model, sample: (random) => ({ image: randomTensor([1, 3, 16, 16], random) }) };
}

interface Case {
  readonly build: () => TestModel;
  /** Op types the QOperator model must contain, with their counts. */
  readonly expected: Record<string, number>;
  /** Op types kept in QDQ form, with the reason pattern. */
  readonly kept: Record<string, RegExp>;
}

const cases: Record<string, Case> = {
  CNN: {
    build: () => cnnModel(),
    expected: { QLinearConv: 2, MaxPool: 1, QLinearGlobalAveragePool: 1, Flatten: 1, QGemm: 1 },
    kept: {},
  },
  'CNN at opset 11 (com.microsoft per-channel DQ)': {
    build: () => cnnModel(5, 11),
    expected: { QLinearConv: 2, QLinearGlobalAveragePool: 1, Flatten: 1, QGemm: 1 },
    kept: { MaxPool: /opset 12/ },
  },
  MLP: { build: () => mlpModel(), expected: { QGemm: 3 }, kept: {} },
  'attention block': {
    build: () => attentionModel(),
    // The scores' Mul by 1/sqrt(d) is folded into the scale of the DequantizeLinear after it: no QLinearMul.
    expected: { QLinearMatMul: 6, QLinearAdd: 3, QLinearMul: 0, Transpose: 1, QLinearSoftmax: 1 },
    kept: {},
  },
  'CNN with Sigmoid/LeakyRelu/Concat/AveragePool/Resize branch': {
    build: () => branchedCnnModel(),
    expected: {
      QLinearConv: 2,
      QLinearSigmoid: 1,
      QLinearLeakyRelu: 1,
      QLinearConcat: 1,
      QLinearAveragePool: 1,
      Resize: 1,
      QLinearGlobalAveragePool: 1,
      Flatten: 1,
      QGemm: 1,
    },
    kept: { Softmax: /graph output in float/ },
  },
};

describe.each(Object.entries(cases))('%s', (_, { build, expected, kept }) => {
  const test = build();
  const floatBytes = encodeModel(test.model);

  it('converts to QOperator form that runs in onnxruntime-node like the QDQ model', async () => {
    const qdq = await quantizeModel(floatBytes, {
      mode: 'static',
      executor,
      calibrationData: samples(test, 16, 100),
    });
    const qdqBytes = encodeModel(qdq.model);
    const { model, converted, kept: keptNodes } = qdqToQOperator(qdq.model);
    // The input model is left as it was.
    expect(Buffer.from(encodeModel(qdq.model)).equals(Buffer.from(qdqBytes))).toBe(true);

    for (const [opType, n] of Object.entries(expected))
      expect([opType, count(model, opType)]).toEqual([opType, n]);
    expect(Object.fromEntries(keptNodes.map((k) => [k.opType, k.reason]))).toEqual(
      Object.fromEntries(
        Object.entries(kept).map(([opType, pattern]) => [opType, expect.stringMatching(pattern)]),
      ),
    );
    expectNoQdqAround(
      model,
      converted.map((c) => c.node),
    );
    // With everything converted, Q/DQ remain only at the graph's edges: a Q per input, a DQ per quantized output.
    if (Object.keys(kept).length === 0) {
      expect(count(model, 'QuantizeLinear')).toBe(model.graph.inputs.length);
      expect(count(model, 'DequantizeLinear')).toBe(model.graph.outputs.length);
    }
    expect(model.graph.inputs.map((i) => [i.name, i.dtype])).toEqual(
      test.model.graph.inputs.map((i) => [i.name, i.dtype]),
    );
    expect(model.graph.outputs.map((o) => [o.name, o.dtype])).toEqual(
      test.model.graph.outputs.map((o) => [o.name, o.dtype]),
    );
    const usesContribOps = model.graph.nodes.some((n) => n.domain === 'com.microsoft');
    expect(model.opsetImports.some((entry) => entry.domain === 'com.microsoft')).toBe(usesContribOps);

    const evaluation = samples(test, 6, 200);
    const bytes = encodeModel(model);
    const [reference, quantized, converted_] = await Promise.all([
      runAll(floatBytes, evaluation),
      runAll(qdqBytes, evaluation),
      runAll(bytes, evaluation),
    ]);
    const metrics = createMetricsAccumulator();
    for (const [i, expectedOutputs] of reference.entries()) {
      for (const { name } of test.model.graph.outputs) {
        const actual = converted_[i]![name]!;
        metrics.add(expectedOutputs[name]!, actual, name);
        // Same integer math as onnxruntime's fused QDQ kernels: within two output steps of the QDQ model.
        const step = outputStep(qdq.model.graph, name);
        if (step !== undefined)
          expect(maxAbsDifference(quantized[i]![name]!, actual)).toBeLessThanOrEqual(2 * step);
      }
    }
    expect(metrics.result().sqnr).toBeGreaterThanOrEqual(30);
  });
});

describe('nodes that stay in QDQ form', () => {
  async function quantizedCnn(): Promise<Model> {
    const test = cnnModel();
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples(test, 8, 7),
    });
    return result.model;
  }

  it('keeps a Conv whose int32 bias is not at input scale x weight scale', async () => {
    const model = await quantizedCnn();
    const scale = model.graph.initializers.get('b2_scale')!;
    model.graph.initializers.set(
      'b2_scale',
      createTensor(
        'float32',
        scale.shape,
        Float32Array.from(scale.data as Float32Array, (s) => s * 2),
      ),
    );
    const { model: converted, kept } = qdqToQOperator(model);
    expect(kept).toEqual([
      {
        node: 'Conv_c2',
        opType: 'Conv',
        reason: expect.stringMatching(/bias "b2_quantized" scale .* not input scale x weight scale/),
      },
    ]);
    expect(count(converted, 'Conv')).toBe(1);
    expect(count(converted, 'QLinearConv')).toBe(1);
    // The kept Conv still reads its DQ inputs, which therefore survive the clean-up.
    const conv = converted.graph.nodes.find((n) => n.opType === 'Conv')!;
    for (const input of conv.inputs) expect(converted.graph.producer(input)?.opType).toBe('DequantizeLinear');
    await expect(runAll(encodeModel(converted), samples(cnnModel(), 1, 3))).resolves.toHaveLength(1);
  });

  it('keeps a Conv whose per-channel weight zero points differ (onnxruntime needs one)', async () => {
    const model = await quantizedCnn();
    const zeroPoint = model.graph.initializers.get('w2_zero_point')!;
    const data = Int8Array.from(zeroPoint.data as Int8Array, (_, i) => i % 2);
    model.graph.initializers.set('w2_zero_point', createTensor('int8', zeroPoint.shape, data));
    const { kept } = qdqToQOperator(model);
    expect(kept.map((k) => [k.node, k.reason])).toEqual([
      ['Conv_c2', expect.stringMatching(/differing per-channel zero points/)],
    ]);
  });
});

describe('a MatMul whose output is not quantized', () => {
  it('becomes MatMulInteger + Cast + Mul with per-column weight scales', async () => {
    const r = createRandom(21);
    const weight = gaussianTensor([16, 8], r, 0.3);
    const codes = new Int8Array(16 * 8);
    const columnScales = new Float32Array(8);
    for (let c = 0; c < 8; c++) {
      let max = 0;
      for (let k = 0; k < 16; k++) max = Math.max(max, Math.abs(weight.data[k * 8 + c]!));
      columnScales[c] = max / 127;
      for (let k = 0; k < 16; k++) codes[k * 8 + c] = Math.round(weight.data[k * 8 + c]! / columnScales[c]!);
    }
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [3, 16] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3, 8] }],
      initializers: {
        x_scale: createTensor('float32', [], Float32Array.of(2 / 255)),
        x_zero_point: createTensor('uint8', [], Uint8Array.of(128)),
        w_quantized: createTensor('int8', [16, 8], codes),
        w_scale: createTensor('float32', [8], columnScales),
        w_zero_point: createTensor('int8', [8], new Int8Array(8)),
      },
      nodes: [
        node('QuantizeLinear', ['x', 'x_scale', 'x_zero_point'], ['x_q']),
        node('DequantizeLinear', ['x_q', 'x_scale', 'x_zero_point'], ['x_dq']),
        node('DequantizeLinear', ['w_quantized', 'w_scale', 'w_zero_point'], ['w'], {
          axis: { type: 'int', value: 1 },
        }),
        node('MatMul', ['x_dq', 'w'], ['y'], {}, 'projection'),
      ],
    });
    const { model: converted, converted: list, kept } = qdqToQOperator(model);
    expect(list).toEqual([{ node: 'projection', from: 'MatMul', to: 'MatMulInteger + Cast + Mul' }]);
    expect(kept).toEqual([]);
    expect(opTypes(converted).sort()).toEqual(['Cast', 'MatMulInteger', 'Mul', 'QuantizeLinear']);
    // Only ONNX-domain ops were written, so no contrib import.
    expect(converted.opsetImports.map((entry) => entry.domain)).toEqual(['']);
    const inputs = Array.from({ length: 3 }, () => ({ x: randomTensor([3, 16], r) }));
    const [qdq, integer] = await Promise.all([
      runAll(encodeModel(model), inputs),
      runAll(encodeModel(converted), inputs),
    ]);
    for (const [i, outputs] of qdq.entries()) {
      // Both sum exact integer products; only float rounding of the rescale differs.
      expect(maxAbsDifference(outputs['y']!, integer[i]!['y']!)).toBeLessThan(1e-4);
    }
  });
});

describe('QLinearAdd / QLinearMul input order', () => {
  /** a, b -> Q -> DQ -> op -> Q -> DQ -> y, with the given per-tensor parameters. */
  function binaryModel(opType: 'Add' | 'Mul', params: { scale: number; zeroPoint: number }[]): Model {
    const initializers: Record<string, Tensor> = {};
    const names = ['a', 'b', 'y'];
    names.forEach((name, i) => {
      initializers[`${name}_scale`] = createTensor('float32', [], Float32Array.of(params[i]!.scale));
      initializers[`${name}_zero_point`] = createTensor('uint8', [], Uint8Array.of(params[i]!.zeroPoint));
    });
    const qdq = (name: string) => [
      node('QuantizeLinear', [name, `${name}_scale`, `${name}_zero_point`], [`${name}_q`]),
      node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zero_point`], [`${name}_dq`]),
    ];
    return createModel({
      opset: 13,
      inputs: [
        { name: 'a', dtype: 'float32', shape: [4, 8] },
        { name: 'b', dtype: 'float32', shape: [8] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [4, 8] }],
      initializers,
      nodes: [
        ...qdq('a'),
        ...qdq('b'),
        node(opType, ['a_dq', 'b_dq'], ['y_float']),
        node('QuantizeLinear', ['y_float', 'y_scale', 'y_zero_point'], ['y_q']),
        node('DequantizeLinear', ['y_q', 'y_scale', 'y_zero_point'], ['y']),
      ],
    });
  }

  it('gives the QDQ result within one output step for any per-tensor parameters', async () => {
    const param = fc.record({
      scale: fc.double({ min: 0.002, max: 0.05, noNaN: true }).map(Math.fround),
      zeroPoint: fc.integer({ min: 0, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Add' as const, 'Mul' as const),
        fc.tuple(param, param, param),
        fc.integer(),
        async (opType, params, seed) => {
          const model = binaryModel(opType, params);
          const { model: converted, converted: list } = qdqToQOperator(model);
          expect(list.map((c) => c.to)).toEqual([`QLinear${opType}`]);
          const random = createRandom(seed);
          const inputs = [{ a: randomTensor([4, 8], random, 2), b: randomTensor([8], random, 2) }];
          const [qdq, qlinear] = await Promise.all([
            runAll(encodeModel(model), inputs),
            runAll(encodeModel(converted), inputs),
          ]);
          expect(maxAbsDifference(qdq[0]!['y']!, qlinear[0]!['y']!)).toBeLessThanOrEqual(
            params[2].scale * 1.001,
          );
        },
      ),
      { numRuns: 12, seed: 4 },
    );
  });
});

describe('input checks', () => {
  it('decodes what it encodes: the QOperator model survives a save/load round trip', async () => {
    const test = mlpModel();
    const qdq = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples(test, 4, 1),
    });
    const { model } = qdqToQOperator(qdq.model);
    const decoded = decodeModel(encodeModel(model));
    expect(opTypes(decoded)).toEqual(opTypes(model));
    expect(decoded.graph.nodes.find((n) => n.opType === 'QGemm')!.domain).toBe('com.microsoft');
  });
});
