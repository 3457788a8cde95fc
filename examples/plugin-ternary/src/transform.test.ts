// A user's own float-graph transform, written here with the public APIs only, plugs into quantizeModel through
// options.transforms and changes what it writes, with no change to the pipeline: it folds a Mul by a constant
// scalar into the MatMul weight before it (what an exporter leaves after a scaled projection), so the scale is
// part of the int8 weight instead of a float Mul between Q/DQ pairs.
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, encodeModel } from '@quantkit/onnx';
import { type ModelTransform, quantizeModel } from '@quantkit/quantize';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { seededRandom, uniformTensor } from './testing/test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

/** MatMul(x, W) -> Mul(., 0.25) -> Relu -> MatMul(., W2). */
function scaledProjection(): Model {
  const random = seededRandom(5);
  return createModel({
    opset: 17,
    inputs: [['x', 'float32', [4, 32]]],
    outputs: [['y', 'float32', [4, 8]]],
    initializers: {
      w: uniformTensor([32, 16], random),
      scale: { dtype: 'float32', shape: [], data: Float32Array.of(0.25) },
      w2: uniformTensor([16, 8], random),
    },
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
      { opType: 'Mul', inputs: ['h', 'scale'], outputs: ['scaled'] },
      { opType: 'Relu', inputs: ['scaled'], outputs: ['r'] },
      { opType: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
    ],
  });
}

/** Folds Mul(MatMul(x, W), c) with a constant scalar c into MatMul(x, c * W). */
const foldScalarMul: ModelTransform = {
  name: 'fold-scalar-mul',
  apply(model) {
    const { graph } = model;
    let folded = 0;
    for (const mul of [...graph.nodes]) {
      if (mul.opType !== 'Mul') continue;
      const scale = graph.initializers.get(mul.inputs[1]!);
      const producer = graph.producer(mul.inputs[0]!);
      if (scale?.dtype !== 'float32' || scale.data.length !== 1 || producer?.opType !== 'MatMul') continue;
      if (graph.consumers(producer.outputs[0]!).length !== 1) continue;
      const weight = graph.initializers.get(producer.inputs[1]!);
      if (weight?.dtype !== 'float32') continue;
      const factor = (scale.data as Float32Array)[0]!;
      const scaled = graph.uniqueName(`${producer.inputs[1]}_scaled`);
      graph.addInitializer(scaled, {
        dtype: 'float32',
        shape: [...weight.shape],
        data: (weight.data as Float32Array).map((value) => value * factor),
      });
      graph.removeNode(producer);
      graph.removeNode(mul);
      graph.addNode({ ...producer, inputs: [producer.inputs[0]!, scaled], outputs: [mul.outputs[0]!] });
      folded++;
    }
    graph.removeUnused();
    return folded;
  },
};

async function run(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await executor.createSession(bytes);
  try {
    const outputs = await session.run({ x: { dtype: 'float32', shape: [4, 32], data: x } });
    return outputs['y']!.data as Float32Array;
  } finally {
    await session.dispose();
  }
}

describe('a transform from outside quantkit', () => {
  it('changes what quantizeModel writes: the scalar Mul is gone into the int8 weight, the output stays close', async () => {
    const bytes = encodeModel(scaledProjection());
    const random = seededRandom(6);
    const samples = Array.from({ length: 8 }, () => ({ x: uniformTensor([4, 32], random) }));
    const options = { mode: 'static', executor, calibrationData: samples } as const;
    const plain = await quantizeModel(bytes, options);
    const transformed = await quantizeModel(bytes, { ...options, transforms: [foldScalarMul] });

    const opTypes = (model: Model) => model.graph.nodes.map((node) => node.opType);
    expect(opTypes(plain.model)).toContain('Mul');
    expect(opTypes(transformed.model)).not.toContain('Mul');
    expect(transformed.summary.nodes.map((node) => node.opType)).not.toContain('Mul');
    expect(transformed.bytes.length).toBeLessThan(plain.bytes.length);

    const x = samples[0]!.x.data as Float32Array;
    const reference = await run(bytes, x);
    const output = await run(transformed.bytes, x);
    let error = 0;
    let peak = 0;
    for (let i = 0; i < reference.length; i++) {
      error = Math.max(error, Math.abs(output[i]! - reference[i]!));
      peak = Math.max(peak, Math.abs(reference[i]!));
    }
    expect(error / peak).toBeLessThan(0.05);
  });

  it('one that returns no change count is named in the error', async () => {
    const broken = { name: 'broken', apply: () => Number.NaN } satisfies ModelTransform;
    await expect(
      quantizeModel(encodeModel(scaledProjection()), { mode: 'dynamic', transforms: [broken] }),
    ).rejects.toThrow(/transform "broken" must return the number of changes/);
  });
});
