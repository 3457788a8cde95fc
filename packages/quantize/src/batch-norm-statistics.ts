// What a model's BatchNormalization nodes know about their outputs without any data: training normalized each
// channel and then set its mean to the shift (beta) and its standard deviation to |scale| (gamma). Data-free
// quantization reads those as the statistics of the output, so they are taken before BatchNorm is folded away;
// the output's name survives folding (the Conv or Gemm then writes it), and each rewrite after that (equalization
// scaling a channel, bias absorption shifting one) updates the statistics with the weights.
import { type Graph, isDefaultDomain } from '@quantkit/onnx';

/** Per channel (axis 1) of one tensor: its expected mean and standard deviation. */
export interface ChannelStatistics {
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/** Channel statistics by tensor name. */
export type BatchNormStatistics = Map<string, ChannelStatistics>;

/**
 * The channel statistics of every inference-mode BatchNormalization output whose shift and scale are float32
 * constants, keyed by that output's name.
 * @example const statistics = captureBatchNormStatistics(model.graph); // before foldBatchNorm(model.graph)
 */
export function captureBatchNormStatistics(graph: Graph): BatchNormStatistics {
  const statistics: BatchNormStatistics = new Map();
  for (const node of graph.nodes) {
    if (node.opType !== 'BatchNormalization' || !isDefaultDomain(node.domain)) continue;
    const output = node.outputs[0];
    const scale = graph.getConstant(node.inputs[1] ?? '');
    const shift = graph.getConstant(node.inputs[2] ?? '');
    if (output === undefined || scale?.dtype !== 'float32' || shift?.dtype !== 'float32') continue;
    if (scale.data.length !== shift.data.length) continue;
    statistics.set(output, {
      mean: Float64Array.from(shift.data as Float32Array),
      std: Float64Array.from(scale.data as Float32Array, Math.abs),
    });
  }
  return statistics;
}
