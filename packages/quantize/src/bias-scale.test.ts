// Dead and near-dead weight channels: the int32 bias beside them must fit, at every opset, and the model must load
// in onnxruntime at its highest optimization level (whose BiasQuantization pass rewrites any float bias it finds).
import { type LinearQuantParams, createTensor, quantizeLinear } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BIAS_CODE_LIMIT, floorWeightScales, minWeightScales } from './bias-scale.js';
import { quantizeModel } from './quantize-model.js';
import { node } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

/** One Conv, X [1,2,1,1], W [2,2,1,1] with output channel 1 at `dead` (1e-34 or 0), bias [0.1, 0.37]. */
function deadChannelConv(opset: number, dead: number) {
  return createModel({
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 1, 1] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 1, 1] }],
    initializers: {
      w: createTensor('float32', [2, 2, 1, 1], Float32Array.of(0.5, -0.25, dead, -dead)),
      b: createTensor('float32', [2], Float32Array.of(0.1, 0.37)),
    },
    nodes: [node('Conv', ['x', 'w', 'b'], ['y'], {}, 'conv')],
  });
}

/** Gemm with transB, one output column all but zero, and alpha/beta that are not 1. */
function deadColumnGemm(opset: number) {
  const w = new Float32Array(3 * 4);
  for (let i = 0; i < 4; i++) for (let o = 0; o < 2; o++) w[o * 4 + i] = (i - 1.5) * 0.3;
  for (let i = 0; i < 4; i++) w[2 * 4 + i] = 1e-34;
  return createModel({
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, 3] }],
    initializers: {
      w: createTensor('float32', [3, 4], w),
      b: createTensor('float32', [3], Float32Array.of(0.2, -0.1, 0.37)),
    },
    nodes: [
      node(
        'Gemm',
        ['x', 'w', 'b'],
        ['y'],
        { transB: { type: 'int', value: 1 }, alpha: { type: 'float', value: 0.5 }, beta: { type: 'float', value: 2 } },
        'gemm',
      ),
    ],
  });
}

async function run(bytes: Uint8Array, feeds: Record<string, ReturnType<typeof createTensor>>) {
  const session = await executor.createSession(bytes);
  try {
    return (await session.run(feeds)).y!.data as Float32Array;
  } finally {
    await session.dispose();
  }
}

describe('biases beside dead weight channels', () => {
  const x = createTensor('float32', [1, 2, 1, 1], Float32Array.of(0.8, -0.6));
  for (const opset of [9, 10, 11, 13, 17, 21]) {
    for (const dead of [1e-34, 0]) {
      it(`stores an int32 bias and loads at opset ${opset} with a channel at ${dead}`, async () => {
        const float = encodeModel(deadChannelConv(opset, dead));
        for (const format of ['qdq', 'qoperator'] as const) {
          const result = await quantizeModel(float, {
            mode: 'static',
            format,
            executor,
            calibrationData: [{ x }],
          });
          const conv = result.model.graph.nodes.find((n) => n.opType === 'Conv' || n.opType === 'QLinearConv')!;
          const bias = result.model.graph.producer(conv.inputs[conv.opType === 'Conv' ? 2 : 8]!);
          // Either a DequantizeLinear over int32 codes (QDQ) or the codes themselves (QLinearConv).
          const codes =
            bias === undefined
              ? result.model.graph.getConstant(conv.inputs[8]!)!
              : result.model.graph.getConstant(bias.inputs[0]!)!;
          expect(codes.dtype).toBe('int32');
          const [expected, actual] = await Promise.all([run(float, { x }), run(result.bytes, { x })]);
          expect(Number.isFinite(actual[0]) && Number.isFinite(actual[1])).toBe(true);
          // The dead channel's output is its bias (before this fix: 0 at opset 13+, a load failure below), the live
          // one as float; both within a step of the output's 8-bit code.
          expect(Math.abs(actual[1]! - 0.37)).toBeLessThan(0.01);
          expect(Math.abs(actual[0]! - expected[0]!)).toBeLessThan(0.01);
        }
      });
    }
    it(`quantizes a Gemm bias with alpha and beta beside a dead column at opset ${opset}`, async () => {
      const float = encodeModel(deadColumnGemm(opset));
      const feeds = { x: createTensor('float32', [2, 4], Float32Array.of(1, -0.5, 0.25, 0.75, -1, 0.5, 0, 0.3)) };
      const result = await quantizeModel(float, { mode: 'static', executor, calibrationData: [feeds] });
      const [expected, actual] = await Promise.all([run(float, feeds), run(result.bytes, feeds)]);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(0.05);
      expect(Math.abs(actual[2]! - 0.74)).toBeLessThan(0.01);
    });
  }
});

describe('floorWeightScales', () => {
  const seed = 8_001;
  it('makes every bias fit int32 and leaves groups that already fit as they were', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.constantFrom(0, 1e-38, 1e-34, 1e-20, 1e-3, 1), { minLength: 2, maxLength: 6 }),
        fc.constantFrom(1e-6, 0.01, 3),
        (biases, magnitudes, inputScale) => {
          const channels = Math.min(biases.length, magnitudes.length);
          const bias = Float32Array.from(biases.slice(0, channels));
          const weight = Float32Array.from({ length: channels * 2 }, (_, i) => magnitudes[i >> 1]! * (i % 2 ? -1 : 1));
          const absmax = (c: number) => Math.abs(weight[c * 2]!);
          const params: LinearQuantParams = {
            scale: Float32Array.from({ length: channels }, (_, c) => Math.max(Math.fround(absmax(c) / 127), 2 ** -126) || 1),
            zeroPoint: new Int32Array(channels),
            granularity: 'channel',
            axis: 0,
            bits: 8,
            dtype: 'int8',
            qmin: -127,
            qmax: 127,
          };
          const original = {
            codes: quantizeLinear(weight, [channels, 2], params as LinearQuantParams & { dtype: 'int8' }),
            params,
          };
          const floored = floorWeightScales(original, weight, minWeightScales(bias, inputScale, channels));
          for (let c = 0; c < channels; c++) {
            const biasScale = Math.fround(inputScale * floored.params.scale[c]!);
            expect(Math.abs(bias[c]! / biasScale)).toBeLessThanOrEqual(BIAS_CODE_LIMIT * (1 + 1e-6));
            expect(biasScale).toBeGreaterThanOrEqual(2 ** -126);
            expect(floored.params.scale[c]).toBeGreaterThanOrEqual(params.scale[c]!);
            if (floored.params.scale[c] === params.scale[c]) {
              expect(floored.codes.data[c * 2]).toBe(original.codes.data[c * 2]);
            }
          }
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('keeps a power-of-two scale a power of two', () => {
    const weight = Float32Array.of(1e-30, -1e-30);
    const params: LinearQuantParams = {
      scale: Float32Array.of(2 ** -106),
      zeroPoint: new Int32Array(1),
      granularity: 'tensor',
      bits: 8,
      dtype: 'int8',
      qmin: -128,
      qmax: 127,
    };
    const quantized = { codes: quantizeLinear(weight, [2], params as LinearQuantParams & { dtype: 'int8' }), params };
    const floored = floorWeightScales(quantized, weight, minWeightScales(Float32Array.of(5), 0.01, 1));
    const exponent = Math.log2(floored.params.scale[0]!);
    expect(Number.isInteger(exponent)).toBe(true);
    expect(5 / (0.01 * floored.params.scale[0]!)).toBeLessThanOrEqual(BIAS_CODE_LIMIT);
  });
});
