import { createTensor, dequantizeLinear } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import { linearQuantizer } from '@quantkit/quantizer-linear';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { packMatMulNBits } from './emit-nbits.js';
import { compareTensors } from './metrics.js';
import { quantizeModel } from './quantize-model.js';
import { attentionModel, createRandom, gaussianTensor, mlpModel, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

/** Reads code (row, column) back out of the MatMulNBits layout, independently of the packer's loops. */
function unpack(weight: Uint8Array, k: number, blockSize: number, row: number, column: number): number {
  const blocks = Math.ceil(k / blockSize);
  const offset = column * blocks * blockSize + row; // nibble index within column-major blocks
  const byte = weight[Math.floor(offset / 2)]!;
  return offset % 2 === 0 ? byte & 0x0f : byte >> 4;
}

describe('MatMulNBits (4-bit block-wise weight-only)', () => {
  it('packs codes, scales and zero points in the operator layout', () => {
    const random = createRandom(3);
    const k = 40;
    const n = 3;
    const weight = randomTensor([k, n], random);
    for (const symmetric of [true, false]) {
      const { codes, params } = linearQuantizer.quantizeWeight(weight, {
        bits: 4,
        symmetric,
        restrictedRange: symmetric,
        granularity: 'block',
        axis: 0,
        blockSize: 16,
      });
      const packed = packMatMulNBits(codes.data, params.scale, params.zeroPoint, k, n, 16, symmetric);
      expect(packed.weight.length).toBe(n * 3 * 8);
      for (let row = 0; row < 48; row++) {
        for (let column = 0; column < n; column++) {
          const block = Math.floor(row / 16);
          const zero = symmetric ? 8 : params.zeroPoint[block * n + column]!;
          const stored = unpack(packed.weight, k, 16, row, column);
          if (row >= k) expect(stored).toBe(zero);
          else expect(stored - zero).toBe(codes.data[row * n + column]! - (symmetric ? 0 : zero));
          expect(packed.scales[column * 3 + block]).toBe(params.scale[block * n + column]);
          if (!symmetric) {
            const zeroByte = packed.zeroPoints![column * 2 + (block >> 1)]!;
            expect(block % 2 === 0 ? zeroByte & 15 : zeroByte >> 4).toBe(zero);
          }
        }
      }
    }
  });

  it('computes A x dequantize(W) in onnxruntime-node, for K not a multiple of the block', async () => {
    const random = createRandom(5);
    const [m, k, n] = [3, 72, 10];
    const w = gaussianTensor([k, n], random, 0.2);
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'a', dtype: 'float32', shape: [m, k] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [m, n] }],
      initializers: { w },
      nodes: [node('MatMul', ['a', 'w'], ['y'])],
    });
    for (const symmetric of [true, false]) {
      // accuracyLevel 0: float activations, so the product is exactly A x dequantize(W) up to float rounding.
      const result = await quantizeModel(encodeModel(model), {
        mode: 'weight-only',
        granularity: 'block',
        bits: 4,
        blockSize: 32,
        symmetric,
        accuracyLevel: 0,
      });
      expect(result.model.graph.nodes.map((x) => x.opType)).toEqual(['MatMulNBits']);
      // Reference: the same block quantization, dequantized in float64 and multiplied here.
      const { codes, params } = linearQuantizer.quantizeWeight(w, {
        bits: 4,
        symmetric,
        restrictedRange: symmetric,
        granularity: 'block',
        axis: 0,
        blockSize: 32,
      });
      const restored = dequantizeLinear(codes.data, w.shape, params);
      const a = randomTensor([m, k], random);
      const expected = new Float32Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let t = 0; t < k; t++) sum += a.data[i * k + t]! * restored[t * n + j]!;
          expected[i * n + j] = sum;
        }
      const session = await executor.createSession(result.bytes);
      const { y } = await session.run({ a });
      await session.dispose();
      const metrics = compareTensors(createTensor('float32', [m, n], expected), y!);
      expect(metrics.maxAbsError).toBeLessThan(1e-4);
    }
  });

  it('q4 block-32 weight-only keeps SQNR >= 20 dB on a MatMul model and shrinks weights over 5x', async () => {
    // The attention block's projections are single 4-bit MatMuls (measured 25-28 dB); the MLP stacks three 4-bit
    // Gemm layers, whose errors compound (measured 13-16 dB).
    for (const [test, minimum, weights] of [
      [attentionModel(10, 64, 8), 20, 4],
      [mlpModel(9, 256), 12, 3],
    ] as const) {
      const random = createRandom(6);
      const floatBytes = encodeModel(test.model);
      const result = await quantizeModel(floatBytes, {
        mode: 'weight-only',
        granularity: 'block',
        bits: 4,
        blockSize: 32,
      });
      const reference = await executor.createSession(floatBytes);
      const quantized = await executor.createSession(result.bytes);
      for (let i = 0; i < 4; i++) {
        const feeds = test.sample(random);
        const name = reference.outputNames[0]!;
        const metrics = compareTensors(
          (await reference.run(feeds))[name]!,
          (await quantized.run(feeds))[name]!,
        );
        expect(metrics.sqnr).toBeGreaterThanOrEqual(minimum);
      }
      await reference.dispose();
      await quantized.dispose();
      expect(result.summary.weightBytesAfter / result.summary.weightBytesBefore).toBeLessThan(0.2);
      // Every MatMul/Gemm with a constant weight became MatMulNBits (attention's activation x activation ones stay).
      expect(result.model.graph.nodes.filter((x) => x.opType === 'MatMulNBits').length).toBe(weights);
    }
  });

  it('refuses block sizes MatMulNBits does not take, and other modes', async () => {
    const bytes = encodeModel(mlpModel().model);
    await expect(
      quantizeModel(bytes, { mode: 'weight-only', granularity: 'block', bits: 4, blockSize: 24 }),
    ).rejects.toThrow(/power of two from 16 to 256/);
    await expect(quantizeModel(bytes, { mode: 'dynamic', granularity: 'block', bits: 4 })).rejects.toThrow(
      /4-bit weight-only/,
    );
  });
});
