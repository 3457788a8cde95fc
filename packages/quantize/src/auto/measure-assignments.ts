// Fans the measurements of many assignments out over worker threads. Each job is measured whole by one worker and
// its result stored under the job's index, so the results are the same list for any number of workers.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ExecutorPlugin, QuantError } from '@quantkit/core';
import type { CalibrationSample, WeightOnlyForm } from '../options.js';
import type { AutoAssignment } from './auto-assignment.js';
import { AssignmentEvaluator, type AutoMeasurement } from './auto-evaluator.js';
import type { AutoWorkerData, AutoWorkerMessage, AutoWorkerRequest } from './auto-worker.js';

export interface MeasureSettings {
  readonly model: Uint8Array;
  readonly layers: readonly string[];
  readonly samples: readonly CalibrationSample[];
  /** How int8 codes are written (see assignmentOptions). */
  readonly form: WeightOnlyForm;
  /** Measures in this thread (workers always run onnxruntime-node, so another executor keeps it here). */
  readonly executor: ExecutorPlugin;
  /** Worker threads (default: one per core); 1 measures in this thread. */
  readonly workers?: number | undefined;
  /** Called after each measurement. */
  readonly onMeasured?: () => void;
}

/** The default worker count: one per core. */
export function defaultAutoWorkers(): number {
  return availableParallelism();
}

async function measureHere(
  settings: MeasureSettings,
  assignments: readonly AutoAssignment[],
): Promise<AutoMeasurement[]> {
  const evaluator = await AssignmentEvaluator.create(
    settings.executor,
    settings.model,
    settings.layers,
    settings.samples,
    settings.form,
  );
  const results: AutoMeasurement[] = [];
  for (const assignment of assignments) {
    results.push(await evaluator.measure(assignment));
    settings.onMeasured?.();
  }
  return results;
}

/**
 * Measures each assignment (the real model it writes: bytes and worst-output SQNR), on worker threads when more
 * than one is asked for and the executor is onnxruntime-node.
 *
 * @example const [float, allInt8] = await measureAssignments(settings, [{}, { fc1: 'int8', fc2: 'int8' }]);
 * @throws QuantError EXECUTOR when the float model cannot run on the samples; INTERNAL when a worker dies.
 */
export async function measureAssignments(
  settings: MeasureSettings,
  assignments: readonly AutoAssignment[],
): Promise<AutoMeasurement[]> {
  const count = Math.min(settings.workers ?? defaultAutoWorkers(), assignments.length);
  if (count < 2 || settings.executor.name !== 'ort-node') return measureHere(settings, assignments);
  const results: AutoMeasurement[] = new Array(assignments.length);
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  const data: AutoWorkerData = {
    model: settings.model,
    layers: settings.layers,
    samples: settings.samples,
    form: settings.form,
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (worker: Worker) => {
        if (next < assignments.length) {
          const index = next++;
          worker.postMessage({ index, assignment: assignments[index]! } satisfies AutoWorkerRequest);
        }
      };
      for (let index = 0; index < count; index++) {
        const worker = new Worker(new URL('./auto-worker.js', import.meta.url), { workerData: data });
        workers.push(worker);
        worker.on('message', (message: AutoWorkerMessage) => {
          if (message.type === 'error') {
            reject(
              new QuantError('EXECUTOR', `an auto worker could not run the float model: ${message.message}`),
            );
            return;
          }
          if (message.type === 'result') {
            results[message.index] = message.measurement;
            settings.onMeasured?.();
            if (++done === assignments.length) resolve();
          }
          feed(worker);
        });
        worker.on('error', (error) =>
          reject(new QuantError('INTERNAL', `an auto worker failed: ${error.message}`, { cause: error })),
        );
        worker.on('exit', (code) => {
          if (code !== 0 && done < assignments.length)
            reject(new QuantError('INTERNAL', `an auto worker exited with code ${code}`));
        });
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results;
}
