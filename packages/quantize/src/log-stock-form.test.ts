// Form (a) in onnxruntime-node: the log codes run in an unmodified runtime and compute exactly what a float
// simulation of the same quantization computes.
import { type QuantizedTensor, type QuantizerPlugin, type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from './quantize-model.js';
import { createRandom, registryWith } from './test-models.js';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dequantizeQuantized } from '@quantkit/quantizer-log';
import { createLogQuantizer, logQuantizer } from '@quantkit/quantizer-log';
import { nnieLogQuantizer } from '@quantkit/quantizer-log';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

/** Roughly normal values (sum of four uniforms) with standard deviation `std`, like trained weights. */
function gaussian(shape: number[], random: () => number, std: number): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(
    { length: size },
    () => (random() + random() + random() + random() - 2) * std * 1.732,
  );
  return createTensor('float32', shape, data);
}

function uniform(shape: number[], random: () => number, scale = 1): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  return createTensor(
    'float32',
    shape,
    Float32Array.from({ length: size }, () => (random() * 2 - 1) * scale),
  );
}

interface Layer {
  readonly weight: string;
  readonly bias: string;
  /** Gemm transB: the weight is [N, K] instead of [K, N]. */
  readonly transB: boolean;
  /** The Gemm's output, to find the layer in the plan (the emitter renames the weight input). */
  readonly output: string;
}

const layers: Layer[] = [
  { weight: 'w1', bias: 'b1', transB: true, output: 'h1' },
  { weight: 'w2', bias: 'b2', transB: true, output: 'h2' },
  { weight: 'w3', bias: 'b3', transB: false, output: 'y' },
];

/** Gemm(transB) -> Relu -> Gemm(transB) -> Relu -> Gemm: x [batch, 32] -> y [batch, 8]. */
function mlpModel(): Model {
  const random = createRandom(7);
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', ['batch', 32]]],
    outputs: [['y', 'float32', ['batch', 8]]],
    initializers: {
      w1: gaussian([64, 32], random, 0.2),
      b1: uniform([64], random, 0.1),
      w2: gaussian([64, 64], random, 0.1),
      b2: uniform([64], random, 0.1),
      w3: gaussian([64, 8], random, 0.15),
      b3: uniform([8], random, 0.1),
    },
    nodes: [
      { opType: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h1'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h1'], outputs: ['a1'] },
      { opType: 'Gemm', inputs: ['a1', 'w2', 'b2'], outputs: ['h2'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h2'], outputs: ['a2'] },
      { opType: 'Gemm', inputs: ['a2', 'w3', 'b3'], outputs: ['y'] },
    ],
  });
}

/** The MLP in float64 with the given (dequantized) weights. */
function simulate(model: Model, weights: Map<string, Float32Array>, x: Tensor<'float32'>): Float64Array {
  let activation = Float64Array.from(x.data);
  let width = x.shape[1]!;
  const batch = x.shape[0]!;
  layers.forEach((layer, index) => {
    const original = model.graph.initializers.get(layer.weight)!;
    const w = weights.get(layer.weight)!;
    const b = model.graph.initializers.get(layer.bias)!.data as Float32Array;
    const [rows, cols] = original.shape as [number, number];
    const outputs = layer.transB ? rows : cols;
    const next = new Float64Array(batch * outputs);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < outputs; o++) {
        let sum = b[o]!;
        for (let k = 0; k < width; k++) {
          const weight = layer.transB ? w[o * cols + k]! : w[k * cols + o]!;
          sum += activation[n * width + k]! * weight;
        }
        next[n * outputs + o] = index < layers.length - 1 ? Math.max(sum, 0) : sum;
      }
    }
    activation = next;
    width = outputs;
  });
  return activation;
}

/** max |actual - expected| / max |expected|. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let difference = 0;
  let magnitude = 0;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(actual[i]! - expected[i]!));
    magnitude = Math.max(magnitude, Math.abs(expected[i]!));
  }
  return difference / magnitude;
}

async function runOnce(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await executor.createSession(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

const pipelineCases: {
  quantizer: QuantizerPlugin;
  bits: number;
  granularity: 'tensor' | 'channel';
  form: 'int8' | 'lookup';
}[] = [
  { quantizer: logQuantizer, bits: 3, granularity: 'channel', form: 'int8' },
  { quantizer: logQuantizer, bits: 4, granularity: 'channel', form: 'int8' },
  { quantizer: logQuantizer, bits: 4, granularity: 'tensor', form: 'int8' },
  { quantizer: logQuantizer, bits: 8, granularity: 'channel', form: 'lookup' },
  { quantizer: nnieLogQuantizer, bits: 8, granularity: 'tensor', form: 'lookup' },
];

describe('form (a) through @quantkit/quantize in onnxruntime-node', () => {
  for (const { quantizer, bits, granularity, form } of pipelineCases) {
    it(`${quantizer.name} ${bits}-bit per ${granularity} (${form} form) matches the float simulation to 1e-5`, async () => {
      const model = mlpModel();
      const floatBytes = encodeModel(model);
      const result = await quantizeModel(floatBytes, {
        mode: 'weight-only',
        quantizer: quantizer.name,
        registry: registryWith(quantizer),
        bits,
        granularity,
        symmetric: true,
      });
      // The simulation quantizes each weight with the plugin directly, on the axis the planner chose.
      const dequantized = new Map<string, Float32Array>();
      for (const layer of layers) {
        const use = result.plan.constants.find((c) => c.node.outputs[0] === layer.output && c.slot === 1);
        expect(use).toBeDefined();
        const weight = model.graph.initializers.get(layer.weight) as Tensor<'float32'>;
        const quantized = quantizer.quantizeWeight(weight, {
          bits,
          symmetric: true,
          granularity: use!.axis === undefined ? 'tensor' : 'channel',
          axis: use!.axis,
        });
        expect(quantized.lookup === undefined ? 'int8' : 'lookup').toBe(form);
        dequantized.set(layer.weight, dequantizeQuantized(quantized));
      }
      const opTypes = result.model.graph.nodes.map((n) => n.opType);
      expect(opTypes).toContain(form === 'int8' ? 'DequantizeLinear' : 'Gather');

      const x = uniform([4, 32], createRandom(11));
      const quantizedY = (await runOnce(result.bytes, { x })).y!.data as Float32Array;
      const floatY = (await runOnce(floatBytes, { x })).y!.data as Float32Array;
      const expected = simulate(model, dequantized, x);
      expect(relativeError(quantizedY, expected)).toBeLessThan(1e-5);
      // The quantization did change the outputs, so the comparison above is not float against float.
      expect(relativeError(floatY, expected)).toBeGreaterThan(1e-4);
    });
  }
});

/**
 * A model that dequantizes lookup codes the way the pipeline's Gather form does (Cast to int32 indices, Gather over
 * the table, Mul by the per-group scale broadcast along its axis), exposes the weight, and uses it in a Gemm.
 */
function gatherModel(quantized: QuantizedTensor, x: Tensor<'float32'>): Model {
  const { codes, params, lookup } = quantized;
  const axis = params.axis ?? 0;
  const scaleShape =
    params.granularity === 'tensor' ? [] : codes.shape.map((dim, i) => (i === axis ? dim : 1));
  const [rows, cols] = codes.shape as [number, number];
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', [x.shape[0]!, cols]]],
    outputs: [
      ['w', 'float32', [rows, cols]],
      ['y', 'float32', [x.shape[0]!, rows]],
    ],
    initializers: {
      codes: codes as Tensor,
      table: createTensor('float32', [lookup!.table.length], Float32Array.from(lookup!.table)),
      scale: createTensor('float32', scaleShape, Float32Array.from(params.scale)),
    },
    nodes: [
      { opType: 'Cast', inputs: ['codes'], outputs: ['indices'], attributes: { to: 6 } },
      { opType: 'Gather', inputs: ['table', 'indices'], outputs: ['levels'] },
      { opType: 'Mul', inputs: ['levels', 'scale'], outputs: ['w'] },
      { opType: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attributes: { transB: 1 } },
    ],
  });
}

const lookupCases: {
  name: string;
  quantizer: QuantizerPlugin;
  bits: number;
  granularity: 'tensor' | 'channel';
  axis?: number;
}[] = [
  {
    name: 'log 8-bit per channel (axis 0)',
    quantizer: logQuantizer,
    bits: 8,
    granularity: 'channel',
    axis: 0,
  },
  {
    name: 'log 6-bit per channel (axis 1)',
    quantizer: logQuantizer,
    bits: 6,
    granularity: 'channel',
    axis: 1,
  },
  {
    name: 'log 3-bit forced lookup per tensor',
    quantizer: createLogQuantizer({ form: 'lookup' }),
    bits: 3,
    granularity: 'tensor',
  },
  { name: 'log-nnie 8-bit per tensor', quantizer: nnieLogQuantizer, bits: 8, granularity: 'tensor' },
];

describe('the lookup form in a Gather model in onnxruntime-node', () => {
  for (const { name, quantizer, bits, granularity, axis } of lookupCases) {
    it(`${name}: the weight ORT computes is bit-exact, the output within 1e-5`, async () => {
      const random = createRandom(23);
      const weight = gaussian([24, 40], random, 0.3);
      const quantized = quantizer.quantizeWeight(weight, { bits, symmetric: true, granularity, axis });
      expect(quantized.lookup).toBeDefined();
      const x = uniform([3, 40], random);
      const outputs = await runOnce(encodeModel(gatherModel(quantized, x)), { x });
      const expectedWeight = dequantizeQuantized(quantized);
      const actualWeight = outputs.w!.data as Float32Array;
      expect(
        Array.from(new Uint32Array(actualWeight.buffer, actualWeight.byteOffset, actualWeight.length)),
      ).toEqual(Array.from(new Uint32Array(expectedWeight.buffer)));
      const expected = new Float64Array(3 * 24);
      for (let n = 0; n < 3; n++) {
        for (let o = 0; o < 24; o++) {
          let sum = 0;
          for (let k = 0; k < 40; k++) sum += x.data[n * 40 + k]! * expectedWeight[o * 40 + k]!;
          expected[n * 24 + o] = sum;
        }
      }
      expect(relativeError(outputs.y!.data as Float32Array, expected)).toBeLessThan(1e-5);
    });
  }
});
