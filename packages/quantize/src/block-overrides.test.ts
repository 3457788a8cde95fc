import { QuantError } from '@quantkit/core';
import { decodeModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { drawSamples, mlpModel } from './test-models.js';

describe('per-node 4-bit block overrides', () => {
  const test = mlpModel(21, 64);
  const input = encodeModel(test.model);

  /** The output SQNR in dB against the float model over two seeded samples, in onnxruntime-node; outputs finite. */
  async function sqnrOf(bytes: Uint8Array): Promise<number> {
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    const reference = await ort.InferenceSession.create(input);
    let signal = 0;
    let noise = 0;
    for (const sample of drawSamples(test, 2, 4)) {
      const x = sample.x!;
      const feed = { x: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) };
      const actual = (await session.run(feed)).y!.data as Float32Array;
      const expected = (await reference.run(feed)).y!.data as Float32Array;
      expect(actual.every(Number.isFinite)).toBe(true);
      for (const [index, value] of expected.entries()) {
        signal += value * value;
        noise += (value - actual[index]!) ** 2;
      }
    }
    return 10 * Math.log10(signal / noise);
  }

  it('mixes MatMulNBits layers with int8 and float ones in one weight-only model that onnxruntime runs', async () => {
    const result = await quantizeModel(input, {
      mode: 'weight-only',
      overrides: { nodes: { Gemm_h1: { bits: 4, granularity: 'block' }, Gemm_h2: { bits: 8 } } },
      keepFloat: [{ node: 'Gemm_y', reason: 'a test keeps it float' }],
    });
    const { graph } = decodeModel(result.bytes);
    const ops = graph.nodes.map((node) => node.opType);
    expect(ops.filter((op) => op === 'MatMulNBits')).toHaveLength(1);
    expect(graph.nodes.find((node) => node.opType === 'MatMulNBits')!.attributes.get('block_size')).toEqual({
      type: 'int',
      value: 32,
    });
    expect(ops.filter((op) => op === 'Gemm')).toHaveLength(2);
    expect(ops).toContain('DequantizeLinear');
    const blockSqnr = await sqnrOf(result.bytes);
    // The same layer in 4 bits with one scale per output channel instead: blocks of 32 come closer.
    const perChannel = await quantizeModel(input, {
      mode: 'weight-only',
      overrides: { nodes: { Gemm_h1: { bits: 4, granularity: 'channel' }, Gemm_h2: { bits: 8 } } },
      keepFloat: [{ node: 'Gemm_y', reason: 'a test keeps it float' }],
    });
    expect(blockSqnr).toBeGreaterThan(await sqnrOf(perChannel.bytes));
    expect(blockSqnr).toBeGreaterThan(15);
  });

  it('refuses blocks outside 4-bit weight-only mode, naming the override', async () => {
    for (const [options, pattern] of [
      [
        { mode: 'dynamic', overrides: { nodes: { Gemm_h1: { granularity: 'block' } } } },
        /mode "dynamic" with 8-bit/,
      ],
      [
        { mode: 'weight-only', overrides: { nodes: { Gemm_h1: { granularity: 'block', bits: 8 } } } },
        /8-bit/,
      ],
    ] as const) {
      const error = await quantizeModel(input, options).catch((caught: unknown) => caught);
      expect(QuantError.is(error) && error.code).toBe('UNSUPPORTED');
      expect((error as Error).message).toMatch(/override for "Gemm_h1": granularity "block" is for 4-bit/);
      expect((error as Error).message).toMatch(pattern);
    }
  });
});
