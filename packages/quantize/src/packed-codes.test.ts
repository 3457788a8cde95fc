// Codes narrower than a byte (int4 below opset 21, binary, 2-3 bit, log indices) are stored several to a byte and
// unpacked by integer ops onnxruntime folds at load: the file shrinks by the code width, the outputs do not change.
import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { packCodes, storedCodes, unpackCodes } from './packed-codes.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

describe('packCodes', () => {
  it('round-trips every code range of 2 to 16 levels (seeded property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -8, max: 8 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 256, max: 700 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (qmin, span, count, seed) => {
          const random = createRandom(seed);
          const codes = Int8Array.from({ length: count }, () => qmin + Math.floor(random() * (span + 1)));
          const packed = packCodes(createTensor('int8', [count], codes), qmin, qmin + span)!;
          expect(packed.bytes.length).toBe(Math.ceil(count / Math.floor(8 / packed.bits)));
          expect(unpackCodes(packed, count, qmin)).toEqual([...codes]);
        },
      ),
      { seed: 8_002, numRuns: 200 },
    );
  });

  it('stores few distinct codes of a wide range (power-of-two codes) as indices into a table (seeded property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -127, max: 127 }), { minLength: 2, maxLength: 16 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (values, seed) => {
          const random = createRandom(seed);
          const codes = Int8Array.from({ length: 300 }, () => values[Math.floor(random() * values.length)]!);
          const packed = packCodes(createTensor('int8', [300], codes), -127, 127)!;
          expect(packed.bits).toBeLessThanOrEqual(4);
          expect(unpackCodes(packed, 300, -127)).toEqual([...codes]);
        },
      ),
      { seed: 8_003, numRuns: 100 },
    );
  });

  it('leaves codes with more than 16 values in a wide range, and small tensors, as they are', () => {
    const wide = Int8Array.from({ length: 512 }, (_, i) => (i % 200) - 100);
    expect(packCodes(createTensor('int8', [512], wide), -127, 127)).toBeUndefined();
    expect(packCodes(createTensor('int8', [16], new Int8Array(16)), -8, 7)).toBeUndefined();
  });
});

/** x [4, 256] -> MatMul(w [256, 192]) -> y: big enough that scales and unpack nodes are small beside the codes. */
function matmulModel(opset: number) {
  return createModel({
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [4, 256] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4, 192] }],
    initializers: { w: randomTensor([256, 192], createRandom(opset), 0.5) },
    nodes: [node('MatMul', ['x', 'w'], ['y'], {}, 'mm')],
  });
}

describe('weight-only files as small as their codes', () => {
  const cases = [
    { label: '--bits 4', options: { bits: 4 }, ratio: 0.5 + 0.05 },
    { label: '--bits 2', options: { bits: 2 }, ratio: 0.25 + 0.05 },
    {
      label: '--quantizer binary',
      options: { quantizer: 'binary', keepHigherPrecision: false },
      ratio: 0.25 + 0.05,
    },
    { label: '--quantizer log --bits 4', options: { quantizer: 'log', bits: 4 }, ratio: 0.5 + 0.05 },
  ];
  for (const opset of [9, 10, 13, 17]) {
    for (const { label, options, ratio } of cases) {
      it(`${label} at opset ${opset}: weight bytes shrink with the code width and onnxruntime computes x @ dequant(codes)`, async () => {
        const float = encodeModel(matmulModel(opset));
        const eight = await quantizeModel(float, { mode: 'weight-only', bits: 8 });
        const low = await quantizeModel(float, { mode: 'weight-only', executor, ...options });
        expect(low.summary.weightBytesAfter).toBeLessThan(eight.summary.weightBytesAfter * ratio);
        expect(low.bytes.length).toBeLessThan(eight.bytes.length);
        expect(low.summary.verification).toMatchObject({ verified: true });
        // Independent check of the unpack nodes: the float64 product of x and the stored codes, dequantized.
        const { graph } = low.model;
        const mm = graph.nodes.find((n) => n.name === 'mm')!;
        const deq = graph.producer(mm.inputs[1]!)!;
        const x = randomTensor([4, 256], createRandom(5));
        const session = await executor.createSession(low.bytes);
        const [reference] = await Promise.all([session.run({ x })]);
        await session.dispose();
        const weight = await dequantizedWeight(low.bytes, deq.outputs[0]!, x);
        expect(weight).toBeDefined();
        expect(storedCodes(graph, deq.inputs[0]!)).toBeDefined();
        const y = reference!['y']!.data as Float32Array;
        let worst = 0;
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 192; c++) {
            let sum = 0;
            for (let k = 0; k < 256; k++) sum += x.data[r * 256 + k]! * weight![k * 192 + c]!;
            worst = Math.max(worst, Math.abs(sum - y[r * 192 + c]!));
          }
        }
        expect(worst).toBeLessThan(1e-3);
      });
    }
  }
});

/** The dequantized weight as onnxruntime computes it, fetched as an extra output. */
async function dequantizedWeight(bytes: Uint8Array, name: string, x: ReturnType<typeof randomTensor>) {
  const { decodeModel, exposeOutputs } = await import('@quantkit/onnx');
  const session = await executor.createSession(encodeModel(exposeOutputs(decodeModel(bytes), [name])));
  try {
    return (await session.run({ x }))[name]?.data as Float32Array | undefined;
  } finally {
    await session.dispose();
  }
}

describe('--granularity block on a Conv model', () => {
  it('stores Conv weights at the requested 4 bits per channel, packed, and says so', async () => {
    const random = createRandom(11);
    const float = encodeModel(
      createModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 8, 8] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 32, 6, 6] }],
        initializers: { w: randomTensor([32, 16, 3, 3], random, 0.3), b: randomTensor([32], random, 0.1) },
        nodes: [node('Conv', ['x', 'w', 'b'], ['y'], {}, 'conv')],
      }),
    );
    const eight = await quantizeModel(float, { mode: 'weight-only', bits: 8 });
    const block = await quantizeModel(float, {
      mode: 'weight-only',
      granularity: 'block',
      bits: 4,
      executor,
    });
    const convs = block.summary.nodes.filter((decision) => decision.opType === 'Conv');
    expect(convs.length).toBeGreaterThan(0);
    for (const conv of convs)
      expect(conv.reason).toMatch(/^weights stored as 4-bit codes per channel, not in blocks/);
    expect(block.summary.weightBytesAfter).toBeLessThan(eight.summary.weightBytesAfter * 0.6);
    expect(block.summary.verification).toMatchObject({ verified: true });
  });
});
