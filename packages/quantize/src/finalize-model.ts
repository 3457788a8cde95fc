// The last stages of a run: the emitted graph tidied, written in the recipe's format and float precision,
// checked against the target, stamped with provenance, encoded once and verified in the executor.
import { type MessagePart, QuantError } from '@quantkit/core';
import { type Graph, type Model, decodeModel, encodeModel } from '@quantkit/onnx';
import { type CompatibilityIssue, checkModel, issueParts } from '@quantkit/targets';
import { applyFloatPrecision } from './float-precision.js';
import type { PlannedRun, Statistics } from './mode-stages.js';
import { type CalibrationSample, type QuantizeOptions, quantizesActivations } from './options.js';
import { type QOperatorResult, qdqToQOperator } from './qoperator.js';
import { writeProvenance } from './provenance.js';
import { DEFAULT_SEED, randomSamples } from './random-samples.js';
import type { ScopedDecision } from './subgraphs.js';
import { type Verification, type VerificationSample, verifyQuantized } from './verify-model.js';

/** The written model and what finishing it found. */
export interface FinishedModel {
  readonly model: Model;
  /** The model's encoding, made on first call and kept (a model written with external data never needs it). */
  readonly encode: () => Uint8Array;
  /** The target's warnings (its errors are thrown). */
  readonly warnings: readonly CompatibilityIssue[];
  readonly formatConversion: QOperatorResult | undefined;
  readonly verification: Verification | undefined;
}

/** Sizes random data tries for symbolic dims after the first, until the float model runs (audio wants more). */
const VERIFY_SYMBOLIC_DIMS = [64, 512, 16_000];

/**
 * The samples verification may run on, best first: the one given, the first calibration sample when they came as
 * an array, or seeded random data for the graph's inputs at a few sizes of their symbolic dims (a reason instead
 * when random data cannot be made for an input).
 */
function verificationSamples(
  graph: Graph,
  options: QuantizeOptions,
):
  | { samples: CalibrationSample[]; sampleOrigin: VerificationSample }
  | { reason: string; reasonParts?: readonly MessagePart[] } {
  if (options.verifySample !== undefined) return { samples: [options.verifySample], sampleOrigin: 'given' };
  const data = options.calibrationData;
  if (Array.isArray(data) && data.length > 0) {
    return { samples: [(data as readonly CalibrationSample[])[0]!], sampleOrigin: 'calibration' };
  }
  const inputs = graph.inputs.filter((input) => !graph.initializers.has(input.name));
  try {
    const symbolic = (dim: unknown) => !(typeof dim === 'number' && Number.isInteger(dim) && dim >= 0);
    const sized = inputs.some((input) => (input.shape ?? []).slice(1).some(symbolic));
    const dims = sized ? VERIFY_SYMBOLIC_DIMS : VERIFY_SYMBOLIC_DIMS.slice(0, 1);
    return {
      samples: dims.map((dim) => randomSamples(inputs, 1, DEFAULT_SEED, dim)[0]!),
      sampleOrigin: 'random',
    };
  } catch (error) {
    const parts = QuantError.is(error) ? error.parts : undefined;
    return {
      reason: `no sample to run: ${(error as Error).message}`,
      ...(parts !== undefined && { reasonParts: ['no sample to run: ', ...parts] }),
    };
  }
}

/**
 * The float model's encoding for the executor, or why there is none: executors take a model as one protobuf
 * message, which cannot hold more than 2 GiB of weights.
 */
function runnableEncoding(encode: () => Uint8Array): { bytes: Uint8Array } | { reason: string } {
  try {
    return { bytes: encode() };
  } catch (error) {
    // Only the one refusal: any other encoding failure is a real error.
    if (QuantError.is(error) && error.details?.['inlineBytes'] !== undefined) {
      return {
        reason:
          'the float model holds more than the 2 GiB of weights an executor loads from one buffer, so it cannot ' +
          'run beside the output',
      };
    }
    throw error;
  }
}

/** Drops what the emitted graph no longer reads and sorts it. */
export function tidyGraph(graph: Graph): void {
  // Models older than IR 4 list every weight as a graph input too; drop the float ones nothing reads any more.
  graph.inputs = graph.inputs.filter(
    (input) => !graph.initializers.has(input.name) || graph.consumers(input.name).length > 0,
  );
  graph.removeUnused();
  graph.topologicalSort();
}

/**
 * Writes the emitted model in the recipe's format and float precision, checks it against the target, records
 * provenance, encodes it and, with an executor, verifies that it loads and runs finite.
 * @throws QuantError UNSUPPORTED when the model does not fit the target or runs non-finite where the float
 *   model does not.
 */
export async function finishModel(
  emitted: Model,
  run: PlannedRun,
  statistics: Statistics,
  bodyDecisions: readonly ScopedDecision[],
): Promise<FinishedModel> {
  const { recipe, target } = run.setup;
  const { options } = run;
  let model = emitted;
  // Dynamic mode already writes integer operators; static QDQ is rewritten into them.
  let formatConversion: QOperatorResult | undefined;
  if (recipe.format === 'qoperator' && quantizesActivations(recipe.mode)) {
    formatConversion = qdqToQOperator(model);
    model = formatConversion.model;
  }
  if (recipe.floatPrecision !== undefined) {
    const keepFp32 = [...statistics.plan.decisions, ...bodyDecisions]
      .filter((d) => recipe.mode === 'float' && !d.quantized && d.name !== '')
      .map((d) => d.name);
    model = applyFloatPrecision(model, recipe, keepFp32);
  }
  // The plan follows the target, so this finds nothing in the normal case; it guards what the plan cannot see
  // (an opset the runtime lacks a kernel for, a user override against the target's rules).
  const issues = target === undefined ? [] : checkModel(model, target);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        'the quantized model does not fit ',
        { option: 'target', value: target!.name },
        ': ',
        ...issueParts(errors),
      ],
      { details: { issues: errors } },
    );
  }
  writeProvenance(
    model,
    recipe,
    recipe.target,
    statistics.activations?.calibrationHash ?? options.calibrationHash,
  );
  let bytes: Uint8Array | undefined;
  const encode = (): Uint8Array => {
    bytes ??= encodeModel(model);
    return bytes;
  };
  let verification: Verification | undefined;
  if (options.executor !== undefined && options.verify !== false) {
    const sample = verificationSamples(model.graph, options);
    const floatBytes = runnableEncoding(run.prepared.inputBytes);
    verification =
      'reason' in sample
        ? { verified: false, ...sample }
        : 'reason' in floatBytes
          ? { verified: false, reason: floatBytes.reason }
          : await verifyQuantized({
              executor: options.executor,
              float: () => decodeModel(floatBytes.bytes),
              floatBytes: floatBytes.bytes,
              quantized: model,
              quantizedBytes: encode(),
              measureLatency: options.measureLatency === true,
              ...sample,
              ...(recipe.mode === 'float' && {
                advice:
                  statistics.floatCheck === undefined
                    ? [
                        'pass calibration data (',
                        { option: 'calibrationData' },
                        ') so that nodes whose values overflow fp16 stay fp32, or keep them float (',
                        { option: 'exclude' },
                        ')',
                      ]
                    : ['keep the nodes that feed it fp32 (', { option: 'exclude' }, ')'],
              }),
            });
  }
  return {
    model,
    encode,
    warnings: issues.filter((issue) => issue.severity === 'warning'),
    formatConversion,
    verification,
  };
}
