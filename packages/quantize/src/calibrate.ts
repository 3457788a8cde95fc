import {
  type CollectActivationsOptions,
  collectActivations,
  type EncodedModel,
  feedInputs,
  samplesIn,
} from '@quantkit/calibration';
import {
  type Observer,
  type ObserverOptions,
  type ObserverPlugin,
  QuantError,
  type ValueRange,
} from '@quantkit/core';
import type { Model } from '@quantkit/onnx';

export { feedInputs, samplesIn };

export interface ProgressEvent {
  /** 'calibrate': model runs over the samples; 'finetune': AdaRound's steps over every layer. */
  readonly phase: 'calibrate' | 'finetune';
  /** Samples (or steps) done and (when known) in total. */
  readonly done: number;
  readonly total: number | undefined;
  /** What the phase is at, for people (finetune: "layer 2/4 conv2"). */
  readonly detail?: string;
}

/** What to observe for one activation. */
export interface ObservationRequest {
  readonly name: string;
  readonly observer: ObserverPlugin;
  readonly options: ObserverOptions;
}

/** How to calibrate: collectActivations' options (executor, samples, limit, values per pass, session options). */
export interface CalibrateOptions extends Omit<CollectActivationsOptions, 'onSample'> {
  /** Samples in the source, when known, for progress. */
  readonly total?: number | undefined;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
  /**
   * Encoded bytes of the float model the executor may run instead of `model`, and the main-graph values they
   * compute. A pass whose values are all among them runs these bytes with the values appended as outputs, so
   * the model is not encoded again (see exposeOutputsInBytes). Give them only when they compute what `model`
   * does: the same model, or the one it was made from by quantkit's own float rewrites (BatchNorm folding).
   */
  readonly source?: FloatModelBytes | undefined;
}

/** Encoded float model bytes and the names of the main-graph values they compute (CalibrateOptions.source). */
export type FloatModelBytes = EncodedModel;

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
  const observers = new Map<string, Observer>();
  for (const request of requests) observers.set(request.name, request.observer.create(request.options));
  const names = requests.map((request) => request.name);
  const passes = Math.ceil(names.length / (options.maxTensorsPerPass ?? 64));
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const totalWork =
    options.total === undefined ? undefined : Math.min(options.total, limit) * Math.max(passes, 1);
  let done = 0;
  const collected = await collectActivations(
    [{ model, encoded: options.source }],
    names,
    {
      executor: options.executor,
      samples: options.samples,
      limit: options.limit,
      maxTensorsPerPass: options.maxTensorsPerPass,
      sessionOptions: options.sessionOptions,
      onSample: () => options.onProgress?.({ phase: 'calibrate', done: ++done, total: totalWork }),
    },
    (pass, [values]) => {
      for (const name of pass) {
        const value = values![name]!;
        observers.get(name)!.observe(value.data as Float32Array, value.shape);
      }
    },
  );
  if (requests.length > 0 && collected.samples === 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      'static quantization needs at least one calibration sample; got none',
    );
  }
  const ranges = new Map<string, ValueRange>();
  for (const [name, observer] of observers) ranges.set(name, observer.range());
  return { ranges, observers, samples: collected.rows, passes: collected.passes, threads: 1 };
}
