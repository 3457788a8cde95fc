import { type Tensor, dtypeInfo, sizeOf } from '@quantkit/core';
import { type Graph, isDefaultDomain, subgraphsOf } from '@quantkit/onnx';
import type { CompatibilityIssue } from '@quantkit/targets';
import type { LatencyGuardResult } from './latency-guard.js';
import type { BiasCorrectionResult } from './bias-correction.js';
import type { FinetuneResult } from './adaround-transform.js';
import type { CalibrationChoice } from './measured-runs.js';
import type { DataFreeResult } from './data-free-preparation.js';
import type { FidelityResult } from './min-sqnr.js';
import type { Recipe } from './options.js';
import type { NodeDecision } from './plan.js';
import type { KeptPoints } from './plan-kept.js';
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
  /** What bias correction changed, when options.biasCorrection asked for it. */
  readonly biasCorrection?: BiasCorrectionResult;
  /** What AdaRound finetuned (per layer: reconstruction error before and after), when options.finetune asked. */
  readonly finetune?: FinetuneResult;
  /** Mode 'data-free': what equalization, absorption and bias correction did, and where each range came from. */
  readonly dataFree?: DataFreeResult;
  /** What calibrationMethod 'auto' measured and chose. */
  readonly calibrationChoice?: CalibrationChoice;
  /** What the fidelity floor did, when options.minSqnr asked for it. */
  readonly fidelity?: FidelityResult;
  /** What the latency guard did, when options.latencyGuard asked for it. */
  readonly latencyGuard?: LatencyGuardResult;
  /**
   * A quantization-aware-trained input: which quantization points were kept from the model (their scales, zero
   * points and weight codes as trained) and which quantkit added.
   */
  readonly keptQuantization?: KeptPoints;
  /** With format 'qoperator': how many nodes became integer operators, and which stayed QDQ and why. */
  readonly qoperator?: {
    readonly converted: number;
    readonly kept: readonly { readonly node: string; readonly opType: string; readonly reason: string }[];
  };
}

/** Tensors of at least this many elements held by Constant nodes count as weights (smaller ones are shapes, axes). */
const CONSTANT_WEIGHT_ELEMENTS = 16;

function tensorBytes(tensor: Tensor): number {
  return Math.ceil((sizeOf(tensor.shape) * dtypeInfo(tensor.dtype).bits) / 8);
}

/**
 * The graph's weights: its initializers, the tensors of its Constant nodes that hold more than a few values
 * (exporters write whole weights that way), and the same inside every If/Loop/Scan body.
 */
export function* weightTensors(graph: Graph): Generator<{ name: string; tensor: Tensor }> {
  for (const [name, tensor] of graph.initializers) yield { name, tensor };
  for (const node of graph.nodes) {
    if (node.opType === 'Constant' && isDefaultDomain(node.domain)) {
      const value = node.attributes.get('value');
      if (value?.type === 'tensor' && sizeOf(value.value.shape) >= CONSTANT_WEIGHT_ELEMENTS) {
        yield { name: node.outputs[0] ?? node.name, tensor: value.value };
      }
    }
    for (const body of subgraphsOf(node)) yield* weightTensors(body);
  }
}

/** Bytes the graph's weights (weightTensors) take when stored, sub-byte types packed. */
export function weightBytes(graph: Graph): number {
  let bytes = 0;
  for (const { tensor } of weightTensors(graph)) bytes += tensorBytes(tensor);
  return bytes;
}
