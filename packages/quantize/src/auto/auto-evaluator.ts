// Measures one assignment: the model it writes (its real bytes) and that model's worst-output SQNR against the float
// model on the run's samples. The main thread and every worker run this same code, so the figures do not depend on
// where they were measured.
import type { ExecutorPlugin } from '@quantkit/core';
import { OutputComparison } from '../min-sqnr.js';
import type { CalibrationSample, WeightOnlyForm } from '../options.js';
import { quantizeModel } from '../quantize-model.js';
import { type AutoAssignment, assignmentOptions } from './auto-assignment.js';

/** What one assignment measured; error when quantkit or the executor could not write or run it. */
export type AutoMeasurement =
  | { readonly size: number; readonly sqnr: number; readonly error?: undefined }
  | { readonly size?: undefined; readonly sqnr?: undefined; readonly error: string };

/** An executor whose sessions run on one thread: the workers are the parallelism, and one thread is reproducible. */
export function singleThreaded(executor: ExecutorPlugin): ExecutorPlugin {
  return {
    ...executor,
    createSession: (bytes, options) => executor.createSession(bytes, { ...options, threads: 1 }),
  };
}

export class AssignmentEvaluator {
  private constructor(
    private readonly model: Uint8Array,
    private readonly layers: readonly string[],
    private readonly comparison: OutputComparison,
    private readonly form: WeightOnlyForm,
  ) {}

  /** Runs the float model once on the samples, as the reference every measurement compares with. */
  static async create(
    executor: ExecutorPlugin,
    model: Uint8Array,
    layers: readonly string[],
    samples: readonly CalibrationSample[],
    form: WeightOnlyForm = 'dequantize',
  ): Promise<AssignmentEvaluator> {
    const comparison = await OutputComparison.create(singleThreaded(executor), model, samples);
    return new AssignmentEvaluator(model, layers, comparison, form);
  }

  /** The model an assignment writes (deterministic: the same assignment, the same bytes). */
  async write(assignment: AutoAssignment): Promise<Uint8Array> {
    return (await quantizeModel(this.model, assignmentOptions(this.layers, assignment, this.form))).bytes;
  }

  /** Writes and measures an assignment; a failure is returned as its message, so one bad pairing does not end a run. */
  async measure(assignment: AutoAssignment): Promise<AutoMeasurement> {
    try {
      const bytes = await this.write(assignment);
      return { size: bytes.byteLength, sqnr: await this.comparison.sqnr(bytes) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }
}
