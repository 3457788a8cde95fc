// High-bias absorption (Nagel et al. 2019). Equalization can leave a channel with a large bias, and so a wide
// activation range, that the next layer could carry instead. Where a channel's pre-activation x ~ N(beta, gamma)
// is almost always above c = max(0, beta - 3 gamma), Relu(x - c) = Relu(x) - c, so c leaves the first layer's bias
// and W2 c (summed over the kernel) joins the second's: the same function wherever x >= c, about 99.87% of the time.
import { type Graph, type Node, floatAttribute, intsAttribute, stringAttribute } from '@quantkit/onnx';
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { findLayerPairs } from './cross-layer-equalization.js';
import { readBias, weightLayer, writeBias } from './weight-layer.js';

/**
 * Why the second layer cannot take the absorbed bias, or undefined when it can: with zero padding, the border
 * outputs would read padding where c is missing and come out shifted by the part of W2 c that falls on it.
 */
function paddingBlocker(node: Node): string | undefined {
  if (node.opType !== 'Conv') return undefined;
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return `auto_pad ${autoPad}`;
  const pads = intsAttribute(node, 'pads') ?? [];
  return pads.some((pad) => pad !== 0) ? 'zero padding' : undefined;
}

/** What absorption did. */
export interface AbsorptionResult {
  /** Layers whose bias moved (some channel's c > 0) into the layer after them. */
  readonly absorbed: number;
  /** Pairs left alone because the second layer pads (see paddingBlocker). */
  readonly skippedForPadding: number;
}

/**
 * Moves c = max(0, mean - deviations x std) of each channel, from the BatchNorm statistics of a layer's output,
 * out of that layer's bias and into the next layer's, across Relu, PRelu or LeakyRelu (which are the identity
 * above c >= 0), and shifts the statistics' means down by c. Pairs whose second layer pads are skipped.
 * @example const { absorbed } = absorbHighBias(model.graph, statistics);
 */
export function absorbHighBias(
  graph: Graph,
  statistics: BatchNormStatistics,
  deviations = 3,
): AbsorptionResult {
  let absorbed = 0;
  let skippedForPadding = 0;
  for (const pair of findLayerPairs(graph)) {
    const channels = statistics.get(pair.between);
    if (pair.activation === undefined || channels === undefined) continue;
    const first = weightLayer(graph, pair.first)!;
    const second = weightLayer(graph, pair.second)!;
    if (channels.mean.length !== first.outputs) continue;
    const absorb = channels.mean.map((mean, i) => Math.max(0, mean - deviations * channels.std[i]!));
    if (absorb.every((value) => value === 0)) continue;
    if (paddingBlocker(pair.second) !== undefined) {
      skippedForPadding++;
      continue;
    }
    const firstBias = readBias(graph, first)!;
    const secondBias = readBias(graph, second);
    if (secondBias === undefined) continue;
    const weights = second.weight.data;
    // Gemm computes alpha A B + beta C: the input's shift reaches the output times alpha.
    const alpha = pair.second.opType === 'Gemm' ? floatAttribute(pair.second, 'alpha', 1) : 1;
    second.forEach((index, output, input) => {
      secondBias[output]! += alpha * weights[index]! * absorb[input]!;
    });
    writeBias(
      graph,
      first,
      firstBias.map((value, i) => value - absorb[i]!),
    );
    writeBias(graph, second, secondBias);
    statistics.set(pair.between, {
      mean: channels.mean.map((mean, i) => mean - absorb[i]!),
      std: channels.std,
    });
    absorbed++;
  }
  return { absorbed, skippedForPadding };
}
