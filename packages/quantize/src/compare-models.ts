import { collectActivations } from '@quantkit/calibration';
import { type ExecutorPlugin, QuantError, listChoices } from '@quantkit/core';
import type { Model, Node } from '@quantkit/onnx';
import { commonValues, compareLayers } from './compare-layers.js';
import { feedInputs } from './calibrate.js';
import { worstFirst } from './flag-layers.js';
import { createMetricsAccumulator } from './metrics.js';
import type { CalibrationSource } from './options.js';

/** One of the two models compared: decoded, with the bytes it was read from when at hand. */
export interface ComparedModel {
  /** Its name in messages and reports (a file name); default "reference" or "candidate". */
  readonly name?: string | undefined;
  readonly model: Model;
  /** The encoding the model was decoded from: its outputs are then run from these bytes, encoded by no one. */
  readonly bytes?: Uint8Array | undefined;
}

export interface CompareModelsOptions {
  readonly executor: ExecutorPlugin;
  /**
   * The inputs both models run on, every one of them (no limit is applied here). A function returning a fresh
   * iterable (sampleSource, randomSampleSource) when `perLayer` is set, since values are compared in passes.
   */
  readonly samples: CalibrationSource;
  /** Also compare every value both models compute (see commonValues). */
  readonly perLayer?: boolean | undefined;
  /** Where the samples come from (a folder), for the error when there are none. */
  readonly samplesFrom?: string | undefined;
  /** Values compared per pass over the samples (collectActivations' default when undefined). */
  readonly maxTensorsPerPass?: number | undefined;
}

/** Metrics for one model output over every sample. */
export interface OutputComparison {
  readonly output: string;
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  /** null for outputs without a last axis to take an argmax over. */
  readonly top1Agreement: number | null;
  readonly samples: number;
}

/** Metrics for one value both models compute. */
export interface ValueComparison {
  readonly value: string;
  /** The node computing the value in the candidate (above any QuantizeLinear/DequantizeLinear), and its op type. */
  readonly node: string;
  readonly opType: string;
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  readonly samples: number;
}

/** How far a candidate model's outputs (and, per layer, its values) are from a reference's on the same inputs. */
export interface ModelComparison {
  /** Samples both models ran on. */
  readonly samples: number;
  readonly outputs: readonly OutputComparison[];
  /** With `perLayer`: every value both models compute, worst (lowest SQNR) first. */
  readonly layers?: readonly ValueComparison[];
}

const QDQ_OPS = new Set(['QuantizeLinear', 'DequantizeLinear']);

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

/**
 * The node a user knows as computing `value` in `model`: in a QDQ model a value is re-created by DequantizeLinear
 * (fed by QuantizeLinear), so the walk goes up past that pair.
 */
function computingNode(model: Model): (value: string) => Node | undefined {
  const producers = new Map(model.graph.nodes.flatMap((node) => node.outputs.map((value) => [value, node])));
  return (value) => {
    let node = producers.get(value);
    for (let hops = 0; node !== undefined && QDQ_OPS.has(node.opType) && hops < 4; hops++) {
      const above = producers.get(node.inputs[0] ?? '');
      if (above === undefined) break;
      node = above;
    }
    return node;
  };
}

/**
 * Runs two models on the same inputs and measures how far the candidate's outputs (and, with `perLayer`, every
 * value both compute) are from the reference's: SQNR over all samples, mean cosine, worst absolute error and top-1
 * agreement. Meant for two versions of one model, a float one and its quantized form say.
 *
 * @example
 * const comparison = await compareModels({ model: float }, { model: quantized }, {
 *   executor, samples: randomSampleSource(feedInputs(float), 8, DEFAULT_SEED), perLayer: true });
 * @throws QuantError INVALID_ARGUMENT when the models' inputs differ or the candidate lacks an output of the
 *   reference; CALIBRATION_DATA when there are no samples or they do not fit; EXECUTOR when the executor refuses a
 *   model.
 */
export async function compareModels(
  reference: ComparedModel,
  candidate: ComparedModel,
  options: CompareModelsOptions,
): Promise<ModelComparison> {
  const referenceName = reference.name ?? 'reference';
  const candidateName = candidate.name ?? 'candidate';
  const referenceInputs = feedInputs(reference.model).map((input) => input.name);
  const candidateInputs = feedInputs(candidate.model).map((input) => input.name);
  if (!sameNames(referenceInputs, candidateInputs)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${referenceName} and ${candidateName} take different inputs (${listChoices(referenceInputs)} vs ` +
        `${listChoices(candidateInputs)}); compare needs two versions of one model`,
    );
  }
  const outputNames = reference.model.graph.outputs.map((output) => output.name);
  const candidateOutputs = candidate.model.graph.outputs.map((output) => output.name);
  const missing = outputNames.filter((name) => !candidateOutputs.includes(name));
  if (missing.length > 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${candidateName} has no output ${listChoices(missing)}; its outputs are ${listChoices(candidateOutputs)}`,
    );
  }

  const accumulators = new Map(outputNames.map((name) => [name, createMetricsAccumulator()]));
  // The values compared are outputs already: a model read from bytes runs as those bytes.
  const observed = ({ model, bytes }: ComparedModel) => ({
    model,
    ...(bytes !== undefined && { encoded: { bytes, values: new Set(outputNames) } }),
  });
  const collected = await collectActivations(
    [observed(reference), observed(candidate)],
    outputNames,
    { executor: options.executor, samples: options.samples, maxTensorsPerPass: options.maxTensorsPerPass },
    (names, [expected, actual]) => {
      for (const name of names)
        accumulators.get(name)!.add(expected![name]!, actual![name]!, `output "${name}"`);
    },
  );
  if (collected.samples === 0) {
    const from = options.samplesFrom;
    throw new QuantError('CALIBRATION_DATA', `no samples to compare on${from ? ` in ${from}` : ''}`);
  }
  const outputs: OutputComparison[] = [...accumulators].map(([output, accumulator]) => {
    const result = accumulator.result();
    return {
      output,
      sqnr: result.sqnr,
      cosine: result.cosine,
      maxAbsError: result.maxAbsError,
      top1Agreement: result.top1Agreement ?? null,
      samples: result.samples,
    };
  });
  const comparison = { samples: collected.samples, outputs };
  if (options.perLayer !== true) return comparison;

  const computedBy = computingNode(candidate.model);
  const values = commonValues(reference.model, candidate.model);
  // The samples are all the caller wants compared, so compareLayers must not cut them shorter (its default is 8).
  const layers =
    values.length === 0
      ? []
      : await compareLayers(
          reference.model,
          candidate.model,
          values.map((name) => ({ name })),
          {
            executor: options.executor,
            samples: options.samples,
            limit: Number.POSITIVE_INFINITY,
            maxTensorsPerPass: options.maxTensorsPerPass,
          },
        );
  return {
    ...comparison,
    layers: worstFirst(
      layers.map((layer) => {
        const node = computedBy(layer.name);
        return {
          value: layer.name,
          node: node?.name ?? '',
          opType: node?.opType ?? '',
          sqnr: layer.sqnr,
          cosine: layer.cosine,
          maxAbsError: layer.maxAbsError,
          samples: layer.samples,
        };
      }),
    ),
  };
}
