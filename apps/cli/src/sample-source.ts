import { type CalibrationInput, splitSampleBatches } from '@quantkit/calibration';
import { readCalibrationDir } from '@quantkit/calibration/node';
import type { Tensor } from '@quantkit/core';
import { DEFAULT_RANDOM_SAMPLES, randomSamples } from '@quantkit/quantize';

/** Where a command's model inputs come from: a folder in the calibration layout, or seeded random data. */
export type SampleOrigin =
  | { readonly kind: 'folder'; readonly dir: string }
  | { readonly kind: 'random'; readonly seed: number };

/** A function returning a fresh iterable of model-sized samples each call, so consumers can read them in passes. */
export type SampleFactory = () => AsyncIterable<Record<string, Tensor>>;

/**
 * Samples for `inputs`: the files of `origin.dir` (a file holding a batch is split into model-sized pieces, since
 * models with a fixed batch size take it in pieces), or random samples from `origin.seed`. `limit` caps the pieces
 * read from a folder and is the number of random samples (default DEFAULT_RANDOM_SAMPLES). Each call of the returned function starts from the beginning, and random data is
 * the same every time, so comparisons made in several passes line up sample by sample.
 *
 * @example for await (const sample of sampleSource({ kind: 'random', seed: 1 }, inputs, 8)()) run(sample);
 * @throws QuantError (while iterating) CALIBRATION_DATA for folder files that do not fit the inputs, UNSUPPORTED
 * for inputs random data cannot be made for.
 */
export function sampleSource(
  origin: SampleOrigin,
  inputs: readonly CalibrationInput[],
  limit: number | undefined,
): SampleFactory {
  if (origin.kind === 'random') {
    const count = limit ?? DEFAULT_RANDOM_SAMPLES;
    return async function* () {
      yield* randomSamples(inputs, count, origin.seed);
    };
  }
  return async function* () {
    let count = 0;
    for await (const { sample, source } of readCalibrationDir(origin.dir, inputs)) {
      for (const piece of splitSampleBatches(sample, inputs, source)) {
        if (limit !== undefined && count >= limit) return;
        count++;
        yield piece;
      }
    }
  };
}
