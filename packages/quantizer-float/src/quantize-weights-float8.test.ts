import { QuantError, type Tensor } from '@quantkit/core';
import { type Model, createModel, encodeModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { type Float8Format, float8ToFloat32 } from './float32-to-float8.js';
import { quantizeWeightsFloat8 } from './quantize-weights-float8.js';
import { feed, floatTensor, runOrt, sqnr } from './test-helpers.js';

function mlp(opset = 19): Model {
  return createModel({
    opset,
    inputs: [['x', 'float32', [16, 128]]],
    outputs: [['y', 'float32', [16, 32]]],
    initializers: {
      w1: floatTensor([128, 256], 1, 0.1),
      b1: floatTensor([256], 2, 0.1),
      w2: floatTensor([256, 32], 3, 0.1),
      b2: floatTensor([32], 4, 0.1),
    },
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['m1'] },
      { opType: 'Add', inputs: ['m1', 'b1'], outputs: ['a1'] },
      { opType: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { opType: 'Gemm', inputs: ['r1', 'w2', 'b2'], outputs: ['y'] },
    ],
  });
}

async function outputSqnr(model: Model, quantized: Model, x: Tensor<'float32'>): Promise<number> {
  const reference = await runOrt(model, { x: feed(x) });
  const result = await runOrt(quantized, { x: feed(x) });
  return sqnr(reference.y!.data, result.y!.data);
}

/**
 * The SQNR a float8 format gives a weight that spans several binades: rounding error uniform over half an ulp,
 * an ulp being 2^-m of the binade, averaged over a uniform significand in [1, 2): relative MSE = 2^-2m / 24, so
 * SQNR = 10 log10(24 * 4^m): 31.9 dB for e4m3fn (m = 3), 25.8 dB for e5m2 (m = 2). Each of L layers adds its
 * own, independent, noise, so the output gets ~10 log10(L) dB less.
 */
function expectedSqnr(format: Float8Format, layers: number): number {
  const mantissaBits = format === 'e4m3fn' ? 3 : 2;
  return 10 * Math.log10(24 * 4 ** mantissaBits) - 10 * Math.log10(layers);
}

describe('quantizeWeightsFloat8', () => {
  it.each([
    ['e4m3fn', false],
    ['e4m3fn', true],
    ['e5m2', false],
    ['e5m2', true],
  ] as const)('%s weights (per channel: %s) run in onnxruntime near the predicted SQNR', async (format, perChannel) => {
    const model = mlp();
    const quantized = quantizeWeightsFloat8(model, { format, perChannel });
    const dequantizers = quantized.graph.nodes.filter((node) => node.opType === 'DequantizeLinear');
    expect(dequantizers).toHaveLength(2);
    const dtype = format === 'e4m3fn' ? 'float8e4m3fn' : 'float8e5m2';
    expect(quantized.graph.initializers.get(`w1_${format}`)!.dtype).toBe(dtype);
    expect(quantized.graph.initializers.has('w1')).toBe(false);
    // Per channel: one scale per output column of MatMul [K, N] (axis 1) and of Gemm without transB (axis 1).
    expect(quantized.graph.initializers.get('w1_scale')!.shape).toEqual(perChannel ? [256] : []);
    const value = await outputSqnr(model, quantized, floatTensor([16, 128], 5));
    // 3 dB of margin below the estimate (the weights here are uniform, so some fall in low binades).
    expect(value).toBeGreaterThanOrEqual(expectedSqnr(format, 2) - 3);
    // Weights dominate: float8 takes a quarter of float32.
    expect(encodeModel(quantized).length / encodeModel(model).length).toBeLessThan(0.3);
  });

  it('uses the whole float8 range: the largest weight maps to the largest finite code', () => {
    const quantized = quantizeWeightsFloat8(mlp(), { format: 'e4m3fn', perChannel: true });
    const codes = quantized.graph.initializers.get('w1_e4m3fn')!.data as Uint8Array;
    const scale = quantized.graph.initializers.get('w1_scale')!.data as Float32Array;
    const weight = mlp().graph.initializers.get('w1')!.data as Float32Array;
    const values = float8ToFloat32(codes, 'e4m3fn');
    for (let column = 0; column < 256; column++) {
      let maxCode = 0;
      let maxWeight = 0;
      for (let row = 0; row < 128; row++) {
        maxCode = Math.max(maxCode, Math.abs(values[row * 256 + column]!));
        maxWeight = Math.max(maxWeight, Math.abs(weight[row * 256 + column]!));
      }
      expect(maxCode).toBe(448);
      expect(scale[column]).toBeCloseTo(maxWeight / 448, 9);
    }
  });

  it('dequantizes in onnxruntime to exactly code value x scale', async () => {
    const weight = floatTensor([8, 6], 9, 3);
    const model = createModel({
      opset: 19,
      inputs: [['x', 'float32', [8, 8]]],
      outputs: [['y', 'float32', [8, 6]]],
      initializers: { w: weight },
      nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const quantized = quantizeWeightsFloat8(model, { format: 'e5m2', perChannel: true });
    const identity = new Float32Array(64).map((_, i) => (i % 9 === 0 ? 1 : 0));
    const out = await runOrt(quantized, { x: feed({ dtype: 'float32', shape: [8, 8], data: identity }) });
    const codes = float8ToFloat32(quantized.graph.initializers.get('w_e5m2')!.data as Uint8Array, 'e5m2');
    const scale = quantized.graph.initializers.get('w_scale')!.data as Float32Array;
    const expected = codes.map((value, i) => Math.fround(value * scale[i % 6]!));
    expect(Array.from(out.y!.data as Float32Array)).toEqual(Array.from(expected));
  });

  it('quantizes Conv per output channel and Gemm with transB along axis 0, sharing one DequantizeLinear', async () => {
    const model = createModel({
      opset: 19,
      inputs: [['x', 'float32', [2, 3, 8, 8]]],
      outputs: [['y', 'float32', [2, 10]]],
      initializers: {
        conv_w: floatTensor([16, 3, 3, 3], 11, 0.3),
        shared: floatTensor([16, 16], 12, 0.2),
        fc_w: floatTensor([10, 16], 13, 0.2),
      },
      nodes: [
        { opType: 'Conv', inputs: ['x', 'conv_w'], outputs: ['c'], attributes: { pads: [1, 1, 1, 1] } },
        { opType: 'Relu', inputs: ['c'], outputs: ['r'] },
        { opType: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
        { opType: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { opType: 'Gemm', inputs: ['f', 'shared'], outputs: ['h1'], attributes: { transB: 1 } },
        { opType: 'Gemm', inputs: ['h1', 'shared'], outputs: ['h2'], attributes: { transB: 1 } },
        { opType: 'Gemm', inputs: ['h2', 'fc_w'], outputs: ['y'], attributes: { transB: 1 } },
      ],
    });
    const quantized = quantizeWeightsFloat8(model, { format: 'e4m3fn', perChannel: true });
    const dequantizers = quantized.graph.nodes.filter((node) => node.opType === 'DequantizeLinear');
    expect(dequantizers.map((node) => node.attributes.get('axis')?.value)).toEqual([0, 0, 0]);
    expect(quantized.graph.initializers.get('conv_w_scale')!.shape).toEqual([16]);
    expect(quantized.graph.initializers.get('fc_w_scale')!.shape).toEqual([10]);
    const value = await outputSqnr(model, quantized, floatTensor([2, 3, 8, 8], 14));
    expect(value).toBeGreaterThanOrEqual(expectedSqnr('e4m3fn', 4) - 3);
  });

  it('keeps a float32 copy for consumers outside the quantized ops and skips ops not listed', () => {
    const model = createModel({
      opset: 19,
      inputs: [['x', 'float32', [4, 4]]],
      outputs: [['y', 'float32', [4, 4]]],
      initializers: { w: floatTensor([4, 4], 1), k: floatTensor([4, 4], 2) },
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
        { opType: 'Add', inputs: ['m', 'w'], outputs: ['a'] },
        { opType: 'Gemm', inputs: ['a', 'k'], outputs: ['y'] },
      ],
    });
    const quantized = quantizeWeightsFloat8(model, { format: 'e4m3fn', ops: ['MatMul'] });
    expect(quantized.graph.initializers.get('w')!.dtype).toBe('float32');
    expect(quantized.graph.initializers.get('k')!.dtype).toBe('float32');
    expect(quantized.graph.initializers.has('k_e4m3fn')).toBe(false);
    expect(quantized.irVersion).toBeGreaterThanOrEqual(9);
  });

  it('throws UNSUPPORTED below opset 19, naming the opset and the fix', () => {
    expect(() => quantizeWeightsFloat8(mlp(17), { format: 'e4m3fn' })).toThrow(
      /opset 19.*opset 17.*opset >= 19/,
    );
    try {
      quantizeWeightsFloat8(mlp(17), { format: 'e4m3fn' });
    } catch (error) {
      expect(QuantError.is(error, 'UNSUPPORTED')).toBe(true);
    }
  });

  it('rejects unknown formats, ops and non-finite weights', () => {
    expect(() => quantizeWeightsFloat8(mlp(), { format: 'e4m3' as Float8Format })).toThrow(
      /"e4m3fn" or "e5m2"/,
    );
    expect(() => quantizeWeightsFloat8(mlp(), { format: 'e5m2', ops: ['Add'] })).toThrow(/"Add"/);
    const broken = mlp();
    const w1 = broken.graph.initializers.get('w1')!;
    const data = Float32Array.from(w1.data as Float32Array);
    data[3] = Number.NaN;
    broken.graph.addInitializer('w1', { ...w1, data });
    expect(() => quantizeWeightsFloat8(broken, { format: 'e5m2' })).toThrow(/"w1".*NaN/);
  });
});
