import type { Model } from '@quantkit/onnx';
import type { Recipe } from './options.js';
import { QUANTKIT_VERSION } from './version.js';

export const PROVENANCE_KEYS = {
  version: 'quantkit.version',
  recipe: 'quantkit.recipe',
  target: 'quantkit.target',
  calibration: 'quantkit.calibration_sha256',
} as const;

/**
 * Records how the model was made in its metadata_props: the recipe, target, quantkit version and a hash of the
 * calibration data. Nothing time- or machine-dependent goes in, so identical runs write identical files.
 *
 * @example writeProvenance(model, summary.recipe, 'x86-vnni', calibrationHash);
 */
export function writeProvenance(
  model: Model,
  recipe: Recipe,
  target: string,
  calibrationHash: string | undefined,
): void {
  const entries: Record<string, string> = {
    [PROVENANCE_KEYS.version]: QUANTKIT_VERSION,
    [PROVENANCE_KEYS.recipe]: JSON.stringify(recipe),
    [PROVENANCE_KEYS.target]: target,
  };
  if (calibrationHash !== undefined) entries[PROVENANCE_KEYS.calibration] = calibrationHash;
  for (const [key, value] of Object.entries(entries)) model.metadata.set(key, value);
}

/** What a model says about how quantkit made it (see writeProvenance); each field undefined when missing. */
export interface Provenance {
  readonly version: string | undefined;
  /**
   * The recipe as recorded: a JSON object, not checked against this version's Recipe (an older or newer quantkit
   * may have written it); undefined when the entry is missing or not a JSON object.
   */
  readonly recipe: Readonly<Record<string, unknown>> | undefined;
  /** The recipe's mode, when it records one as a string. */
  readonly mode: string | undefined;
  readonly target: string | undefined;
  readonly calibrationHash: string | undefined;
  /** Every metadata_props entry whose key starts with "quantkit" (any case), values parsed where they are JSON. */
  readonly entries: Readonly<Record<string, unknown>>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Reads back the provenance writeProvenance records, from a model quantkit wrote or any other. Malformed entries
 * (a recipe that is not JSON, say) read as missing rather than failing: the model is still usable.
 *
 * @example readProvenance(model)?.recipe?.mode // 'static'
 * @returns undefined for a model with no metadata_props key starting with "quantkit".
 */
export function readProvenance(model: Pick<Model, 'metadata'>): Provenance | undefined {
  const quantkitEntries = [...model.metadata].filter(([key]) => key.toLowerCase().startsWith('quantkit'));
  if (quantkitEntries.length === 0) return undefined;
  const recorded = model.metadata.get(PROVENANCE_KEYS.recipe);
  const parsed = recorded === undefined ? undefined : parseJson(recorded);
  // A recipe that is not JSON parses to its own text, a string, and so reads as missing too.
  const recipe =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  return {
    version: model.metadata.get(PROVENANCE_KEYS.version),
    recipe,
    mode: typeof recipe?.mode === 'string' ? recipe.mode : undefined,
    target: model.metadata.get(PROVENANCE_KEYS.target),
    calibrationHash: model.metadata.get(PROVENANCE_KEYS.calibration),
    entries: Object.fromEntries(quantkitEntries.map(([key, value]) => [key, parseJson(value)])),
  };
}
