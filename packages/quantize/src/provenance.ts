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
