import { checkSample, splitSampleBatches } from '@quantkit/calibration';
import { type ExecutorPlugin, type Observer, type ObserverPlugin, QuantError, type ValueRange } from '@quantkit/core';
import { type Model, encodeModel, exposeOutputs } from '@quantkit/onnx';
import type { CalibrationSample, ProgressEvent } from './options.js';

export interface CalibrateOptions {
  readonly executor: ExecutorPlugin;
  readonly observer: ObserverPlugin;
  readonly symmetric: boolean;
  readonly samples: Iterable<CalibrationSample> | AsyncIterable<CalibrationSample>;
  readonly total?: number | undefined;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
}

export interface CalibrationResult {
  readonly ranges: Map<string, ValueRange>;
  readonly samples: number;
}

/** The model's real inputs: graph inputs that are not initializers (IR < 4 lists weights as inputs too). */
export function feedInputs(model: Model) {
  return model.graph.inputs.filter((input) => !model.graph.initializers.has(input.name));
}

/**
 * Runs the float model over the samples with the named intermediate values exposed, folding each into its
 * observer. Only observer state is kept between samples, so memory does not grow with the sample count.
 * @throws QuantError CALIBRATION_DATA when there are no samples or a sample does not fit the model's inputs.
 */
export async function calibrate(model: Model, names: readonly string[], options: CalibrateOptions): Promise<CalibrationResult> {
  const observers = new Map<string, Observer>();
  for (const name of names) {
    observers.set(name, options.observer.create({ granularity: 'tensor', symmetric: options.symmetric }));
  }
  const session = await options.executor.createSession(encodeModel(exposeOutputs(model, [...names])));
  let count = 0;
  try {
    const inputs = feedInputs(model);
    let index = 0;
    for await (const sample of options.samples) {
      const source = `calibration sample ${index++}`;
      // A file may hold a batch larger than the model's fixed batch size: feed it in model-sized pieces.
      for (const feeds of splitSampleBatches(checkSample(sample, inputs, source), inputs, source)) {
        const outputs = await session.run(feeds, names);
        for (const [name, observer] of observers) {
          const value = outputs[name];
          if (value === undefined) throw new QuantError('EXECUTOR', `the executor did not return "${name}"`);
          observer.observe(value.data as Float32Array, value.shape);
        }
      }
      count++;
      options.onProgress?.({ phase: 'calibrate', done: count, total: options.total });
    }
  } finally {
    await session.dispose();
  }
  if (count === 0) throw new QuantError('CALIBRATION_DATA', 'static quantization needs at least one calibration sample; got none');
  const ranges = new Map<string, ValueRange>();
  for (const [name, observer] of observers) ranges.set(name, observer.range());
  return { ranges, samples: count };
}
