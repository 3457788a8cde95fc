// The fidelity floor (options.minSqnr). A few layers' ranges usually dominate a quantized model's error, and the
// cumulative per-layer report cannot say which: an error made early shows at every layer after it. Sensitivity
// can: each region quantized alone, the rest float, and the model's output compared with the float model's. The
// most sensitive regions are then kept float, as few as a binary search finds, until the output's SQNR reaches the
// floor.
import { type ExecutorPlugin, type ExecutorSession, QuantError, type Tensor } from '@quantkit/core';
import type { Graph } from '@quantkit/onnx';
import type { CalibrationSample, KeptFloat, QuantizeOptions } from './options.js';
import { createMetricsAccumulator } from './metrics.js';
import { type QuantizedRegion, nodeCount } from './latency-guard.js';
import { DEFAULT_SEED, randomSamples } from './random-samples.js';

/** One region's sensitivity: the model's output SQNR with only this region quantized. */
export interface RegionSensitivity {
  readonly nodes: readonly string[];
  /** Worst output's SQNR in dB over the samples, the rest of the model float. */
  readonly sqnr: number;
}

/** What the fidelity floor did (QuantizeSummary.fidelity). */
export interface FidelityResult {
  readonly minSqnr: number;
  /** Where the samples came from: the calibration data, the verification sample, or seeded random data. */
  readonly samples: 'calibration' | 'given' | 'random';
  /** The output SQNR with everything quantized as planned. */
  readonly sqnr: number;
  /** Every region's sensitivity, most sensitive first (measured only when the plan as made fell short). */
  readonly sensitivity: readonly RegionSensitivity[];
  /** The regions kept float, most sensitive first. */
  readonly kept: readonly RegionSensitivity[];
  /** The configurations measured by the search: how many regions were kept float and the SQNR it gave. */
  readonly trials: readonly { readonly reverted: number; readonly sqnr: number }[];
  /** The output SQNR of the written plan (Infinity when every region went float). */
  readonly finalSqnr: number;
}

/** Samples to compare outputs on, at most this many. */
const FIDELITY_SAMPLES = 4;

/**
 * The samples the floor measures on, best first: the first few calibration samples (an array, or a function that
 * reads them afresh: a one-shot iterable is spent by calibration), the verify sample, or seeded random data.
 */
export async function fidelitySamples(
  graph: Graph,
  options: QuantizeOptions,
): Promise<{ samples: CalibrationSample[]; origin: FidelityResult['samples'] }> {
  const data = options.calibrationData;
  const samples: CalibrationSample[] = [];
  if (Array.isArray(data)) {
    samples.push(...(data as readonly CalibrationSample[]).slice(0, FIDELITY_SAMPLES));
  } else if (typeof data === 'function') {
    for await (const sample of data()) {
      samples.push(sample);
      if (samples.length === FIDELITY_SAMPLES) break;
    }
  }
  if (samples.length > 0) return { samples, origin: 'calibration' };
  if (options.verifySample !== undefined) return { samples: [options.verifySample], origin: 'given' };
  const inputs = graph.inputs.filter((input) => !graph.initializers.has(input.name));
  return { samples: randomSamples(inputs, FIDELITY_SAMPLES, DEFAULT_SEED), origin: 'random' };
}

/** Measures a model's worst-output SQNR against the float model's outputs on fixed samples. */
export class OutputComparison {
  private constructor(
    private readonly executor: ExecutorPlugin,
    private readonly samples: readonly CalibrationSample[],
    private readonly reference: readonly Record<string, Tensor>[],
  ) {}

  static async create(
    executor: ExecutorPlugin,
    floatBytes: Uint8Array,
    samples: readonly CalibrationSample[],
  ): Promise<OutputComparison> {
    const reference = await runEach(executor, floatBytes, samples);
    return new OutputComparison(executor, samples, reference);
  }

  /** The worst float output's SQNR in dB (Infinity when equal; -Infinity when an output went non-finite). */
  async sqnr(bytes: Uint8Array): Promise<number> {
    const outputs = await runEach(this.executor, bytes, this.samples);
    const accumulators = new Map<string, ReturnType<typeof createMetricsAccumulator>>();
    for (const [index, reference] of this.reference.entries()) {
      for (const [name, expected] of Object.entries(reference)) {
        const actual = outputs[index]![name];
        if (expected.dtype !== 'float32' || actual === undefined) continue;
        if (!(actual.data as Float32Array).every(Number.isFinite)) return Number.NEGATIVE_INFINITY;
        if (!accumulators.has(name)) accumulators.set(name, createMetricsAccumulator());
        accumulators.get(name)!.add(expected, actual, `output "${name}"`);
      }
    }
    const values = [...accumulators.values()].map((accumulator) => accumulator.result().sqnr);
    return values.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...values);
  }
}

async function runEach(
  executor: ExecutorPlugin,
  bytes: Uint8Array,
  samples: readonly CalibrationSample[],
): Promise<Record<string, Tensor>[]> {
  let session: ExecutorSession;
  try {
    session = await executor.createSession(bytes);
  } catch (error) {
    throw new QuantError('EXECUTOR', `${executor.name} could not load a model the fidelity floor measures`, {
      cause: error,
    });
  }
  try {
    const outputs: Record<string, Tensor>[] = [];
    for (const sample of samples) outputs.push(await session.run(sample));
    return outputs;
  } finally {
    await session.dispose();
  }
}

/** The floor from the option, checked. */
export function checkMinSqnr(minSqnr: number): number {
  if (!Number.isFinite(minSqnr)) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'minSqnr' },
      ` must be a finite number of dB, got ${String(minSqnr)}`,
    ]);
  }
  return minSqnr;
}

/** Keeps every region float but one (nodes named by the caller's reason). */
export function allBut(
  regions: readonly QuantizedRegion[],
  keep: QuantizedRegion,
  reason: string,
): KeptFloat[] {
  return regions
    .filter((region) => region !== keep)
    .flatMap((region) => region.nodes.map((node) => ({ node, reason })));
}

/** The regions most sensitive first: lowest SQNR when quantized alone (ties by the order given). */
export function bySensitivity(
  regions: readonly QuantizedRegion[],
  sqnrs: readonly number[],
): RegionSensitivity[] {
  return regions
    .map((region, index) => ({ nodes: region.nodes, sqnr: sqnrs[index]!, index }))
    .sort((a, b) => a.sqnr - b.sqnr || a.index - b.index)
    .map(({ nodes, sqnr }) => ({ nodes, sqnr }));
}

/** The keepFloat entries for the most sensitive regions, each node saying why. */
export function keptForFidelity(kept: readonly RegionSensitivity[], minSqnr: number): KeptFloat[] {
  return kept.flatMap((region) =>
    region.nodes.map((node) => ({
      node,
      reason:
        `kept float for the ${minSqnr} dB output SQNR floor: quantized alone, its region ` +
        `(${nodeCount(region.nodes.length)}) brings the output to ${region.sqnr.toFixed(1)} dB`,
    })),
  );
}
