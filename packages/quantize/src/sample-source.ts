import { type CalibrationInput, splitSampleBatches } from '@quantkit/calibration';
import { readCalibrationDir } from '@quantkit/calibration/node';
import { DEFAULT_RANDOM_SAMPLES, type SampleFactory, randomSampleSource } from './random-samples.js';

/** Where model inputs come from: a folder in the calibration layout, or seeded random data. */
export type SampleOrigin =
  | { readonly kind: 'folder'; readonly dir: string }
  | { readonly kind: 'random'; readonly seed: number };

export interface SampleSourceOptions {
  /** Caps the pieces read from a folder; the number of random samples (default DEFAULT_RANDOM_SAMPLES). */
  readonly limit?: number | undefined;
  /** The caller's option for real data, named when random data cannot be made (see randomSamples). */
  readonly dataOption?: string | undefined;
}

/**
 * Samples for `inputs`: the files of `origin.dir` (a file holding a batch is split into model-sized pieces, since
 * models with a fixed batch size take it in pieces), or random samples from `origin.seed`. Each call of the
 * returned function starts from the beginning, and random data is the same every time, so comparisons made in
 * several passes line up sample by sample.
 *
 * @example for await (const sample of sampleSource({ kind: 'random', seed: 1 }, inputs, { limit: 8 })()) run(sample);
 * @throws QuantError (while iterating) CALIBRATION_DATA for folder files that do not fit the inputs, UNSUPPORTED
 * for inputs random data cannot be made for.
 */
export function sampleSource(
  origin: SampleOrigin,
  inputs: readonly CalibrationInput[],
  options: SampleSourceOptions = {},
): SampleFactory {
  const { limit } = options;
  if (origin.kind === 'random') {
    return randomSampleSource(inputs, limit ?? DEFAULT_RANDOM_SAMPLES, origin.seed, options.dataOption);
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
