// Analytic bias correction (Nagel et al. 2019): the data-free form of bias-correction.ts. Rounding weights shifts
// each output channel's mean by (W_q - W) E[x]; with no data, E[x] of a layer's input comes from the BatchNorm
// statistics of the layer before: its output is N(beta, gamma) per channel, and through a Relu (or a Clip) the
// mean of the clipped normal has a closed form. Layers whose input has no statistics keep their bias.
import { type LinearQuantParams, dequantizeQuantized } from '@quantkit/core';
import { type Graph, intAttribute, isDefaultDomain } from '@quantkit/onnx';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { outputShift } from './bias-correction.js';
import { quantizeBias } from './bias-scale.js';
import { clipBounds } from './clip-bounds.js';
import type { QuantizationTransform } from './model-transforms.js';

/** erf(x) to within 1.5e-7 (Abramowitz and Stegun 7.1.26): ample for a mean that is then rounded to a bias grid. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-x * x));
}

const normalPdf = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
const normalCdf = (z: number): number =>
  z === Number.POSITIVE_INFINITY ? 1 : z === Number.NEGATIVE_INFINITY ? 0 : 0.5 * (1 + erf(z / Math.SQRT2));

/**
 * E[clip(X, low, high)] for X ~ N(mean, std): low P(X < low) + high P(X > high) + the truncated normal's part in
 * between, mean (Phi(b) - Phi(a)) + std (phi(a) - phi(b)) with a, b the bounds in standard units. Relu is
 * low = 0, high = Infinity: mean Phi(mean / std) + std phi(mean / std).
 * @example clippedNormalMean(0, 1, 0, Infinity) // 0.3989 (1 / sqrt(2 pi))
 */
export function clippedNormalMean(mean: number, std: number, low: number, high: number): number {
  if (!(std > 0)) return Math.min(high, Math.max(low, mean));
  const a = (low - mean) / std;
  const b = (high - mean) / std;
  const below = low === Number.NEGATIVE_INFINITY ? 0 : low * normalCdf(a);
  const above = high === Number.POSITIVE_INFINITY ? 0 : high * (1 - normalCdf(b));
  const pdfA = Number.isFinite(a) ? normalPdf(a) : 0;
  const pdfB = Number.isFinite(b) ? normalPdf(b) : 0;
  return below + above + mean * (normalCdf(b) - normalCdf(a)) + std * (pdfA - pdfB);
}

/** Ops whose output channel means are their input's (a mean of means): the way from a BatchNorm to a layer. */
const MEAN_PRESERVING = new Set(['Identity', 'Dropout', 'GlobalAveragePool']);

/**
 * The expected value of each channel of `name`, from BatchNorm statistics: directly, through a Relu or constant
 * Clip (clipped-normal mean), through mean-preserving ops, and through Flatten (axis 1) as each channel's mean
 * repeated over its positions; undefined where the path meets anything else (MaxPool, Add, an input).
 */
export function expectedChannelMeans(
  graph: Graph,
  name: string,
  statistics: BatchNormStatistics,
): { readonly means: Float64Array; readonly flattened: boolean } | undefined {
  const channels = statistics.get(name);
  if (channels !== undefined) return { means: channels.mean, flattened: false };
  const producer = graph.producer(name);
  if (producer === undefined || !isDefaultDomain(producer.domain)) return undefined;
  const input = producer.inputs[0] ?? '';
  const bounds = clipBounds(graph, producer);
  if (bounds !== undefined) {
    const before = statistics.get(input);
    if (before === undefined) return undefined;
    const means = before.mean.map((mean, i) => clippedNormalMean(mean, before.std[i]!, bounds[0], bounds[1]));
    return { means, flattened: false };
  }
  if (MEAN_PRESERVING.has(producer.opType)) return expectedChannelMeans(graph, input, statistics);
  if (producer.opType === 'Flatten' && intAttribute(producer, 'axis', 1) === 1) {
    const inner = expectedChannelMeans(graph, input, statistics);
    return inner === undefined ? undefined : { means: inner.means, flattened: true };
  }
  return undefined;
}

/** A layer's input means, each flattened channel's mean repeated over its positions ([N, C, H, W] -> [N, C H W]). */
function layerInputMeans(
  expected: { readonly means: Float64Array; readonly flattened: boolean },
  inputs: number,
): Float64Array | undefined {
  const { means, flattened } = expected;
  if (means.length === inputs) return means;
  if (!flattened || inputs % means.length !== 0) return undefined;
  const positions = inputs / means.length;
  return Float64Array.from({ length: inputs }, (_, k) => means[Math.floor(k / positions)]!);
}

/** What analytic bias correction changed (QuantizeSummary.dataFree.biasesCorrected). */
export interface AnalyticCorrection {
  readonly transform: QuantizationTransform;
  /** Biases corrected by the last apply. */
  corrected(): number;
}

/**
 * The quantization transform that subtracts each Conv's or Gemm's expected output shift, (W_q - W) E[x] with E[x]
 * from `statistics` (see expectedChannelMeans), from its float bias and quantizes the bias again at the same scale.
 * Layers with no statistics on their input, or whose bias stays float, are left as they are.
 * @example const correction = analyticBiasCorrection(statistics); quantizationTransforms: [correction.transform]
 */
export function analyticBiasCorrection(statistics: BatchNormStatistics): AnalyticCorrection {
  let corrected = 0;
  const transform: QuantizationTransform = {
    name: 'analytic-bias-correction',
    apply(computed, context) {
      const { graph } = context.model;
      corrected = 0;
      for (const [bias, codes] of computed.biases) {
        const weight = computed.weights.get(bias.weight);
        const input: LinearQuantParams | undefined = computed.activations.get(bias.input);
        if (weight === undefined || input === undefined) continue;
        // A Gemm's weight may be stored transposed for its integer kernel; the shift is taken in the float layout.
        if (weight.tensor.shape.join() !== bias.weight.tensor.shape.join()) continue;
        const expected = expectedChannelMeans(graph, bias.input, statistics);
        if (expected === undefined) continue;
        const float = weight.tensor.data;
        const dequantized = dequantizeQuantized(weight.quantized);
        const error = Float32Array.from(dequantized, (value, i) => value - float[i]!);
        const inputs =
          bias.node.opType === 'Conv'
            ? weight.tensor.shape[1]! * intAttribute(bias.node, 'group', 1)
            : intAttribute(bias.node, 'transB', 0) !== 0
              ? weight.tensor.shape[1]!
              : weight.tensor.shape[0]!;
        const means = layerInputMeans(expected, inputs);
        const shift = means === undefined ? undefined : outputShift(bias.node, weight.tensor, error, means);
        if (shift === undefined || shift.length !== bias.tensor.data.length) continue;
        const updated = Float32Array.from(bias.tensor.data, (value, i) => value - shift[i]!);
        const requantized = quantizeBias(updated, input.scale[0]!, weight.quantized.params);
        if (requantized === undefined || requantized.codes.data.length !== codes.codes.data.length) continue;
        computed.biases.set(bias, requantized);
        corrected++;
      }
      return corrected;
    },
  };
  return { transform, corrected: () => corrected };
}
