// A user's own refinement of the computed quantization, written here with the public APIs only, plugs into
// quantizeModel through options.quantizationTransforms and changes what it writes, with no change to the
// pipeline: it rounds every weight scale up to a power of two (hardware that rescales by shifting wants that) and
// quantizes the weight again at the new scale.
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, encodeModel } from '@quantkit/onnx';
import { type QuantizationTransform, quantizeModel } from '@quantkit/quantize';
import { quantizeLinear } from '@quantkit/core';
import { sqnr } from '@quantkit/test-kit';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { mlpModel, seededRandom, uniformTensor } from './testing/test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

const powerOfTwoScales: QuantizationTransform = {
  name: 'power-of-two-scales',
  apply(computed) {
    let changed = 0;
    for (const [use, weight] of computed.weights) {
      const { params } = weight.quantized;
      const scale = Float32Array.from(params.scale, (s) => 2 ** Math.ceil(Math.log2(s)));
      if (scale.every((s, i) => s === params.scale[i])) continue;
      const next = { ...params, scale };
      const codes = quantizeLinear(weight.tensor.data, weight.tensor.shape, next);
      computed.weights.set(use, { ...weight, quantized: { codes, params: next } });
      changed++;
    }
    return changed;
  },
};

/** The scales of the weights' DequantizeLinear nodes (their codes are initializers). */
function weightScales(model: Model): number[] {
  const { graph } = model;
  return graph.nodes
    .filter((node) => node.opType === 'DequantizeLinear' && graph.initializers.has(node.inputs[0]!))
    .flatMap((node) => [...(graph.initializers.get(node.inputs[1]!)!.data as Float32Array)]);
}

async function run(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await executor.createSession(bytes);
  try {
    return (await session.run({ x: { dtype: 'float32', shape: [2, 24], data: x } }))['y']!
      .data as Float32Array;
  } finally {
    await session.dispose();
  }
}

describe('a quantization transform from outside quantkit', () => {
  it('changes the codes and scales quantizeModel writes, and the model still runs close to the float one', async () => {
    const { model } = mlpModel(21);
    const bytes = encodeModel(model);
    const plain = await quantizeModel(bytes, { mode: 'weight-only', executor });
    const shifted = await quantizeModel(bytes, {
      mode: 'weight-only',
      executor,
      quantizationTransforms: [powerOfTwoScales],
    });
    const isPowerOfTwo = (s: number) => Number.isInteger(Math.log2(s));
    expect(weightScales(plain.model).every(isPowerOfTwo)).toBe(false);
    const scales = weightScales(shifted.model);
    expect(scales.length).toBeGreaterThan(32);
    expect(scales.every(isPowerOfTwo)).toBe(true);
    expect(shifted.summary.verification?.verified).toBe(true);

    const x = uniformTensor([2, 24], seededRandom(22)).data as Float32Array;
    const reference = await run(bytes, x);
    // A coarser grid (scales up to 2x) costs accuracy but stays near the float model.
    expect(sqnr(reference, await run(shifted.bytes, x))).toBeGreaterThan(25);
    expect(sqnr(reference, await run(shifted.bytes, x))).toBeLessThan(
      sqnr(reference, await run(plain.bytes, x)),
    );
  });

  it('one that returns no change count is named in the error', async () => {
    const broken = { name: 'broken', apply: () => -1 } satisfies QuantizationTransform;
    await expect(
      quantizeModel(encodeModel(mlpModel(23).model), { mode: 'dynamic', quantizationTransforms: [broken] }),
    ).rejects.toThrow(/transform "broken" must return the number of changes/);
  });
});
