// LSTM, GRU and RNN weights (W and R) are stored quantized in weight-only mode: Silero VAD's LSTM held most of its
// weights, and every quantized file of it stayed at 0.64-0.73x of the float one.
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compareTensors } from './metrics.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, gaussianTensor, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });
const HIDDEN = 32;
const INPUT = 24;

/** x [5, 2, 24] -> op (one direction, 32 hidden) -> y [5, 1, 2, 32]. */
function recurrentModel(opType: 'LSTM' | 'GRU' | 'RNN', opset: number, seed: number) {
  const random = createRandom(seed);
  const gates = { LSTM: 4, GRU: 3, RNN: 1 }[opType];
  return createModel({
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [5, 2, INPUT] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [5, 1, 2, HIDDEN] }],
    initializers: {
      w: gaussianTensor([1, gates * HIDDEN, INPUT], random, 0.2),
      r: gaussianTensor([1, gates * HIDDEN, HIDDEN], random, 0.15),
      b: randomTensor([1, 2 * gates * HIDDEN], random, 0.1),
    },
    nodes: [
      node(opType, ['x', 'w', 'r', 'b'], ['y'], { hidden_size: { type: 'int', value: HIDDEN } }, 'rnn'),
    ],
  });
}

describe('recurrent weights in weight-only mode', () => {
  const sample = (seed: number) => ({ x: randomTensor([5, 2, INPUT], createRandom(seed)) });

  it.each([
    ['LSTM', 9, 8, 'channel', 35],
    ['LSTM', 14, 8, 'channel', 35],
    ['GRU', 13, 8, 'channel', 35],
    ['RNN', 11, 8, 'tensor', 30],
    ['LSTM', 17, 4, 'block', 15],
  ] as const)('%s at opset %i: W and R stored in %i bits (%s), loads at level all, stays close', async (opType, opset, bits, granularity, floor) => {
    const float = encodeModel(recurrentModel(opType, opset, 7));
    const result = await quantizeModel(float, { mode: 'weight-only', bits, granularity, executor });
    const written = decodeModel(result.bytes);
    // Only the bias and the scales stay float32 (W and R hold 7168 of the 7424 values).
    const floats = [...written.graph.initializers.values()].filter((t) => t.dtype === 'float32');
    expect(floats.reduce((sum, t) => sum + t.data.length, 0)).toBeLessThanOrEqual(256 + 2 * 128);
    // The codes take `bits` per weight (packed below 8), plus one zero point per channel.
    const codes = [...written.graph.initializers.values()].filter(
      (t) => t.dtype === 'int8' || t.dtype === 'uint8',
    );
    expect(codes.reduce((sum, t) => sum + t.data.length, 0)).toBeLessThanOrEqual((7168 * bits) / 8 + 2 * 128);
    expect(result.bytes.length / float.length).toBeLessThan(bits === 8 ? 0.45 : 0.35);
    expect(result.summary.nodes.find((decision) => decision.name === 'rnn')!.quantized).toBe(true);
    const [reference, candidate] = await Promise.all(
      [float, result.bytes].map(async (bytes) => {
        const session = await executor.createSession(bytes);
        try {
          return (await session.run(sample(3))).y!;
        } finally {
          await session.dispose();
        }
      }),
    );
    expect(compareTensors(reference!, candidate!).sqnr).toBeGreaterThan(floor);
  });

  // PyTorch's export: W = Unsqueeze(Concat(Slice(weight_ih) x4)), the gates reordered; Silero VAD v5 does this.
  it('quantizes an LSTM weight that Slice, Concat and Unsqueeze reorder from a 2-D source', async () => {
    const random = createRandom(11);
    const int64 = (...values: number[]) => ({
      dtype: 'int64' as const,
      shape: [values.length],
      data: BigInt64Array.from(values.map(BigInt)),
    });
    const rows = [0, 64, 32, 96];
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [5, 2, INPUT] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [5, 1, 2, HIDDEN] }],
      initializers: {
        weight_ih: gaussianTensor([4 * HIDDEN, INPUT], random, 0.2),
        r: gaussianTensor([1, 4 * HIDDEN, HIDDEN], random, 0.15),
        zero_axis: int64(0),
        ...Object.fromEntries(
          rows.flatMap((start, i) => [
            [`start${i}`, int64(start)],
            [`end${i}`, int64(start + HIDDEN)],
          ]),
        ),
      },
      nodes: [
        ...rows.map((_, i) =>
          node('Slice', ['weight_ih', `start${i}`, `end${i}`, 'zero_axis'], [`gate${i}`], {}, `slice${i}`),
        ),
        node(
          'Concat',
          rows.map((_, i) => `gate${i}`),
          ['w2d'],
          { axis: { type: 'int', value: 0 } },
          'concat',
        ),
        node('Unsqueeze', ['w2d', 'zero_axis'], ['w'], {}, 'unsqueeze'),
        node('LSTM', ['x', 'w', 'r'], ['y'], { hidden_size: { type: 'int', value: HIDDEN } }, 'rnn'),
      ],
    });
    const float = encodeModel(model);
    const result = await quantizeModel(float, { mode: 'weight-only', executor });
    const written = decodeModel(result.bytes);
    expect(written.graph.initializers.get('weight_ih')).toBeUndefined();
    expect(
      [...written.graph.initializers.values()].filter((t) => t.dtype === 'float32' && t.data.length > 256),
    ).toEqual([]);
    const [reference, candidate] = await Promise.all(
      [float, result.bytes].map(async (bytes) => {
        const session = await executor.createSession(bytes);
        try {
          return (await session.run(sample(4))).y!;
        } finally {
          await session.dispose();
        }
      }),
    );
    expect(compareTensors(reference!, candidate!).sqnr).toBeGreaterThan(35);
  });

  it.each([
    'static',
    'dynamic',
  ] as const)('%s mode stores LSTM weights in int8, folded to fp32 at load, and runs the LSTM in float', async (mode) => {
    const float = encodeModel(recurrentModel('LSTM', 14, 12));
    const result = await quantizeModel(float, {
      mode,
      executor,
      ...(mode === 'static' && { calibrationData: [sample(1), sample(2)] }),
    });
    const written = decodeModel(result.bytes);
    const floats = [...written.graph.initializers.values()].filter((t) => t.dtype === 'float32');
    expect(floats.reduce((sum, t) => sum + t.data.length, 0)).toBeLessThanOrEqual(256 + 2 * 128);
    expect(written.graph.nodes.find((n) => n.opType === 'LSTM')).toBeDefined();
    // No integer kernel reads these codes: they are written as Cast/Mul, which onnxruntime folds into fp32 weights
    // at load, so the LSTM runs at fp32 speed (DequantizeLinear would run on every inference).
    expect(written.graph.nodes.filter((n) => n.opType === 'DequantizeLinear')).toEqual([]);
    expect(written.graph.nodes.filter((n) => n.opType === 'Cast').length).toBeGreaterThanOrEqual(2);
    expect(result.summary.nodes.find((d) => d.name === 'rnn')).toMatchObject({
      quantized: true,
      reason: expect.stringMatching(/^weights stored in int8; LSTM itself runs in float/),
    });
    const [reference, candidate] = await Promise.all(
      [float, result.bytes].map(async (bytes) => {
        const session = await executor.createSession(bytes);
        try {
          return (await session.run(sample(5))).y!;
        } finally {
          await session.dispose();
        }
      }),
    );
    expect(compareTensors(reference!, candidate!).sqnr).toBeGreaterThan(35);
  });
});
