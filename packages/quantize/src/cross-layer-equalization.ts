// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and Bias
// Correction"). When a layer's output channels differ widely in weight range, one per-tensor grid is too coarse
// for the small ones. For f positively homogeneous (f(x / s) = f(x) / s for s > 0: Relu, PRelu, LeakyRelu, or no
// op at all), W2 f(W1 x + b1) = (W2 S) f(S^-1 (W1 x + b1)): dividing output channel i of the first layer by s_i and
// multiplying input channel i of the second by s_i leaves the function as it was. s_i = sqrt(r1_i r2_i) / r2_i
// makes both channel ranges sqrt(r1_i r2_i), which the paper shows maximizes the pair's total per-channel
// precision. Chains (conv -> conv -> conv) are equalized pair by pair, in sweeps, until the scales settle.
import type { Graph, Node } from '@quantkit/onnx';
import { isDefaultDomain } from '@quantkit/onnx';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import {
  type WeightLayer,
  channelRanges,
  readBias,
  scaleWeight,
  weightLayer,
  writeBias,
} from './weight-layer.js';

/** Ops between two layers that commute with a positive per-channel scale. */
const POSITIVELY_HOMOGENEOUS = new Set(['Relu', 'PRelu', 'LeakyRelu']);

/** Two layers where the first's output reaches only the second, through at most one positively homogeneous op. */
export interface LayerPair {
  readonly first: Node;
  readonly second: Node;
  /** The Relu, PRelu or LeakyRelu between them; undefined when the second reads the first's output directly. */
  readonly activation: Node | undefined;
  /** The first layer's output, whose BatchNorm statistics follow its channels. */
  readonly between: string;
}

/** The value's one reader, when it has exactly one and is not a graph output. */
function onlyReader(graph: Graph, name: string): Node | undefined {
  if (graph.isOutput(name)) return undefined;
  const readers = graph.consumers(name);
  if (readers.length !== 1) return undefined;
  const reader = readers[0]!;
  return reader.inputs.filter((input) => input === name).length === 1 ? reader : undefined;
}

/**
 * Every pair of Conv -> Conv or Gemm -> Gemm layers with constant weights that cross-layer equalization may
 * scale: the first's output read by nothing else (a residual branch or a graph output would see the scaling),
 * joined directly or by Relu, PRelu or LeakyRelu (never Clip, Sigmoid, Add: they do not commute with scaling),
 * the first's channel count the second's input channel count, and the first's bias per channel.
 * @example for (const pair of findLayerPairs(graph)) console.log(pair.first.name, '->', pair.second.name);
 */
export function findLayerPairs(graph: Graph): LayerPair[] {
  const pairs: LayerPair[] = [];
  for (const node of graph.nodes) {
    const second = weightLayer(graph, node);
    const input = node.inputs[0];
    if (second === undefined || input === undefined || onlyReader(graph, input) !== node) continue;
    let activation = graph.producer(input);
    let between = input;
    if (
      activation !== undefined &&
      isDefaultDomain(activation.domain) &&
      POSITIVELY_HOMOGENEOUS.has(activation.opType)
    ) {
      between = activation.inputs[0] ?? '';
      if (activation.outputs.length !== 1 || onlyReader(graph, between) !== activation) continue;
    } else {
      activation = undefined;
    }
    const producer = graph.producer(between);
    const first = producer === undefined ? undefined : weightLayer(graph, producer);
    if (first === undefined || producer === node || producer!.opType !== node.opType) continue;
    if (producer!.outputs.length !== 1 || first.outputs !== second.inputs) continue;
    if (readBias(graph, first) === undefined) continue;
    pairs.push({ first: producer!, second: node, activation, between });
  }
  return pairs;
}

/**
 * The per-channel scales that equalize two layers: s_i = sqrt(r1_i r2_i) / r2_i, so r1_i / s_i = r2_i s_i. A
 * channel with a zero (or non-finite) range on either side keeps scale 1: there is nothing to balance.
 * @example equalizationScales(Float64Array.of(100, 1), Float64Array.of(1, 1)) // [10, 1]
 */
export function equalizationScales(firstRanges: Float64Array, secondRanges: Float64Array): Float64Array {
  return firstRanges.map((r1, i) => {
    const r2 = secondRanges[i]!;
    const scale = Math.sqrt(r1 * r2) / r2;
    return r1 > 0 && r2 > 0 && Number.isFinite(scale) ? scale : 1;
  });
}

/** Divides output channel i of `layer` (weights, bias, and the output's statistics) by scales[i]. */
function scaleOutputs(
  graph: Graph,
  layer: WeightLayer,
  scales: Float64Array,
  between: string,
  statistics: BatchNormStatistics,
): void {
  const bias = readBias(graph, layer)!;
  scaleWeight(graph, layer, (output) => 1 / scales[output]!);
  writeBias(
    graph,
    layer,
    bias.map((value, i) => value / scales[i]!),
  );
  const channels = statistics.get(between);
  if (channels !== undefined && channels.mean.length === scales.length) {
    statistics.set(between, {
      mean: channels.mean.map((value, i) => value / scales[i]!),
      std: channels.std.map((value, i) => value / scales[i]!),
    });
  }
}

/** What equalization did. */
export interface EqualizationResult {
  /** Layer pairs equalized. */
  readonly pairs: number;
  /** Sweeps over all pairs until the largest scale change fell below the tolerance (or the limit was hit). */
  readonly sweeps: number;
}

/**
 * Equalizes every pair findLayerPairs finds, sweeping over them until no scale moves more than `tolerance` from 1
 * (at most `maxSweeps` times), and scales the BatchNorm statistics of each first layer's output with it.
 * The float function is unchanged up to rounding.
 * @example const { pairs } = equalizeCrossLayer(model.graph, captureBatchNormStatistics(model.graph));
 */
export function equalizeCrossLayer(
  graph: Graph,
  statistics: BatchNormStatistics,
  { maxSweeps = 20, tolerance = 1e-3 }: { maxSweeps?: number; tolerance?: number } = {},
): EqualizationResult {
  const pairs = findLayerPairs(graph);
  let sweeps = 0;
  while (pairs.length > 0 && sweeps < maxSweeps) {
    sweeps++;
    let largestChange = 0;
    for (const pair of pairs) {
      // Read afresh: the previous pair may have rescaled this one's layers.
      const first = weightLayer(graph, pair.first)!;
      const second = weightLayer(graph, pair.second)!;
      const scales = equalizationScales(channelRanges(first, 'output'), channelRanges(second, 'input'));
      for (const scale of scales) largestChange = Math.max(largestChange, Math.abs(Math.log(scale)));
      scaleOutputs(graph, first, scales, pair.between, statistics);
      scaleWeight(graph, second, (_output, input) => scales[input]!);
    }
    if (largestChange < tolerance) break;
  }
  return { pairs: pairs.length, sweeps };
}
