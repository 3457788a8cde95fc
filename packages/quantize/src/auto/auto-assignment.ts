// An assignment (layer -> candidate) as the options of one weight-only quantizeModel run. Every auto model, the
// sensitivity runs, the search's trials and the one written, is made by this function, so a recipe saved from it
// rebuilds the model byte for byte.
import type { KeptFloat, QuantizeOptions, WeightOnlyForm } from '../options.js';
import type { NodeOverride } from '../overrides.js';
import { AUTO_CANDIDATES, type AutoCandidateName } from './auto-candidates.js';

/** A candidate per weighted layer, by node name. Layers not named stay float. */
export type AutoAssignment = Readonly<Record<string, AutoCandidateName>>;

/** Why a layer is float in an auto model (its keepFloat reason in the recipe). */
export const AUTO_FLOAT_REASON = 'kept float by quantkit auto';

/**
 * The quantizeModel options that write an assignment: weight-only, each quantized layer's candidate as an override
 * under its exact node name, each float layer kept float by name. The first/last-layer exception of binary
 * quantizers is off: the assignment already says what each layer gets. No verification run: the caller measures.
 *
 * `form` 'fold' writes int8 codes in the form onnxruntime folds into fp32 weights at load (fp32 speed, the same
 * file size); 'dequantize' keeps DequantizeLinear, run on every inference.
 *
 * @example assignmentOptions(['fc1', 'fc2'], { fc1: 'int4' }) // fc1 int4, fc2 kept float
 */
export function assignmentOptions(
  layers: readonly string[],
  assignment: AutoAssignment,
  form: WeightOnlyForm = 'dequantize',
): QuantizeOptions & { overrides: { nodes: Record<string, NodeOverride> } } {
  const nodes: Record<string, NodeOverride> = {};
  const keepFloat: KeptFloat[] = [];
  for (const layer of layers) {
    const name = assignment[layer] ?? 'float';
    if (name === 'float') keepFloat.push({ node: layer, reason: AUTO_FLOAT_REASON });
    else nodes[layer] = AUTO_CANDIDATES.find((candidate) => candidate.name === name)!.override;
  }
  return {
    mode: 'weight-only',
    quantizer: 'linear',
    bits: 8,
    granularity: 'channel',
    symmetric: true,
    keepHigherPrecision: false,
    ...(form === 'fold' && { weightOnlyForm: 'fold' as const }),
    overrides: { nodes },
    keepFloat,
    verify: false,
  };
}

/** A short label: the candidate counts, as "int8 x2, int4 x1, float x1". */
export function assignmentLabel(layers: readonly string[], assignment: AutoAssignment): string {
  const counts = new Map<string, number>();
  for (const layer of layers) {
    const name = assignment[layer] ?? 'float';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return AUTO_CANDIDATES.filter((candidate) => counts.has(candidate.name))
    .map((candidate) => `${candidate.name} x${counts.get(candidate.name)}`)
    .join(', ');
}
