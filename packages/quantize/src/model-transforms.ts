import { QuantError } from '@quantkit/core';
import { type Model, divideByConstantAsMul, foldBatchNorm } from '@quantkit/onnx';
import type { ComputedQuantization } from './compute-quantization.js';
import type { QuantizeMode, Recipe } from './options.js';
import type { QuantPlan } from './plan.js';

/**
 * A rewrite of the float model that runs before planning, in order with the others: BatchNorm folding today,
 * cross-layer equalization and bias absorption next. A transform edits `model` in place (it is quantkit's private
 * copy) and returns how many places it changed, 0 when it left the model as it was: calibration then runs the
 * input's own encoding instead of encoding the model again.
 *
 * @example
 * const scaleInputs: ModelTransform = { name: 'scale-inputs', apply: (model) => { ...; return 1; } };
 * await quantizeModel(bytes, { mode: 'dynamic', transforms: [scaleInputs] });
 */
export interface ModelTransform {
  readonly name: string;
  /** The modes it runs in (default every mode): a rewrite that only pays where it changes what gets quantized. */
  readonly modes?: readonly QuantizeMode[];
  apply(model: Model): number | Promise<number>;
}

/** Folds inference-mode BatchNormalization into the Conv, ConvTranspose or Gemm before it (see foldBatchNorm). */
export const batchNormFolding: ModelTransform = {
  name: 'fold-batch-norm',
  apply: (model) => foldBatchNorm(model.graph),
};

/**
 * Static mode: Div by a one-value constant becomes Mul by its reciprocal (see divideByConstantAsMul), which
 * onnxruntime fuses into QLinearMul where a Div stays float between Q/DQ pairs (hard-swish's `/ 6`: 24-28 fewer Q/DQ
 * pairs on the corpus's OCR models). Other modes keep their Div: it computes in float there either way.
 */
export const divisionAsMultiplication: ModelTransform = {
  name: 'divide-by-constant-as-mul',
  modes: ['static', 'data-free'],
  apply: (model) => divideByConstantAsMul(model.graph),
};

/** The transforms every run applies before the caller's own. */
export const BUILTIN_TRANSFORMS: readonly ModelTransform[] = [batchNormFolding, divisionAsMultiplication];

/** What a quantization transform may read beside the value it refines. */
export interface QuantizationContext {
  /** The float model as planned (after the model transforms); read it, do not change it. */
  readonly model: Model;
  readonly plan: QuantPlan;
  readonly recipe: Recipe;
}

/**
 * A refinement of the computed quantization, run in order with the others after the codes and parameters are
 * computed and before they are written: bias correction and rounding optimisation (AdaRound) work here. It
 * replaces entries of `computed` (a weight's codes and parameters, a bias's codes, an activation's parameters;
 * the plan stays as it is) and returns how many it changed. It sees the main graph; weights inside If/Loop/Scan
 * bodies are computed and written on their own.
 *
 * @example
 * const zeroSmall: QuantizationTransform = { name: 'zero-small', apply: (computed) => { ...; return changed; } };
 * await quantizeModel(bytes, { mode: 'weight-only', quantizationTransforms: [zeroSmall] });
 */
export interface QuantizationTransform {
  readonly name: string;
  apply(computed: ComputedQuantization, context: QuantizationContext): number | Promise<number>;
}

function checkCount(name: string, changed: unknown): number {
  if (!Number.isInteger(changed) || (changed as number) < 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `transform "${name}" must return the number of changes it made, got ${JSON.stringify(changed)}`,
    );
  }
  return changed as number;
}

/**
 * Runs the transforms in order (those for `mode`, when given) and returns the number of changes they made; the
 * graph is sorted again after.
 * @throws QuantError INVALID_ARGUMENT when a transform returns something other than a count, with its name.
 */
export async function applyTransforms(
  model: Model,
  transforms: readonly ModelTransform[],
  mode?: QuantizeMode,
): Promise<number> {
  let changes = 0;
  for (const transform of transforms) {
    if (mode !== undefined && transform.modes !== undefined && !transform.modes.includes(mode)) continue;
    changes += checkCount(transform.name, await transform.apply(model));
  }
  model.graph.topologicalSort();
  return changes;
}

/**
 * Runs the quantization transforms in order over the computed value and returns the number of changes.
 * @throws QuantError INVALID_ARGUMENT when a transform returns something other than a count, with its name.
 */
export async function applyQuantizationTransforms(
  computed: ComputedQuantization,
  context: QuantizationContext,
  transforms: readonly QuantizationTransform[],
): Promise<number> {
  let changes = 0;
  for (const transform of transforms) {
    changes += checkCount(transform.name, await transform.apply(computed, context));
  }
  return changes;
}
