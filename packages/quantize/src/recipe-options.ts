import { QuantError } from '@quantkit/core';
import type { KeptFloat, QuantizeOptions, Recipe } from './options.js';
import { parseOverrides } from './overrides.js';

/** Recipe fields that are options as they stand. */
const OPTION_FIELDS = [
  'mode',
  'target',
  'quantizer',
  'bits',
  'granularity',
  'blockSize',
  'weightRange',
  'weightOnlyForm',
  'keepHigherPrecision',
  'accuracyLevel',
  'symmetric',
  'activationSymmetric',
  'activationBits',
  'floatPrecision',
  'calibrationMethod',
  'format',
  'exclude',
  'overrides',
  'biasCorrection',
  'keepFloat',
] as const;

/** Recipe fields the target decides (resolving the recipe's target gives them back), so options do not carry them. */
const TARGET_FIELDS = ['reduceRange', 'qdqPerConsumer', 'quantizedOps'];

function fail(source: string, message: string): never {
  throw new QuantError('INVALID_ARGUMENT', [{ file: 'recipe file', path: source }, `: ${message}`], {
    details: { option: 'recipe' },
  });
}

/**
 * The quantizeModel options that a recipe (summary.recipe, the `quantkit.recipe` metadata of a written model, or
 * `quantkit auto --recipe-out`) was resolved from, so a run from it writes the same model. Every field is checked
 * again when the options are resolved.
 *
 * @example
 * const again = await quantizeModel(input, optionsFromRecipe(JSON.parse(text), 'r.json'));
 * @throws QuantError INVALID_ARGUMENT naming the file and the field that is not part of a recipe or has the wrong
 *   type.
 */
export function optionsFromRecipe(value: unknown, source = '(inline)'): QuantizeOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(source, 'must be a JSON object');
  const recipe = value as Partial<Record<keyof Recipe, unknown>>;
  for (const key of Object.keys(recipe)) {
    if (!(OPTION_FIELDS as readonly string[]).includes(key) && !TARGET_FIELDS.includes(key))
      fail(source, `unknown field "${key}"`);
  }
  if (typeof recipe.mode !== 'string') fail(source, 'needs "mode"');
  if (recipe.target !== undefined && typeof recipe.target !== 'string')
    fail(source, '"target" must be a name');
  if (recipe.exclude !== undefined && !Array.isArray(recipe.exclude))
    fail(source, '"exclude" must be a list');
  if (recipe.biasCorrection !== undefined && recipe.biasCorrection !== true)
    fail(source, '"biasCorrection" must be true when present');
  const keepFloat = recipe.keepFloat;
  if (
    keepFloat !== undefined &&
    !(
      Array.isArray(keepFloat) &&
      keepFloat.every(
        (entry: unknown) =>
          typeof entry === 'object' &&
          entry !== null &&
          typeof (entry as KeptFloat).node === 'string' &&
          typeof (entry as KeptFloat).reason === 'string',
      )
    )
  ) {
    fail(source, '"keepFloat" must be a list of { "node": name, "reason": text }');
  }
  const options: Record<string, unknown> = {};
  for (const field of OPTION_FIELDS) {
    if (recipe[field] !== undefined && recipe[field] !== null) options[field] = recipe[field];
  }
  if (recipe.overrides !== undefined) options.overrides = parseOverrides(recipe.overrides, source);
  return options as unknown as QuantizeOptions;
}
