import { type Observer, QuantError, type Registry, type ValueRange } from '@quantkit/core';
import type { Model } from '@quantkit/onnx';
import { type ObservationRequest, calibrate, type FloatModelBytes } from './calibrate.js';
import { type CachedRange, type CalibrationCache, cacheRef, cachedRange } from './calibration-cache.js';
import type { QuantizeOptions, Recipe } from './options.js';
import { createOverrideLookup } from './overrides.js';
import type { QuantPlan } from './plan.js';

export interface ActivationRanges {
  readonly ranges: Map<string, ValueRange>;
  /** Whether each activation is quantized symmetrically (int8, zero point 0). */
  readonly symmetric: (name: string) => boolean;
  /** The observer that chose each calibrated range ('fixed' for override ranges). */
  readonly observerOf: (name: string) => string;
  readonly observers: Map<string, Observer>;
  readonly samples: number;
  /** Threads calibration ran on (0 when nothing was calibrated). */
  readonly threads: number;
  readonly calibrationHash: string | undefined;
  /** What --save-calib writes: the calibrated (not fixed) ranges of this run. */
  readonly cache: CalibrationCache;
}

/**
 * Ranges for every activation the plan quantizes that does not reuse another's: fixed by an override, read from a
 * calibration cache, or calibrated now with the observer the recipe or an override names.
 * @throws QuantError CALIBRATION_DATA for a cache of another model or one missing a tensor, INVALID_ARGUMENT
 * when calibration is needed and there is no executor or data.
 */
export async function activationRanges(
  model: Model,
  plan: QuantPlan,
  recipe: Recipe,
  registry: Registry,
  fingerprint: string,
  options: QuantizeOptions,
  source?: () => FloatModelBytes,
): Promise<ActivationRanges> {
  const overrides = createOverrideLookup(recipe.overrides);
  const symmetric = (name: string) => overrides.tensor(name)?.symmetric ?? recipe.activationSymmetric;
  const observerOf = (name: string) =>
    overrides.tensor(name)?.range !== undefined
      ? 'fixed'
      : (overrides.tensor(name)?.observer ?? recipe.calibrationMethod);
  const ranges = new Map<string, ValueRange>();
  const toCalibrate: string[] = [];
  for (const name of plan.activations) {
    // Shared and scaled parameters follow another activation's; the model's own Q/DQ keeps its range.
    if (plan.sharedParams.has(name) || plan.scaledParams?.has(name) || plan.kept?.activations.has(name))
      continue;
    const fixed = overrides.tensor(name)?.range;
    if (fixed === undefined) toCalibrate.push(name);
    else ranges.set(name, { min: Float32Array.of(fixed[0]), max: Float32Array.of(fixed[1]) });
  }

  let observers = new Map<string, Observer>();
  let samples = 0;
  let threads = 0;
  let calibrationHash = options.calibrationHash;
  const cache = options.calibrationCache;
  if (cache !== undefined) {
    const source = options.calibrationCacheSource ?? '(inline)';
    if (cache.model !== fingerprint) {
      throw new QuantError('CALIBRATION_DATA', [
        cacheRef(source),
        ` was made for a different model (graph fingerprint ${cache.model.slice(0, 12)}…, ` +
          `this model's is ${fingerprint.slice(0, 12)}…)`,
      ]);
    }
    for (const name of toCalibrate)
      ranges.set(name, cachedRange(cache, source, name, observerOf(name), symmetric(name)));
    samples = cache.samples;
    calibrationHash = cache.calibrationHash;
  } else if (toCalibrate.length > 0) {
    if (options.executor === undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        'static quantization needs an executor to run calibration (options.executor)',
      );
    }
    if (options.calibrationData === undefined) {
      throw new QuantError(
        'CALIBRATION_DATA',
        'static quantization needs calibration data or a calibration cache; pass samples or use mode "dynamic"',
      );
    }
    const requests: ObservationRequest[] = toCalibrate.map((name) => ({
      name,
      observer: registry.get('observer', observerOf(name)),
      options: { granularity: 'tensor', symmetric: symmetric(name) },
    }));
    const calibration = await (options.calibrationRunner ?? calibrate)(model, requests, {
      executor: options.executor,
      samples: options.calibrationData,
      limit: options.calibrationLimit,
      maxTensorsPerPass: options.maxTensorsPerPass,
      total: options.calibrationTotal,
      onProgress: options.onProgress,
      source: source?.(),
    });
    for (const [name, range] of calibration.ranges) ranges.set(name, range);
    observers = calibration.observers;
    samples = calibration.samples;
    threads = calibration.threads;
  }

  const tensors: Record<string, CachedRange> = {};
  for (const name of toCalibrate) {
    const range = ranges.get(name)!;
    tensors[name] = {
      observer: observerOf(name),
      symmetric: symmetric(name),
      min: [...range.min],
      max: [...range.max],
    };
  }
  return {
    ranges,
    symmetric,
    observerOf,
    observers,
    samples,
    threads,
    calibrationHash,
    cache: {
      kind: 'quantkit-calibration-cache',
      version: 1,
      model: fingerprint,
      calibrationHash,
      samples,
      tensors,
    },
  };
}
