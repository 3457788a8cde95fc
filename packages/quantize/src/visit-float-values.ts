import type { ExecutorPlugin, Tensor } from '@quantkit/core';
import { type Model, encodeModel, exposeOutputs } from '@quantkit/onnx';
import type { CalibrationSample } from './options.js';

/**
 * Runs the float model on each sample with `names` exposed as outputs and hands each run's values to `visit`, one
 * sample at a time, so a caller keeps only what it folds out of them (bias correction's input means, AdaRound's
 * sampled input columns).
 *
 * @example
 * await visitFloatValues(executor, planned, ['conv1_in'], samples, (values) => means.add(values.conv1_in!));
 * @throws QuantError INVALID_ARGUMENT when a name is not a value of the model; EXECUTOR when a run fails.
 */
export async function visitFloatValues(
  executor: ExecutorPlugin,
  model: Model,
  names: readonly string[],
  samples: readonly CalibrationSample[],
  visit: (values: Readonly<Record<string, Tensor>>) => void,
): Promise<void> {
  const session = await executor.createSession(encodeModel(exposeOutputs(model, names)));
  try {
    for (const sample of samples) visit(await session.run(sample));
  } finally {
    await session.dispose();
  }
}
