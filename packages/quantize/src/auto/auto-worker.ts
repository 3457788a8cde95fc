// Worker-thread side of `quantkit auto`'s measurements: builds an AssignmentEvaluator on the run's model and samples,
// then measures each assignment the main thread posts and posts the result back under the job's index.
import { parentPort, workerData } from 'node:worker_threads';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import type { CalibrationSample, WeightOnlyForm } from '../options.js';
import type { AutoAssignment } from './auto-assignment.js';
import { AssignmentEvaluator, type AutoMeasurement } from './auto-evaluator.js';

export interface AutoWorkerData {
  readonly model: Uint8Array;
  readonly layers: readonly string[];
  readonly samples: readonly CalibrationSample[];
  readonly form: WeightOnlyForm;
}

export type AutoWorkerRequest = { readonly index: number; readonly assignment: AutoAssignment };

export type AutoWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly index: number; readonly measurement: AutoMeasurement }
  | { readonly type: 'error'; readonly message: string };

/** An error's message with its causes', which say what the executor itself refused. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined && parts.length < 4; ) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}

async function start(data: AutoWorkerData): Promise<void> {
  const port = parentPort!;
  let evaluator: AssignmentEvaluator;
  try {
    evaluator = await AssignmentEvaluator.create(
      createOrtNodeExecutor(),
      data.model,
      data.layers,
      data.samples,
      data.form,
    );
  } catch (error) {
    port.postMessage({
      type: 'error',
      message: describe(error),
    } satisfies AutoWorkerMessage);
    return;
  }
  port.on('message', (request: AutoWorkerRequest) => {
    evaluator
      .measure(request.assignment)
      .then((measurement) =>
        port.postMessage({ type: 'result', index: request.index, measurement } satisfies AutoWorkerMessage),
      );
  });
  port.postMessage({ type: 'ready' } satisfies AutoWorkerMessage);
}

if (parentPort !== null) void start(workerData as AutoWorkerData);
