import { QuantError, type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Attribute, type Model, type Node, createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import {
  type TestModel,
  createRandom,
  drawSamples,
  gaussianTensor,
  node,
  randomTensor,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

interface QatForm {
  readonly opset: number;
  /** Per-channel weight scales (axis 0); opset 10 has only per-tensor ONNX Q/DQ. */
  readonly perChannel: boolean;
  /** 'float': float W -> Q -> DQ (PyTorch); 'integer': int8 codes -> DQ (TensorFlow, ORT). */
  readonly weights: 'float' | 'integer';
  /** Q/DQ domain: ONNX, or com.microsoft. */
  readonly domain?: '' | 'com.microsoft';
  /** Opset 21: QuantizeLinear without zero point, its code type named by output_dtype. */
  readonly outputDtype?: boolean;
  /**
   * Conv biases as int32 codes -> DQ (as onnxruntime's quantizer writes them), not float: onnxruntime cannot load a
   * float bias between dequantized data and weight below opset 13 (it quantizes it itself, with Round).
   */
  readonly integerBiases?: boolean;
  /** Activation scales and zero points as Constant nodes (as torch.onnx.export often writes them). */
  readonly constantNodes?: boolean;
}

/** ONNX QuantizeLinear as onnxruntime computes it, run on `values`: the reference for weight codes. */
async function ortQuantize(values: Tensor<'float32'>, scale: Float32Array, axis: number | undefined) {
  const perChannel = axis !== undefined;
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'w', dtype: 'float32', shape: [...values.shape] }],
    outputs: [{ name: 'q', dtype: 'int8', shape: [...values.shape] }],
    initializers: {
      s: createTensor('float32', perChannel ? [scale.length] : [], scale),
      z: createTensor('int8', perChannel ? [scale.length] : [], new Int8Array(scale.length)),
    },
    nodes: [
      { opType: 'QuantizeLinear', inputs: ['w', 's', 'z'], outputs: ['q'], attributes: { axis: axis ?? 1 } },
    ],
  });
  const session = await executor.createSession(encodeModel(model));
  try {
    return (await session.run({ w: values }))['q']!;
  } finally {
    await session.dispose();
  }
}

const CONV = {
  kernel_shape: { type: 'ints' as const, value: [3, 3] },
  pads: { type: 'ints' as const, value: [1, 1, 1, 1] },
};

/**
 * A PyTorch-style QAT export: input Q/DQ -> Conv (W -> Q -> DQ) -> Relu -> Q/DQ -> Conv (W -> Q -> DQ) -> Q/DQ,
 * then a float part the training left alone: Relu -> GlobalAveragePool -> Flatten -> Gemm.
 */
function qatModel(form: QatForm) {
  const r = createRandom(21);
  const domain = form.domain ?? '';
  const w1 = gaussianTensor([8, 3, 3, 3], r, 0.3);
  const w2 = gaussianTensor([8, 8, 3, 3], r, 0.15);
  const weightScale = (w: Tensor<'float32'>) => {
    const channels = w.shape[0]!;
    const per = w.data.length / channels;
    const maxima = Array.from({ length: channels }, (_, c) =>
      Math.max(...Array.from(w.data.subarray(c * per, (c + 1) * per), Math.abs)),
    );
    return form.perChannel
      ? Float32Array.from(maxima, (m) => m / 127)
      : Float32Array.of(Math.max(...maxima) / 127);
  };
  // By the names the values keep: the dequantized ones, which the readers knew (the graph input keeps its own).
  const scales = { x: 0.0078125, r1_dq: 0.0123, c2_dq: 0.0171 };
  const initializers: Record<string, Tensor> = {
    w1,
    b1: randomTensor([8], r, 0.1),
    w2,
    b2: randomTensor([8], r, 0.1),
    w3: gaussianTensor([8, 10], r, 0.3),
    b3: randomTensor([10], r, 0.1),
  };
  const nodes: Node[] = [];
  const pair = (value: string, scale: number, zeroPoint: number) => {
    initializers[`${value}_scale`] = createTensor('float32', [], Float32Array.of(scale));
    const withZero = !(form.outputDtype && zeroPoint === 0);
    if (withZero) initializers[`${value}_zp`] = createTensor('uint8', [], Uint8Array.of(zeroPoint));
    const inputs = [value, `${value}_scale`, ...(withZero ? [`${value}_zp`] : [])];
    nodes.push({
      ...node(
        'QuantizeLinear',
        inputs,
        [`${value}_q`],
        withZero ? {} : { output_dtype: { type: 'int', value: 2 } },
      ),
      domain,
    });
    nodes.push({ ...node('DequantizeLinear', [`${value}_q`, ...inputs.slice(1)], [`${value}_dq`]), domain });
    if (!form.constantNodes) return;
    for (const name of inputs.slice(1)) {
      nodes.unshift(node('Constant', [], [name], { value: { type: 'tensor', value: initializers[name]! } }));
      delete initializers[name];
    }
  };
  const weight = (name: string, w: Tensor<'float32'>) => {
    const scale = weightScale(w);
    const dims = form.perChannel ? [scale.length] : [];
    initializers[`${name}_scale`] = createTensor('float32', dims, scale);
    initializers[`${name}_zp`] = createTensor('int8', dims, new Int8Array(scale.length));
    const axis: Record<string, Attribute> = form.perChannel ? { axis: { type: 'int', value: 0 } } : {};
    if (form.weights === 'float') {
      nodes.push({
        ...node('QuantizeLinear', [name, `${name}_scale`, `${name}_zp`], [`${name}_q`], axis),
        domain,
      });
    } else {
      // The integer form stores what the Q would have made; the test's own rounding is enough to build it.
      const per = w.data.length / scale.length;
      const codes = Int8Array.from(w.data, (v, i) =>
        Math.max(-128, Math.min(127, Math.round(v / scale[Math.floor(i / per) % scale.length]!))),
      );
      initializers[`${name}_q`] = createTensor('int8', [...w.shape], codes);
      delete initializers[name];
    }
    nodes.push({
      ...node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zp`], [`${name}_dq`], axis),
      domain,
    });
    return scale;
  };
  const bias = (name: string, inputScale: number, weightScales: Float32Array) => {
    if (!form.integerBiases) return name;
    const float = initializers[name] as Tensor<'float32'>;
    const scale = Float32Array.from(
      float.data,
      (_, c) => inputScale * weightScales[c % weightScales.length]!,
    );
    initializers[`${name}_codes`] = createTensor(
      'int32',
      [...float.shape],
      Int32Array.from(float.data, (value, c) => Math.round(value / scale[c]!)),
    );
    initializers[`${name}_scale`] = createTensor('float32', [scale.length], scale);
    delete initializers[name];
    nodes.push({
      ...node('DequantizeLinear', [`${name}_codes`, `${name}_scale`], [`${name}_dq`], {
        axis: { type: 'int', value: 0 },
      }),
      domain: form.opset < 13 ? 'com.microsoft' : '',
    });
    return `${name}_dq`;
  };
  pair('x', scales.x, 128);
  const w1Scale = weight('w1', w1);
  nodes.push(node('Conv', ['x_dq', 'w1_dq', bias('b1', scales.x, w1Scale)], ['c1'], CONV, 'conv1'));
  nodes.push(node('Relu', ['c1'], ['r1'], {}, 'relu1'));
  pair('r1', scales.r1_dq, 0);
  const w2Scale = weight('w2', w2);
  nodes.push(node('Conv', ['r1_dq', 'w2_dq', bias('b2', scales.r1_dq, w2Scale)], ['c2'], CONV, 'conv2'));
  pair('c2', scales.c2_dq, 128);
  nodes.push(node('Relu', ['c2_dq'], ['r2'], {}, 'relu2'));
  nodes.push(node('GlobalAveragePool', ['r2'], ['gap'], {}, 'gap'));
  nodes.push(node('Flatten', ['gap'], ['flat'], { axis: { type: 'int', value: 1 } }, 'flatten'));
  nodes.push(node('Gemm', ['flat', 'w3', 'b3'], ['logits'], {}, 'fc'));
  const model = createModel({
    opset: form.opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 10] }],
    initializers,
    nodes,
    ...((domain === 'com.microsoft' || (form.integerBiases && form.opset < 13)) && {
      extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
    }),
  });
  const test: TestModel = { model, sample: (random) => ({ x: randomTensor([1, 3, 8, 8], random) }) };
  return { test, scales, weightScales: { w1: w1Scale, w2: w2Scale }, floats: { w1, w2 } };
}

/**
 * The scale and codes behind the DequantizeLinear that writes `value`, or for a graph input, the one after the
 * QuantizeLinear that reads it.
 */
function dequantizeOf(model: Model, value: string) {
  const { graph } = model;
  const quantize = graph.isInput(value)
    ? graph.consumers(value).find((n) => n.opType === 'QuantizeLinear')
    : undefined;
  const dequantize =
    quantize === undefined ? graph.producer(value) : graph.consumers(quantize.outputs[0]!)[0];
  if (dequantize?.opType !== 'DequantizeLinear') throw new Error(`"${value}" is not dequantized`);
  const constant = (slot: number) => graph.getConstant(dequantize.inputs[slot]!);
  return { scale: constant(1)!, zeroPoint: constant(2), codes: constant(0), node: dequantize };
}

async function outputsOf(bytes: Uint8Array, samples: Record<string, Tensor>[], output = 'logits') {
  const session = await executor.createSession(bytes);
  try {
    const outputs: Float32Array[] = [];
    for (const sample of samples) outputs.push((await session.run(sample))[output]!.data as Float32Array);
    return outputs;
  } finally {
    await session.dispose();
  }
}

/** Worst absolute difference over the samples, and the largest reference magnitude. */
function compare(expected: Float32Array[], actual: Float32Array[]) {
  let worst = 0;
  let largest = 0;
  for (const [s, values] of expected.entries()) {
    for (const [i, value] of values.entries()) {
      expect(Number.isFinite(actual[s]![i]!)).toBe(true);
      worst = Math.max(worst, Math.abs(value - actual[s]![i]!));
      largest = Math.max(largest, Math.abs(value));
    }
  }
  return { worst, largest };
}

const FORMS: QatForm[] = [
  { opset: 10, perChannel: false, weights: 'float', integerBiases: true },
  { opset: 13, perChannel: true, weights: 'float' },
  { opset: 13, perChannel: true, weights: 'integer' },
  { opset: 17, perChannel: true, weights: 'float', constantNodes: true },
  { opset: 19, perChannel: true, weights: 'float' },
  { opset: 21, perChannel: true, weights: 'float' },
  { opset: 21, perChannel: true, weights: 'integer', outputDtype: true, integerBiases: true },
  { opset: 11, perChannel: true, weights: 'float', domain: 'com.microsoft', integerBiases: true },
];

describe('importing a quantization-aware-trained model', () => {
  for (const form of FORMS) {
    const label = `opset ${form.opset}, ${form.perChannel ? 'per-channel' : 'per-tensor'} ${form.weights} weights${form.domain ? `, ${form.domain}` : ''}${form.outputDtype ? ', output_dtype' : ''}${form.constantNodes ? ', Constant-node scales' : ''}`;
    it(`keeps the model's scales and codes bit for bit and quantizes the rest (${label})`, async () => {
      const { test, scales, weightScales, floats } = qatModel(form);
      const input = encodeModel(test.model);
      const calibration = drawSamples(test, 8, 5);
      const result = await quantizeModel(input, { mode: 'static', executor, calibrationData: calibration });
      const output = decodeModel(result.bytes);

      // The model's own Q/DQ, and the Constant nodes holding their parameters, are gone: only quantkit's remain.
      expect(output.graph.nodes.filter((n) => n.opType === 'Constant')).toEqual([]);
      for (const [name, scale] of Object.entries(scales)) {
        const { scale: written } = dequantizeOf(output, name);
        expect(written.data).toEqual(Float32Array.of(scale));
      }
      for (const name of ['w1', 'w2'] as const) {
        const conv = output.graph.nodes.find((n) => n.name === (name === 'w1' ? 'conv1' : 'conv2'))!;
        const { scale, codes, node: dequantize } = dequantizeOf(output, conv.inputs[1]!);
        expect(scale.data).toEqual(weightScales[name]);
        expect(codes!.dtype).toBe('int8');
        if (form.weights === 'float') {
          // Exactly the codes onnxruntime's QuantizeLinear makes of the float weight.
          const reference = await ortQuantize(
            floats[name],
            weightScales[name],
            form.perChannel ? 0 : undefined,
          );
          expect(Array.from(codes!.data as Int8Array)).toEqual(Array.from(reference.data as Int8Array));
        }
        if (form.perChannel) expect(dequantize.attributes.get('axis')).toEqual({ type: 'int', value: 0 });
      }
      // The float part is quantized by quantkit; only its tensors were calibrated.
      const kept = result.summary.keptQuantization!;
      expect(kept.keptActivations).toEqual(expect.arrayContaining(['x', 'r1_dq', 'c2_dq']));
      expect(kept.keptWeights).toEqual(form.weights === 'float' ? ['w1', 'w2'] : ['w1_dq', 'w2_dq']);
      expect(kept.addedWeights).toEqual(['w3']);
      expect(kept.addedActivations.length).toBeGreaterThan(0);
      const calibrated = Object.keys(result.calibrationCache!.tensors);
      expect(calibrated.length).toBeGreaterThan(0);
      for (const name of ['x', 'r1', 'r1_dq', 'c2', 'c2_dq']) expect(calibrated).not.toContain(name);
      expect(
        dequantizeOf(output, output.graph.nodes.find((n) => n.opType === 'Gemm')!.inputs[1]!).codes!.dtype,
      ).toBe('int8');
      expect(result.plan.decisions.find((d) => d.name === 'conv1')!.reason).toMatch(/kept from the model/);
      // Verification runs the input beside the output, and onnxruntime cannot load the output_dtype form (below);
      // the output itself is loaded and run there.
      expect(result.summary.verification?.verified).toBe(form.outputDtype !== true);

      // The output computes what the QAT model computes in onnxruntime, up to the float part's quantization.
      const samples = drawSamples(test, 4, 99);
      // onnxruntime 1.23 fails to load a QuantizeLinear without zero point next to Conv ("two nodes with same node
      // name"); the same model with its zero points written out, which ONNX defines as equal, is the reference.
      const reference = form.outputDtype
        ? encodeModel(qatModel({ ...form, outputDtype: false }).test.model)
        : input;
      const qatOutputs = await outputsOf(reference, samples);
      const { worst, largest } = compare(qatOutputs, await outputsOf(result.bytes, samples));
      expect(worst).toBeLessThan(0.05 * largest);
    });
  }

  it('PyTorch fake quant on the inputs and weights of Gemm (transB) and MatMul (axis 1): outputs quantized too', async () => {
    const r = createRandom(5);
    const w1 = gaussianTensor([32, 16], r, 0.25); // Gemm transB: [N, K], channels on axis 0
    const w2 = gaussianTensor([32, 8], r, 0.2); // MatMul: [K, N], channels on axis 1
    const maxima = (w: Tensor<'float32'>, axis: number) => {
      const [rows, columns] = w.shape as [number, number];
      const count = axis === 0 ? rows : columns;
      return Float32Array.from({ length: count }, (_, c) => {
        let largest = 0;
        for (let i = 0; i < (axis === 0 ? columns : rows); i++)
          largest = Math.max(largest, Math.abs(w.data[axis === 0 ? c * columns + i : i * columns + c]!));
        return largest / 127;
      });
    };
    const w1Scale = maxima(w1, 0);
    const w2Scale = maxima(w2, 1);
    const scalar = (value: number) => createTensor('float32', [], Float32Array.of(value));
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8] }],
      initializers: {
        w1,
        w2,
        b1: randomTensor([32], r, 0.1),
        w1_scale: createTensor('float32', [32], w1Scale),
        w1_zp: createTensor('int8', [32], new Int8Array(32)),
        w2_scale: createTensor('float32', [8], w2Scale),
        w2_zp: createTensor('int8', [8], new Int8Array(8)),
        x_scale: scalar(0.0079),
        x_zp: createTensor('uint8', [], Uint8Array.of(127)),
        h_scale: scalar(0.011),
        h_zp: createTensor('uint8', [], Uint8Array.of(0)),
      },
      nodes: [
        node('QuantizeLinear', ['x', 'x_scale', 'x_zp'], ['x_q']),
        node('DequantizeLinear', ['x_q', 'x_scale', 'x_zp'], ['x_dq']),
        node('QuantizeLinear', ['w1', 'w1_scale', 'w1_zp'], ['w1_q'], { axis: { type: 'int', value: 0 } }),
        node('DequantizeLinear', ['w1_q', 'w1_scale', 'w1_zp'], ['w1_dq'], {
          axis: { type: 'int', value: 0 },
        }),
        node('Gemm', ['x_dq', 'w1_dq', 'b1'], ['h'], { transB: { type: 'int', value: 1 } }, 'fc1'),
        node('Relu', ['h'], ['a'], {}, 'relu'),
        node('QuantizeLinear', ['a', 'h_scale', 'h_zp'], ['a_q']),
        node('DequantizeLinear', ['a_q', 'h_scale', 'h_zp'], ['a_dq']),
        node('QuantizeLinear', ['w2', 'w2_scale', 'w2_zp'], ['w2_q'], { axis: { type: 'int', value: 1 } }),
        node('DequantizeLinear', ['w2_q', 'w2_scale', 'w2_zp'], ['w2_dq'], {
          axis: { type: 'int', value: 1 },
        }),
        node('MatMul', ['a_dq', 'w2_dq'], ['y'], {}, 'fc2'),
      ],
    });
    const test: TestModel = { model, sample: (random) => ({ x: randomTensor([1, 16], random) }) };
    const input = encodeModel(model);
    const result = await quantizeModel(input, {
      mode: 'static',
      executor,
      calibrationData: drawSamples(test, 8, 1),
    });
    const output = decodeModel(result.bytes);
    const { graph } = output;
    for (const [name, expected, axis] of [
      ['fc1', w1Scale, 0],
      ['fc2', w2Scale, 1],
    ] as const) {
      const compute = graph.nodes.find((n) => n.name === name)!;
      const weight = dequantizeOf(output, compute.inputs[1]!);
      expect(weight.scale.data).toEqual(expected);
      expect(weight.node.attributes.get('axis')).toEqual({ type: 'int', value: axis });
      const reference = await ortQuantize(name === 'fc1' ? w1 : w2, expected, axis);
      expect(Array.from(weight.codes!.data as Int8Array)).toEqual(Array.from(reference.data as Int8Array));
      // Dequantized data and weight in, a QuantizeLinear on the output: onnxruntime runs it on integers.
      expect(graph.producer(compute.inputs[0]!)?.opType).toBe('DequantizeLinear');
      expect(graph.consumers(compute.outputs[0]!).map((n) => n.opType)).toContain('QuantizeLinear');
    }
    // The outputs the export left float (fc1's, fc2's) were added and calibrated.
    const points = result.summary.keptQuantization!;
    expect(points.keptWeights).toEqual(['w1', 'w2']);
    expect(points.addedActivations).toEqual(expect.arrayContaining(['y']));
    expect(Object.keys(result.calibrationCache!.tensors)).toEqual(expect.arrayContaining(['y']));
    const samples = drawSamples(test, 4, 8);
    const session = await executor.createSession(input);
    const quantized = await executor.createSession(result.bytes);
    try {
      for (const sample of samples) {
        const expected = (await session.run(sample))['y']!.data as Float32Array;
        const actual = (await quantized.run(sample))['y']!.data as Float32Array;
        const largest = Math.max(...Array.from(expected, Math.abs));
        for (const [i, value] of actual.entries())
          expect(Math.abs(value - expected[i]!)).toBeLessThan(0.05 * largest);
      }
    } finally {
      await session.dispose();
      await quantized.dispose();
    }
  });

  it('a Mul folded into a second DequantizeLinear of the same codes comes back as the Mul with its own pair', async () => {
    const r = createRandom(9);
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 6, 6] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 6, 6] }],
      initializers: {
        w1: gaussianTensor([4, 4, 3, 3], r, 0.3),
        w2: gaussianTensor([4, 4, 3, 3], r, 0.3),
        sixth: createTensor('float32', [], Float32Array.of(1 / 6)),
      },
      nodes: [
        node('Conv', ['x', 'w1'], ['c1'], CONV, 'conv1'),
        node('Mul', ['c1', 'sixth'], ['m'], {}, 'scale'),
        node('Conv', ['m', 'w2'], ['y'], CONV, 'conv2'),
      ],
    });
    const test: TestModel = { model, sample: (random) => ({ x: randomTensor([1, 4, 6, 6], random) }) };
    const first = await quantizeModel(encodeModel(model), {
      mode: 'static',
      executor,
      calibrationData: drawSamples(test, 8, 2),
    });
    // The folded form: two DequantizeLinear nodes read conv1's codes, the second with the scale over 6.
    const written = decodeModel(first.bytes);
    expect(written.graph.nodes.some((n) => n.name === 'scale')).toBe(false);
    const again = await quantizeModel(first.bytes, { mode: 'static', executor });
    expect(again.summary.keptQuantization!.addedActivations).toEqual([]);
    expect(dequantizeOf(decodeModel(again.bytes), 'm').scale.data).toEqual(
      dequantizeOf(written, 'm').scale.data,
    );
    const samples = drawSamples(test, 3, 4);
    const expected = await outputsOf(first.bytes, samples, 'y');
    const actual = await outputsOf(again.bytes, samples, 'y');
    const step = Number(dequantizeOf(written, 'y').scale.data[0]);
    expect(compare(expected, actual).worst).toBeLessThanOrEqual(step * 1.001);
  });

  it('re-quantizing its own fully quantized output needs no calibration and keeps every point', async () => {
    const { test } = qatModel({ opset: 13, perChannel: true, weights: 'float' });
    const first = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: drawSamples(test, 8, 5),
    });
    const second = await quantizeModel(first.bytes, { mode: 'static', executor });
    const points = second.summary.keptQuantization!;
    expect(points.addedWeights).toEqual([]);
    expect(points.addedActivations).toEqual([]);
    expect(second.summary.calibrationSamples).toBe(0);
    const samples = drawSamples(test, 4, 7);
    const { worst } = compare(await outputsOf(first.bytes, samples), await outputsOf(second.bytes, samples));
    expect(worst).toBe(0);
  });

  for (const variant of [{ format: 'qoperator' as const }, { target: 'arm64' }]) {
    it(`keeps the model's scales in ${JSON.stringify(variant)} output, which onnxruntime runs like the QAT model`, async () => {
      const { test, weightScales } = qatModel({ opset: 13, perChannel: true, weights: 'float' });
      const input = encodeModel(test.model);
      const result = await quantizeModel(input, {
        mode: 'static',
        executor,
        calibrationData: drawSamples(test, 8, 5),
        ...variant,
      });
      const output = decodeModel(result.bytes);
      const scales = [...output.graph.initializers.values()].filter((t) => t.dtype === 'float32');
      // Every trained scale is somewhere in the output, bit for bit (QOperator nodes take them as inputs).
      for (const expected of [Float32Array.of(0.0078125), Float32Array.of(0.0123), weightScales.w2]) {
        expect(
          scales.some((t) => t.data.length === expected.length && t.data.every((v, i) => v === expected[i])),
        ).toBe(true);
      }
      const samples = drawSamples(test, 4, 99);
      const { worst, largest } = compare(
        await outputsOf(input, samples),
        await outputsOf(result.bytes, samples),
      );
      expect(worst).toBeLessThan(0.05 * largest);
    });
  }

  it("refuses a target that cannot run the model's trained code types, naming the Q/DQ", async () => {
    const { test } = qatModel({ opset: 13, perChannel: true, weights: 'float' });
    const failure = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: drawSamples(test, 4, 5),
      target: 'gpu-tensorrt',
    }).catch((error: unknown) => error);
    expect(QuantError.is(failure)).toBe(true);
    expect((failure as Error).message).toMatch(
      /quantizes activation "x" to uint8; gpu-tensorrt runs int8 activations/,
    );
  });

  for (const form of [
    { opset: 10, perChannel: false, weights: 'float', integerBiases: true },
    { opset: 13, perChannel: true, weights: 'float' },
  ] as const) {
    it(`weight-only keeps the codes and writes the activation pairs back as they were (opset ${form.opset})`, async () => {
      const { test, weightScales } = qatModel(form);
      const input = encodeModel(test.model);
      const result = await quantizeModel(input, { mode: 'weight-only', executor });
      expect(result.summary.verification?.verified).toBe(true);
      const output = decodeModel(result.bytes);
      const conv = output.graph.nodes.find((n) => n.name === 'conv2')!;
      expect(dequantizeOf(output, conv.inputs[1]!).scale.data).toEqual(weightScales.w2);
      expect(dequantizeOf(output, 'r1_dq').scale.data).toEqual(Float32Array.of(0.0123));
      // Beside a kept input pair and a dequantized weight the bias is int32, as onnxruntime needs below opset 13.
      expect(dequantizeOf(output, conv.inputs[2]!).codes?.dtype).toBe('int32');
      const samples = drawSamples(test, 4, 3);
      const { worst, largest } = compare(
        await outputsOf(input, samples),
        await outputsOf(result.bytes, samples),
      );
      expect(worst).toBeLessThan(0.05 * largest);
    });
  }

  it('refuses dynamic mode, quantized operators and dequantized run-time values, naming the node', async () => {
    const { test } = qatModel({ opset: 13, perChannel: true, weights: 'float' });
    const dynamic = await quantizeModel(encodeModel(test.model), { mode: 'dynamic' }).catch((error) => error);
    expect(QuantError.is(dynamic) && dynamic.code).toBe('UNSUPPORTED');
    expect(dynamic.message).toMatch(/quantization-aware trained.*static/);

    const floatOnly = (nodes: Node[], extra: Record<string, Tensor> = {}) =>
      createModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'uint8', shape: [1, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
        initializers: {
          s: createTensor('float32', [], Float32Array.of(0.1)),
          z: createTensor('uint8', [], Uint8Array.of(128)),
          ...extra,
        },
        nodes,
      });
    const runTime = floatOnly([node('DequantizeLinear', ['x', 's', 'z'], ['y'], {}, 'dq_input')]);
    const error = await quantizeModel(encodeModel(runTime), { mode: 'static', executor }).catch((e) => e);
    expect(QuantError.is(error) && error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/DequantizeLinear "dq_input" reads "x", computed at run time/);

    // A BatchNorm after a Conv whose weight the model quantized itself would change that weight under its codes.
    const r = createRandom(3);
    const withBatchNorm = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 4, 4] }],
      initializers: {
        w: gaussianTensor([2, 2, 3, 3], r, 0.3),
        s: createTensor('float32', [], Float32Array.of(0.01)),
        z: createTensor('int8', [], Int8Array.of(0)),
        gamma: createTensor('float32', [2], Float32Array.of(1.5, 0.5)),
        beta: createTensor('float32', [2], Float32Array.of(0.1, -0.1)),
        mean: createTensor('float32', [2], Float32Array.of(0, 0.2)),
        variance: createTensor('float32', [2], Float32Array.of(1, 2)),
      },
      nodes: [
        node('QuantizeLinear', ['w', 's', 'z'], ['w_q']),
        node('DequantizeLinear', ['w_q', 's', 'z'], ['w_dq']),
        node('Conv', ['x', 'w_dq'], ['c'], CONV, 'conv'),
        node('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'variance'], ['y'], {}, 'bn'),
      ],
    });
    const folded = await quantizeModel(encodeModel(withBatchNorm), { mode: 'weight-only' }).catch((e) => e);
    expect(QuantError.is(folded) && folded.code).toBe('UNSUPPORTED');
    expect(folded.message).toMatch(/weight "w" carries the model's own quantization, but .*BatchNorm/);

    const qoperator = floatOnly(
      [
        node('QLinearMatMul', ['x', 's', 'z', 'w', 's', 'z', 's', 'z'], ['q'], {}, 'qmm'),
        node('DequantizeLinear', ['q', 's', 'z'], ['y']),
      ],
      { w: createTensor('uint8', [4, 4], new Uint8Array(16).fill(130)) },
    );
    const refused = await quantizeModel(encodeModel(qoperator), { mode: 'static', executor }).catch((e) => e);
    expect(QuantError.is(refused) && refused.code).toBe('UNSUPPORTED');
    expect(refused.message).toMatch(/QLinearMatMul "qmm" is a quantized operator/);
  });
});
