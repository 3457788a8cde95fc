// `quantkit quantize --recipe r.json`: the options a recipe file (from `quantkit auto --recipe-out`, or a model's
// recorded quantkit.recipe) was resolved from, in place of the flags that would set them.
import { readFile } from 'node:fs/promises';
import { QuantError } from '@quantkit/core';
import { type QuantizeOptions, optionsFromRecipe } from '@quantkit/quantize';
import { inFlagTerms } from '../flag-terms.js';
import { requireExisting } from '../paths.js';
import type { QuantizeFlags } from './quantize-flags.js';

/** Flags whose setting a recipe holds, by the QuantizeFlags key, as typed. */
const RECIPE_FLAGS: readonly (readonly [keyof QuantizeFlags, string])[] = [
  ['mode', '--mode'],
  ['quantizer', '--quantizer'],
  ['bits', '--bits'],
  ['granularity', '--granularity'],
  ['blockSize', '--block-size'],
  ['symmetric', '--symmetric'],
  ['asymmetric', '--asymmetric'],
  ['activationSymmetric', '--activation-symmetric'],
  ['activationBits', '--activation-bits'],
  ['float', '--float'],
  ['weightRange', '--weight-range'],
  ['weightOnlyForm', '--weight-only-form'],
  ['accuracyLevel', '--accuracy-level'],
  ['calibMethod', '--calib-method'],
  ['format', '--format'],
  ['exclude', '--exclude'],
  ['overrides', '--overrides'],
  ['biasCorrection', '--bias-correction'],
  ['target', '--target'],
];

/**
 * Reads a recipe file into quantize options, refusing flags that would set what the recipe already does.
 *
 * @example const options = await readRecipeFile('r.json', flags);
 * @throws QuantError NOT_FOUND for a missing file; INVALID_ARGUMENT for a file that is not a recipe (naming the
 *   field) or for a flag given alongside it that the recipe sets.
 */
export async function readRecipeFile(path: string, flags: QuantizeFlags): Promise<QuantizeOptions> {
  const given = RECIPE_FLAGS.filter(([key]) =>
    key === 'exclude' ? (flags.exclude?.length ?? 0) > 0 : flags[key] !== undefined,
  ).map(([, flag]) => flag);
  if (flags.keepFirstLast === false) given.push('--no-keep-first-last');
  if (given.length > 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `--recipe sets the quantization; drop ${given.join(', ')} (or edit the recipe file ${path})`,
    );
  }
  await requireExisting(path, '--recipe file', 'file');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `--recipe file ${path} is not JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    return optionsFromRecipe(value, path);
  } catch (error) {
    throw inFlagTerms(error);
  }
}
