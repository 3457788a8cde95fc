// Worker-thread side of calibration on several threads: calibrates one shard of the samples (a run of whole
// batches, in folder order) with the run's observers and executor, found by name in a registry of the built-ins
// and the run's plugin modules, and posts the observers' saved state back; the main thread merges the states in
// shard order.
import { parentPort, workerData } from 'node:worker_threads';
import { readCalibrationDir } from '@quantkit/calibration/node';
import { QuantError, type ObserverOptions, type ObserverState } from '@quantkit/core';
import { decodeModel } from '@quantkit/onnx';
import { batchSamples } from './batch-samples.js';
import { calibrate, feedInputs, graphValueNames } from './calibrate.js';
import type { CalibrationSample } from './options.js';
import { workerRegistry } from './worker-calibration.js';

export interface CalibrationJob {
  readonly model: Uint8Array;
  readonly requests: readonly {
    readonly name: string;
    readonly observer: string;
    readonly options: ObserverOptions;
  }[];
  readonly dir: string;
  /** This shard's samples: folder positions `start` (inclusive) to `end` (exclusive), both multiples of `batch` but the last end. */
  readonly start: number;
  readonly end: number;
  readonly batch: number;
  readonly maxTensorsPerPass: number | undefined;
  /** Modules whose plugins join the worker's registry (see WorkerCalibrationSettings.pluginModules). */
  readonly pluginModules: readonly string[];
  /** The run's executor, by name in that registry. */
  readonly executor: string;
}

export type CalibrationWorkerMessage =
  | { readonly type: 'progress' }
  | { readonly type: 'done'; readonly samples: number; readonly states: Record<string, ObserverState> }
  | { readonly type: 'error'; readonly code: string | undefined; readonly message: string };

async function run(job: CalibrationJob): Promise<CalibrationWorkerMessage> {
  const model = decodeModel(job.model);
  const inputs = feedInputs(model);
  const registry = await workerRegistry(job.pluginModules);
  const shard = async function* (): AsyncGenerator<CalibrationSample> {
    let index = 0;
    for await (const { sample } of readCalibrationDir(job.dir, inputs, { limit: job.end })) {
      if (index++ >= job.start) yield sample;
    }
  };
  const result = await calibrate(
    model,
    job.requests.map((request) => ({ ...request, observer: registry.get('observer', request.observer) })),
    {
      // One intra-op thread per worker: the workers are the parallelism.
      executor: registry.get('executor', job.executor),
      samples: batchSamples(shard, job.batch, inputs),
      maxTensorsPerPass: job.maxTensorsPerPass,
      onProgress: () => parentPort?.postMessage({ type: 'progress' } satisfies CalibrationWorkerMessage),
      sessionOptions: { threads: 1 },
      // The job's bytes are this very model: each pass appends its outputs to them instead of encoding.
      source: { bytes: job.model, values: graphValueNames(model) },
    },
  );
  const states: Record<string, ObserverState> = {};
  for (const [name, observer] of result.observers) states[name] = observer.saveState!();
  return { type: 'done', samples: result.samples, states };
}

if (parentPort !== null) {
  run(workerData as CalibrationJob).then(
    (message) => parentPort!.postMessage(message),
    (error: unknown) =>
      parentPort!.postMessage({
        type: 'error',
        code: QuantError.is(error) ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
      } satisfies CalibrationWorkerMessage),
  );
}
