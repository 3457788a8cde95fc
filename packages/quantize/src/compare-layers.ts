import { type CollectActivationsOptions, collectActivations } from '@quantkit/calibration';
import { QuantError } from '@quantkit/core';
import { inferElementTypes, type Model } from '@quantkit/onnx';
import { createMetricsAccumulator, type OutputMetrics } from './metrics.js';
import type { Histogram } from './report.js';

/** A value to compare, and optionally the range it was quantized to (for clipping and a histogram). */
export interface LayerProbe {
  readonly name: string;
  /** Representable range of the quantized activation. */
  readonly range?: readonly [number, number] | undefined;
}

export interface LayerComparison extends OutputMetrics {
  readonly name: string;
  /** Model runs compared (a sample holding a batch counts once per model-sized piece). */
  readonly samples: number;
  /** Share of reference values outside the probe's range. */
  readonly clippedShare?: number | undefined;
  /** Reference values over the range widened by a quarter on each side; the edge bins hold everything beyond. */
  readonly histogram?: Histogram | undefined;
}

/** collectActivations' options (limit defaults to 8 samples here), and the histogram's bin count. */
export interface CompareLayersOptions extends Omit<CollectActivationsOptions, 'onSample'> {
  readonly bins?: number | undefined;
}

const HISTOGRAM_BINS = 64;

class RangeStats {
  readonly counts: Float64Array;
  readonly low: number;
  readonly high: number;
  clipped = 0;
  total = 0;

  constructor(
    readonly range: readonly [number, number],
    bins: number,
  ) {
    const margin = (range[1] - range[0]) / 4 || 1;
    this.low = range[0] - margin;
    this.high = range[1] + margin;
    this.counts = new Float64Array(bins);
  }

  add(values: ArrayLike<number>): void {
    const [min, max] = this.range;
    const bins = this.counts.length;
    const scale = bins / (this.high - this.low);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min || v > max) this.clipped++;
      const bin = Math.floor((v - this.low) * scale);
      this.counts[bin < 0 ? 0 : bin >= bins ? bins - 1 : bin]!++;
    }
    this.total += values.length;
  }
}

/**
 * Runs a reference and a candidate model (say, float and quantized) on the same samples with the probed values
 * exposed in both, and measures how far the candidate's values are from the reference's at each one.
 * Probes are compared a bounded number at a time; samples are re-read for each group.
 * @throws QuantError INVALID_ARGUMENT when a probed value is missing from either model.
 */
export async function compareLayers(
  reference: Model,
  candidate: Model,
  probes: readonly LayerProbe[],
  options: CompareLayersOptions,
): Promise<LayerComparison[]> {
  const metrics = new Map(probes.map((probe) => [probe.name, createMetricsAccumulator()]));
  const stats = new Map(
    probes.map((probe) => [
      probe.name,
      probe.range ? new RangeStats(probe.range, options.bins ?? HISTOGRAM_BINS) : undefined,
    ]),
  );
  const collected = await collectActivations(
    [{ model: reference }, { model: candidate }],
    [...new Set(probes.map((probe) => probe.name))],
    {
      executor: options.executor,
      samples: options.samples,
      limit: options.limit ?? 8,
      maxTensorsPerPass: options.maxTensorsPerPass,
    },
    (names, [expected, actual]) => {
      for (const name of names) {
        metrics.get(name)!.add(expected![name]!, actual![name]!, name);
        stats.get(name)?.add(expected![name]!.data as Float32Array);
      }
    },
  );
  if (probes.length > 0 && collected.samples === 0)
    throw new QuantError('CALIBRATION_DATA', 'comparing layers needs at least one sample; got none');
  return probes.map((probe) => {
    const stat = stats.get(probe.name);
    return {
      name: probe.name,
      ...metrics.get(probe.name)!.result(),
      ...(stat && {
        clippedShare: stat.total === 0 ? 0 : stat.clipped / stat.total,
        histogram: { min: stat.low, max: stat.high, counts: Array.from(stat.counts) },
      }),
    };
  });
}

/**
 * Float values both models compute: node outputs of the candidate that the reference also produces and that are
 * float32 there, in the candidate's order. Comparing a float model with its quantized form this way lines up
 * every layer, since quantkit keeps each value's name through quantization.
 */
export function commonValues(reference: Model, candidate: Model): string[] {
  const dtypes = inferElementTypes(reference.graph);
  const referenceValues = new Set(reference.graph.nodes.flatMap((node) => node.outputs));
  const names: string[] = [];
  for (const node of candidate.graph.nodes) {
    for (const output of node.outputs) {
      if (referenceValues.has(output) && dtypes.get(output) === 'float32') names.push(output);
    }
  }
  return names;
}
