// Shared by the tests of this package (not exported): seeded data, onnxruntime-node runs, SQNR.
import { type Tensor, createSeededRandom } from '@quantkit/core';
import { type Model, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), so failures reproduce. */
export function seededFloats(count: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length: count }, () => random() * 2 - 1);
}

export function floatTensor(shape: number[], seed: number, scale = 1, offset = 0): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = seededFloats(size, seed).map((v) => v * scale + offset);
  return { dtype: 'float32', shape, data };
}

export type OrtOutputs = Record<
  string,
  { type: string; dims: readonly number[]; data: ArrayLike<number | bigint> }
>;

/** Runs a model in onnxruntime-node (one thread) and returns its outputs. */
export async function runOrt(
  model: Model | Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<OrtOutputs> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const results = await session.run(feeds);
    const out: OrtOutputs = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = { type: value.type, dims: value.dims, data: value.data as ArrayLike<number | bigint> };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** A float32 onnxruntime feed. */
export function feed(tensor: Tensor<'float32'>): ort.Tensor {
  return new ort.Tensor('float32', tensor.data, [...tensor.shape]);
}

/** Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2). */
export function sqnr(reference: ArrayLike<number | bigint>, test: ArrayLike<number | bigint>): number {
  if (reference.length !== test.length) throw new Error(`length ${reference.length} vs ${test.length}`);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Number(reference[i]);
    const e = r - Number(test[i]);
    signal += r * r;
    noise += e * e;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}
