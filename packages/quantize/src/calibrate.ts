import { checkSample, splitSampleBatches } from '@quantkit/calibration';
import {
  type ExecutorPlugin,
  type ExecutorSessionOptions,
  type Observer,
  type ObserverOptions,
  type ObserverPlugin,
  QuantError,
  type ValueRange,
} from '@quantkit/core';
import { type Model, encodeModel, exposeOutputs, exposeOutputsInBytes } from '@quantkit/onnx';
import type { CalibrationSample, CalibrationSource, ProgressEvent } from './options.js';

/** What to observe for one activation. */
export interface ObservationRequest {
  readonly name: string;
  readonly observer: ObserverPlugin;
  readonly options: ObserverOptions;
}

export interface CalibrateOptions {
  readonly executor: ExecutorPlugin;
  readonly samples: CalibrationSource;
  /** Stop after this many samples. */
  readonly limit?: number | undefined;
  /**
   * At most this many intermediate tensors are exposed and fetched per pass over the data (default 64); more
   * tensors mean more passes, so the memory of one run stays bounded on models with thousands of activations.
   */
  readonly maxTensorsPerPass?: number | undefined;
  readonly total?: number | undefined;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
  /** Options for the executor's sessions (e.g. threads). */
  readonly sessionOptions?: ExecutorSessionOptions | undefined;
  /**
   * Encoded bytes of the float model the executor may run instead of `model`, and the main-graph values they
   * compute. A pass whose values are all among them runs these bytes with the values appended as outputs, so
   * the model is not encoded again (see exposeOutputsInBytes). Give them only when they compute what `model`
   * does: the same model, or the one it was made from by quantkit's own float rewrites (BatchNorm folding).
   */
  readonly source?: FloatModelBytes | undefined;
}

/** Encoded float model bytes and the names of the main-graph values they compute (CalibrateOptions.source). */
export interface FloatModelBytes {
  readonly bytes: Uint8Array;
  readonly values: ReadonlySet<string>;
}

/** The names of every value a graph's main scope computes or reads: inputs, initializers and node outputs. */
export function graphValueNames(model: Model): Set<string> {
  const { graph } = model;
  const names = new Set<string>([...graph.inputs.map((input) => input.name), ...graph.initializers.keys()]);
  for (const node of graph.nodes) for (const output of node.outputs) if (output !== '') names.add(output);
  return names;
}

export interface CalibrationResult {
  readonly ranges: Map<string, ValueRange>;
  /** The observers, for reports (histograms) and caches (saved state). */
  readonly observers: Map<string, Observer>;
  /** Samples seen: a batch fed to a model with a symbolic batch dimension counts its rows. */
  readonly samples: number;
  readonly passes: number;
  /** Threads the samples were spread over (1: this thread only). */
  readonly threads: number;
}

/** Calibrates the requested activations of a model: `calibrate` itself, or a runner that spreads it over threads. */
export type CalibrationRunner = (
  model: Model,
  requests: readonly ObservationRequest[],
  options: CalibrateOptions,
) => Promise<CalibrationResult>;

/** The model's real inputs: graph inputs that are not initializers (IR < 4 lists weights as inputs too). */
export function feedInputs(model: Model) {
  return model.graph.inputs.filter((input) => !model.graph.initializers.has(input.name));
}

/**
 * Samples in one model run: the leading dimension of the first input when the model's batch dimension is
 * symbolic (a batch of files, or a file holding a batch), otherwise one.
 */
export function samplesIn(feeds: CalibrationSample, inputs: ReturnType<typeof feedInputs>): number {
  const first = inputs[0];
  if (first === undefined) return 1;
  const declared = first.shape?.[0];
  if (typeof declared === 'number' && declared > 0) return 1;
  return feeds[first.name]?.shape[0] ?? 1;
}

/** Opens the source for one pass. Arrays and factories can be read again; other iterables only once. */
function openSource(
  source: CalibrationSource,
  pass: number,
): Iterable<CalibrationSample> | AsyncIterable<CalibrationSample> {
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

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Runs the float model over the samples with the requested intermediate values exposed, folding each into its
 * observer. Only observer state is kept between samples, and at most `maxTensorsPerPass` tensors are fetched per
 * run, so memory does not grow with the sample count or the model's depth.
 * @throws QuantError CALIBRATION_DATA when there are no samples or a sample does not fit the model's inputs.
 */
export async function calibrate(
  model: Model,
  requests: readonly ObservationRequest[],
  options: CalibrateOptions,
): Promise<CalibrationResult> {
  const perPass = options.maxTensorsPerPass ?? 64;
  if (!Number.isInteger(perPass) || perPass < 1) {
    throw new QuantError('INVALID_ARGUMENT', `maxTensorsPerPass must be a positive integer, got ${perPass}`);
  }
  const observers = new Map<string, Observer>();
  for (const request of requests) observers.set(request.name, request.observer.create(request.options));
  const passes = chunk(requests, perPass);
  const inputs = feedInputs(model);
  const limit = options.limit ?? Infinity;
  const totalWork =
    options.total === undefined ? undefined : Math.min(options.total, limit) * Math.max(passes.length, 1);
  let samples = 0;
  let rows = 0;
  let done = 0;

  for (const [pass, group] of passes.entries()) {
    const names = group.map((request) => request.name);
    // Values inside If branches come out under an extra output of their If (aliases maps them).
    const aliases = new Map<string, string>();
    const source = options.source;
    const bytes =
      source !== undefined && names.every((name) => source.values.has(name))
        ? exposeOutputsInBytes(source.bytes, model, names)
        : encodeModel(exposeOutputs(model, names, aliases));
    const fetched = names.map((name) => aliases.get(name) ?? name);
    const session = await options.executor.createSession(bytes, options.sessionOptions);
    let index = 0;
    try {
      for await (const sample of openSource(options.samples, pass)) {
        if (index >= limit) break;
        const source = `calibration sample ${index++}`;
        // A file may hold a batch larger than the model's fixed batch size: feed it in model-sized pieces.
        for (const feeds of splitSampleBatches(checkSample(sample, inputs, source), inputs, source)) {
          if (pass === 0) rows += samplesIn(feeds, inputs);
          const outputs = await session.run(feeds, fetched);
          for (const name of names) {
            const value = outputs[aliases.get(name) ?? name];
            if (value === undefined)
              throw new QuantError('EXECUTOR', `the executor did not return "${name}"`);
            observers.get(name)!.observe(value.data as Float32Array, value.shape);
          }
        }
        options.onProgress?.({ phase: 'calibrate', done: ++done, total: totalWork });
      }
    } finally {
      await session.dispose();
    }
    if (pass === 0) samples = index;
    else if (index !== samples) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `calibration pass ${pass + 1} read ${index} samples, pass 1 read ${samples}`,
      );
    }
  }
  if (requests.length > 0 && samples === 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      'static quantization needs at least one calibration sample; got none',
    );
  }
  const ranges = new Map<string, ValueRange>();
  for (const [name, observer] of observers) ranges.set(name, observer.range());
  return { ranges, observers, samples: rows, passes: passes.length, threads: 1 };
}
