import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import {
  type Observer,
  type Plugin,
  QuantError,
  type QuantErrorCode,
  type Registry,
  type ValueRange,
  pluginsOfModule,
} from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
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
  /**
   * ES modules (absolute paths) whose plugins the run's registry holds, as the CLI's --plugin loads them: each
   * worker imports them too, so their observers and executors calibrate there as on the main thread.
   */
  readonly pluginModules?: readonly string[] | undefined;
}

/**
 * The registry a worker builds: the built-ins, the onnxruntime-node executor and the plugins of the modules.
 * The main thread builds it too, to check that each observer and the executor of a run is what a worker would
 * get under the same name (module imports are cached, so a module's plugins are the very same values).
 */
export async function workerRegistry(pluginModules: readonly string[]): Promise<Registry> {
  const plugins: Plugin[] = [];
  for (const path of pluginModules) {
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new QuantError('PLUGIN_INVALID', `plugin module ${path} failed to load for calibration workers`, {
        cause: error,
      });
    }
    plugins.push(...pluginsOfModule(module, path));
  }
  return createDefaultRegistry([createOrtNodeExecutor(), ...plugins]);
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
    const batches = Math.ceil(settings.count / settings.batch);
    const workers = Math.min(settings.workers ?? defaultWorkerCount(batches), batches);
    if (workers < 2) return calibrate(model, requests, options);
    const pluginModules = settings.pluginModules ?? [];
    const registry = await workerRegistry(pluginModules);
    // A worker finds each plugin by name in the registry it builds: the run's observers must be those very
    // plugins (and save and merge state), and its executor one of that name there; otherwise this thread does it.
    const splittable =
      requests.every(
        (request) =>
          registry.find('observer', request.observer.name) === request.observer &&
          request.observer.restore !== undefined &&
          typeof request.observer.create(request.options).merge === 'function',
      ) && registry.find('executor', options.executor.name) !== undefined;
    if (!splittable) return calibrate(model, requests, options);

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
            pluginModules,
            executor: options.executor.name,
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
