import { QuantError } from '@quantkit/core';
import { type Model, foldBatchNorm } from '@quantkit/onnx';

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
  apply(model: Model): number | Promise<number>;
}

/** Folds inference-mode BatchNormalization into the Conv, ConvTranspose or Gemm before it (see foldBatchNorm). */
export const batchNormFolding: ModelTransform = {
  name: 'fold-batch-norm',
  apply: (model) => foldBatchNorm(model.graph),
};

/** The transforms every run applies before the caller's own. */
export const BUILTIN_TRANSFORMS: readonly ModelTransform[] = [batchNormFolding];

/**
 * Runs the transforms in order and returns the number of changes they made; the graph is sorted again after.
 * @throws QuantError INVALID_ARGUMENT when a transform returns something other than a count, with its name.
 */
export async function applyTransforms(model: Model, transforms: readonly ModelTransform[]): Promise<number> {
  let changes = 0;
  for (const transform of transforms) {
    const changed = await transform.apply(model);
    if (!Number.isInteger(changed) || changed < 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `transform "${transform.name}" must return the number of changes it made, got ${JSON.stringify(changed)}`,
      );
    }
    changes += changed;
  }
  model.graph.topologicalSort();
  return changes;
}
