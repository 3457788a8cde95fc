import { type ExecutorPlugin, type ExecutorSessionOptions, QuantError, type Tensor } from '@quantkit/core';
import { type Model, type ValueInfo, encodeModel, exposeOutputs, exposeOutputsInBytes } from '@quantkit/onnx';
import {
  type CalibrationInput,
  type CalibrationSample,
  checkSample,
  splitSampleBatches,
} from './calibration-sample.js';

/**
 * Samples to run: an array, or a function returning a fresh (async) iterable each time it is called, which lets
 * a collection read the data in several passes without holding it in memory. A plain one-shot iterable works
 * when one pass is enough.
 */
export type SampleSource =
  | readonly Readonly<CalibrationSample>[]
  | Iterable<Readonly<CalibrationSample>>
  | AsyncIterable<Readonly<CalibrationSample>>
  | (() => Iterable<Readonly<CalibrationSample>> | AsyncIterable<Readonly<CalibrationSample>>);

/**
 * Encoded bytes a model can run as, and the main-graph values they compute: a pass whose values are all among
 * them runs these bytes with the values appended as outputs (exposeOutputsInBytes) instead of encoding the model.
 * Give them only when they compute what the model does.
 */
export interface EncodedModel {
  readonly bytes: Uint8Array;
  readonly values: ReadonlySet<string>;
}

/** One model to observe, and optionally the encoding it may run as. */
export interface ObservedModel {
  readonly model: Model;
  readonly encoded?: EncodedModel | undefined;
}

export interface CollectActivationsOptions {
  readonly executor: ExecutorPlugin;
  readonly samples: SampleSource;
  /** Read at most this many samples per pass. */
  readonly limit?: number | undefined;
  /** Values exposed and fetched per pass over the data (default 64): more values, more passes, bounded memory. */
  readonly maxTensorsPerPass?: number | undefined;
  readonly sessionOptions?: ExecutorSessionOptions | undefined;
  /** Called after each sample of each pass. */
  readonly onSample?: (() => void) | undefined;
}

/** The values of one fed batch: for each model, its tensor of each value of the pass. */
export type ObservedValues = readonly Readonly<Record<string, Tensor>>[];

export interface CollectedActivations {
  /** Samples read in each pass (the same in every pass). */
  readonly samples: number;
  /** Rows fed: a batch fed to a model with a symbolic batch dimension counts its rows. */
  readonly rows: number;
  readonly passes: number;
}

/** The inputs a caller feeds: graph inputs that are not initializers. */
export function feedInputs(model: Model): ValueInfo[] {
  return model.graph.inputs.filter((input) => !model.graph.initializers.has(input.name));
}

/** Rows in fed samples: the leading dim of the first input when it is symbolic (a batch), else 1. */
export function samplesIn(feeds: CalibrationSample, inputs: readonly CalibrationInput[]): number {
  const first = inputs[0];
  if (first === undefined) return 1;
  const declared = first.shape?.[0];
  if (typeof declared === 'number' && declared > 0) return 1;
  return feeds[first.name]?.shape[0] ?? 1;
}

function openSamples(source: SampleSource, pass: number) {
  if (typeof source === 'function') return source();
  if (pass > 0 && !Array.isArray(source)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'calibration needs several passes over the samples (more tensors than maxTensorsPerPass), but they came ' +
        'from a one-shot iterable; pass an array or a function that returns a fresh iterable',
    );
  }
  return source;
}

async function session(
  observed: ObservedModel,
  names: readonly string[],
  options: CollectActivationsOptions,
) {
  // Values inside If branches come out under an extra output of their If (aliases maps them).
  const aliases = new Map<string, string>();
  const { encoded } = observed;
  const bytes =
    encoded !== undefined && names.every((name) => encoded.values.has(name))
      ? exposeOutputsInBytes(encoded.bytes, observed.model, names)
      : encodeModel(exposeOutputs(observed.model, names, aliases));
  const fetched = names.map((name) => aliases.get(name) ?? name);
  return { session: await options.executor.createSession(bytes, options.sessionOptions), aliases, fetched };
}

/**
 * The one loop that observes intermediate values, for calibration, the per-layer report and, next, bias
 * correction and AdaRound: runs each model over the samples with `names` exposed, at most `maxTensorsPerPass` per
 * pass (re-reading the samples for each), and hands every fed batch's values to `visit`, one record per model.
 * Only what `visit` keeps survives a batch, so memory does not grow with the sample count or the model's depth.
 *
 * @example
 * await collectActivations([{ model }], ['conv1_out'], { executor, samples }, (names, [values]) => observe(values));
 * @throws QuantError CALIBRATION_DATA when a sample does not fit the inputs or passes read different counts,
 *   EXECUTOR when the executor does not return a value.
 */
export async function collectActivations(
  models: readonly ObservedModel[],
  names: readonly string[],
  options: CollectActivationsOptions,
  visit: (names: readonly string[], values: ObservedValues) => void,
): Promise<CollectedActivations> {
  const perPass = options.maxTensorsPerPass ?? 64;
  if (!Number.isInteger(perPass) || perPass < 1) {
    throw new QuantError('INVALID_ARGUMENT', `maxTensorsPerPass must be a positive integer, got ${perPass}`);
  }
  const inputs = feedInputs(models[0]!.model);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let samples = 0;
  let rows = 0;
  let passes = 0;
  for (let start = 0; start < names.length; start += perPass, passes++) {
    const pass = names.slice(start, start + perPass);
    const sessions = [];
    try {
      for (const observed of models) sessions.push(await session(observed, pass, options));
      let index = 0;
      for await (const sample of openSamples(options.samples, passes)) {
        if (index >= limit) break;
        const source = `calibration sample ${index++}`;
        // A file may hold a batch larger than the model's fixed batch size: feed it in model-sized pieces.
        for (const feeds of splitSampleBatches(checkSample(sample, inputs, source), inputs, source)) {
          if (passes === 0) rows += samplesIn(feeds, inputs);
          const values: Record<string, Tensor>[] = [];
          for (const { session: run, aliases, fetched } of sessions) {
            const outputs = await run.run(feeds, fetched);
            const byName: Record<string, Tensor> = {};
            for (const name of pass) {
              const value = outputs[aliases.get(name) ?? name];
              if (value === undefined)
                throw new QuantError('EXECUTOR', `the executor did not return "${name}"`);
              byName[name] = value;
            }
            values.push(byName);
          }
          visit(pass, values);
        }
        options.onSample?.();
      }
      if (passes === 0) samples = index;
      else if (index !== samples) {
        throw new QuantError(
          'CALIBRATION_DATA',
          `calibration pass ${passes + 1} read ${index} samples, pass 1 read ${samples}`,
        );
      }
    } finally {
      for (const { session: run } of sessions) await run.dispose();
    }
  }
  return { samples, rows, passes };
}
