import { type Tensor, createSeededRandom, sizeOf } from '@quantkit/core';

/** A float32 tensor of seeded uniform values in [low, high). */
export function randomFloat(shape: readonly number[], seed: number, low = -1, high = 1): Tensor<'float32'> {
  const random = createSeededRandom(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * random();
  return { dtype: 'float32', shape: [...shape], data };
}

/** An int64 tensor holding `values`. */
export function int64Tensor(
  values: readonly number[],
  shape: readonly number[] = [values.length],
): Tensor<'int64'> {
  return { dtype: 'int64', shape: [...shape], data: BigInt64Array.from(values, BigInt) };
}
