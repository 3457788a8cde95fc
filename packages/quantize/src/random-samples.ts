import { type DType, QuantError, type Tensor, allocate, listChoices, sizeOf } from '@quantkit/core';
import { createSeededRandom } from '@quantkit/core';

/** A model input as far as random data needs it. Non-numeric or negative dims are symbolic. */
export interface RandomInput {
  readonly name: string;
  readonly dtype?: string | null | undefined;
  readonly shape?: readonly unknown[] | null | undefined;
}

/**
 * mulberry32: a tiny 32-bit PRNG. Deterministic across platforms, which is all random comparison data needs: the
 * same seed must give the same inputs so two `compare` runs agree.
 */
export const createPrng = createSeededRandom;

/** The seed random inputs use when none is given, so runs without --seed agree with each other. */
export const DEFAULT_SEED = 1;

/** Random samples commands make when they are not told how many. */
export const DEFAULT_RANDOM_SAMPLES = 8;

const RANDOM_DTYPES = ['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;

/** The size random data gives a symbolic dim after the first: big enough for strided convolutions and windows. */
export const SYMBOLIC_DIM = 64;

/**
 * The concrete shape random data takes. A symbolic dim (a name, -1, unknown) becomes 1 when it leads (the batch)
 * and SYMBOLIC_DIM elsewhere: image sides, sequence lengths and sample counts of 1 make many models fail to run
 * (a 3x3 convolution over a 1x1 image), while 64 runs through strides, pools and FFT windows of common models.
 */
export function concreteShape(
  shape: readonly unknown[] | null | undefined,
  symbolicDim = SYMBOLIC_DIM,
): number[] {
  return (shape ?? []).map((dim, axis) =>
    typeof dim === 'number' && Number.isInteger(dim) && dim >= 0 ? dim : axis === 0 ? 1 : symbolicDim,
  );
}

/** How random inputs are made, in words, for summaries. */
export const RANDOM_DATA_TEXT = `floats uniform in [-1, 1), integers in [0, 10), a symbolic batch dim set to 1, other symbolic dims to ${SYMBOLIC_DIM}`;

function fill(dtype: DType, size: number, next: () => number): Tensor['data'] {
  const data = allocate(dtype, size);
  for (let i = 0; i < size; i++) {
    const u = next();
    if (data instanceof BigInt64Array) {
      // Integer inputs are usually indices or lengths; small non-negative values are the safe guess.
      data[i] = BigInt(Math.floor(u * 10));
    } else if (dtype === 'float32' || dtype === 'float64') {
      (data as Float32Array)[i] = u * 2 - 1;
    } else if (dtype === 'bool') {
      (data as Uint8Array)[i] = u < 0.5 ? 0 : 1;
    } else {
      (data as Int32Array)[i] = Math.floor(u * 10);
    }
  }
  return data;
}

/**
 * Generates `count` samples of random data for a model's inputs: floats uniform in [-1, 1), integers in [0, 10),
 * a symbolic batch dim set to 1 and other symbolic dims to `symbolicDim` (default SYMBOLIC_DIM).
 *
 * @param dataOption the caller's option for real data, which the error for an input random data cannot be made for
 *   names as a message part (default "calibrationData"; the CLI words it as its flag).
 * @example randomSamples([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }], 2, 42) // two { x: [1, 4] } samples
 * @throws QuantError UNSUPPORTED for an input dtype random data cannot be made for (float16, strings...).
 */
export function randomSamples(
  inputs: readonly RandomInput[],
  count: number,
  seed: number,
  symbolicDim = SYMBOLIC_DIM,
  dataOption = 'calibrationData',
): Record<string, Tensor>[] {
  const next = createPrng(seed);
  const samples: Record<string, Tensor>[] = [];
  for (let s = 0; s < count; s++) {
    const sample: Record<string, Tensor> = {};
    for (const input of inputs) {
      const dtype = input.dtype ?? 'float32';
      if (!(RANDOM_DTYPES as readonly string[]).includes(dtype)) {
        throw new QuantError(
          'UNSUPPORTED',
          [
            `input "${input.name}" is ${dtype}; random data can be made for ${listChoices(RANDOM_DTYPES)}; pass `,
            { option: dataOption },
            ' with real inputs',
          ],
          { details: { input: input.name, dtype, allowed: [...RANDOM_DTYPES] } },
        );
      }
      const shape = concreteShape(input.shape, symbolicDim);
      sample[input.name] = {
        dtype: dtype as DType,
        shape,
        data: fill(dtype as DType, sizeOf(shape), next),
      } as Tensor;
    }
    samples.push(sample);
  }
  return samples;
}

/** A function returning a fresh iterable of model-sized samples each call, so consumers can read them in passes. */
export type SampleFactory = () => AsyncIterable<Record<string, Tensor>>;

/**
 * randomSamples as a source read in several passes: each call makes the same `count` samples again, so the samples
 * of one pass line up with those of the last and nothing is kept between passes.
 *
 * @example for await (const sample of randomSampleSource(inputs, 8, DEFAULT_SEED)()) await session.run(sample);
 * @throws QuantError (while iterating) UNSUPPORTED as randomSamples, naming `dataOption`.
 */
export function randomSampleSource(
  inputs: readonly RandomInput[],
  count: number,
  seed: number,
  dataOption?: string,
): SampleFactory {
  return async function* () {
    yield* randomSamples(inputs, count, seed, SYMBOLIC_DIM, dataOption);
  };
}
