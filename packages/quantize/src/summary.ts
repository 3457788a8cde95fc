import { dtypeInfo, sizeOf } from '@quantkit/core';
import type { Graph } from '@quantkit/onnx';
import type { CompatibilityIssue } from '@quantkit/targets';
import type { Recipe } from './options.js';
import type { NodeDecision } from './plan.js';
import type { Verification } from './verify-model.js';

/** What a quantization run changed, for people (the CLI prints it) and machines (--json, reports). */
export interface QuantizeSummary {
  readonly mode: Recipe['mode'];
  readonly recipe: Recipe;
  /** Encoded model sizes in bytes. */
  readonly sizeBefore: number;
  readonly sizeAfter: number;
  /** Bytes held by initializers (weights), before and after. */
  readonly weightBytesBefore: number;
  readonly weightBytesAfter: number;
  readonly nodes: readonly NodeDecision[];
  readonly calibrationSamples: number;
  /** Threads calibration ran on (0 when nothing was calibrated, e.g. ranges from a cache). */
  readonly calibrationThreads: number;
  /** What the target's compatibility check warns about in the output (errors stop the run instead). */
  readonly warnings: readonly CompatibilityIssue[];
  /** The run of the written model on one sample (absent without an executor or with verify: false). */
  readonly verification?: Verification;
  /** With format 'qoperator': how many nodes became integer operators, and which stayed QDQ and why. */
  readonly qoperator?: {
    readonly converted: number;
    readonly kept: readonly { readonly node: string; readonly opType: string; readonly reason: string }[];
  };
}

/** Bytes the graph's initializers take when stored (sub-byte types packed). */
export function weightBytes(graph: Graph): number {
  let bytes = 0;
  for (const tensor of graph.initializers.values()) {
    bytes += Math.ceil((sizeOf(tensor.shape) * dtypeInfo(tensor.dtype).bits) / 8);
  }
  return bytes;
}
