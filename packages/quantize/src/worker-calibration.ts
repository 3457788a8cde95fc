import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Observer, QuantError, type QuantErrorCode, type ValueRange } from '@quantkit/core';
import { encodeModel } from '@quantkit/onnx';
import { createDefaultRegistry } from './builtins.js';
import { type CalibrationResult, type CalibrationRunner, calibrate } from './calibrate.js';
import type { CalibrationJob, CalibrationWorkerMessage } from './calibration-worker.js';

export interface WorkerCalibrationSettings {
  /** The calibration folder each worker reads its share of samples from. */
  readonly dir: string;
  /** Samples in the folder (after any limit). */
  readonly count: number;
  readonly batch: number;
  /** Threads to use; default: one per core beyond the first, at most one per sample. */
  readonly workers?: number | undefined;
}

/** Worker threads worth starting: one per core beyond the one the main thread uses, at most one per sample. */
export function defaultWorkerCount(samples: number): number {
  return Math.max(1, Math.min(availableParallelism() - 1, samples));
}

function runWorker(
  job: CalibrationJob,
  onProgress: () => void,
  started: Worker[],
): Promise<Extract<CalibrationWorkerMessage, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./calibration-worker.js', import.meta.url), { workerData: job });
    started.push(worker);
    worker.on('message', (message: CalibrationWorkerMessage) => {
      if (message.type === 'progress') onProgress();
      else if (message.type === 'done') resolve(message);
      else
        reject(new QuantError((message.code as QuantErrorCode | undefined) ?? 'INTERNAL', message.message));
    });
    worker.on('error', (error) =>
      reject(new QuantError('INTERNAL', `a calibration worker failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) => {
      if (code !== 0) reject(new QuantError('INTERNAL', `a calibration worker exited with code ${code}`));
    });
  });
}

/**
 * A calibration runner that splits the samples of a calibration folder over worker threads, each running its own
 * onnxruntime session with one thread, and merges the observers' saved states in sample order. Observers are
 * rebuilt in the workers by name, so this runs only with built-in observers that can save and merge state;
 * otherwise, or with one worker, it calibrates in this thread. Every built-in observer's merge reproduces one
 * observer over the same batches in the same order, so the written model is the same for any worker count.
 */
export function createWorkerCalibrationRunner(settings: WorkerCalibrationSettings): CalibrationRunner {
  return async (model, requests, options): Promise<CalibrationResult> => {
    const builtins = createDefaultRegistry();
    const batches = Math.ceil(settings.count / settings.batch);
    const workers = Math.min(settings.workers ?? defaultWorkerCount(batches), batches);
    const splittable = requests.every(
      (request) =>
        builtins.find('observer', request.observer.name) === request.observer &&
        request.observer.restore !== undefined &&
        typeof request.observer.create(request.options).merge === 'function',
    );
    if (workers < 2 || !splittable) return calibrate(model, requests, options);

    // The float bytes the caller gave, when they compute every requested value: no encode, and the workers
    // calibrate the very model the main thread would have.
    const { source } = options;
    const bytes =
      source !== undefined && requests.every((request) => source.values.has(request.name))
        ? source.bytes
        : encodeModel(model);
    let done = 0;
    const progress = () => options.onProgress?.({ phase: 'calibrate', done: ++done, total: options.total });
    const started: Worker[] = [];
    // Each worker takes a run of whole batches in folder order, and the states merge in that order: every observer,
    // the order-sensitive moving average too, then sees the batches one thread would, in the same order, so the
    // model does not depend on how many workers there were.
    const firstBatch = (shard: number) => Math.floor((shard * batches) / workers);
    const running = Promise.all(
      Array.from({ length: workers }, (_, shard) =>
        runWorker(
          {
            model: bytes,
            requests: requests.map(({ name, observer, options: observerOptions }) => ({
              name,
              observer: observer.name,
              options: observerOptions,
            })),
            dir: settings.dir,
            start: firstBatch(shard) * settings.batch,
            end: Math.min(firstBatch(shard + 1) * settings.batch, settings.count),
            batch: settings.batch,
            maxTensorsPerPass: options.maxTensorsPerPass,
          },
          progress,
          started,
        ),
      ),
    );
    let results: Awaited<typeof running>;
    try {
      results = await running;
    } catch (error) {
      // One shard failed: the others would only burn CPU and keep the process alive.
      await Promise.all(started.map((worker) => worker.terminate()));
      throw error;
    }
    const observers = new Map<string, Observer>();
    const ranges = new Map<string, ValueRange>();
    for (const request of requests) {
      const states = results.map((result) => result.states[request.name]!);
      const observer = request.observer.restore!(states[0]!);
      for (const state of states.slice(1)) observer.merge!(state);
      observers.set(request.name, observer);
      ranges.set(request.name, observer.range());
    }
    const passes = Math.ceil(requests.length / (options.maxTensorsPerPass ?? 64));
    const samples = results.reduce((sum, result) => sum + result.samples, 0);
    return { ranges, observers, samples, passes, threads: workers };
  };
}
