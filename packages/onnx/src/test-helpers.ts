// Shared by the tests of this package (not exported): running models in onnxruntime-node and seeded data.
import { type DType, type Tensor, createSeededRandom } from '@quantkit/core';
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

const ORT_TYPES: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/** Runs a serialized model in onnxruntime-node and returns every output as float32 (or its raw typed data). */
export async function runOrt(
  model: Uint8Array | string,
  feeds: Record<string, Tensor>,
): Promise<Record<string, { dims: readonly number[]; data: ArrayLike<number | bigint> }>> {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model)
      : await ort.InferenceSession.create(model);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      const type = ORT_TYPES[tensor.dtype];
      if (type === undefined) throw new Error(`test helper cannot feed ${tensor.dtype}`);
      ortFeeds[name] = new ort.Tensor(type, tensor.data as never, [...tensor.shape]);
    }
    const results = await session.run(ortFeeds);
    const out: Record<string, { dims: readonly number[]; data: ArrayLike<number | bigint> }> = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = { dims: value.dims, data: value.data as ArrayLike<number | bigint> };
    }
    return out;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(Number(a[i]) - Number(b[i])));
  return max;
}
