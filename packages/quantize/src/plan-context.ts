// What every planner shares: the plan's types, the planning context, and small helpers over constants and
// decisions. The planners are plan-static.ts, plan-weights.ts (weight-only, dynamic, float) and plan.ts (entry).
import type { DType, Granularity, Tensor } from '@quantkit/core';
import { BUILTIN_OPS, type Graph, type Node, weightChannelAxis } from '@quantkit/onnx';
import type { KeptQuantization } from './import-quantization.js';
import type { Recipe } from './options.js';
import type { NodeOverride, OverrideLookup } from './overrides.js';

/** What the planner decided for one node of the input model, and why. */
export interface NodeDecision {
  readonly name: string;
  readonly opType: string;
  readonly quantized: boolean;
  readonly reason: string;
  /** For a node inside an If/Loop/Scan body: the body, as "If_0/then_branch" (nested bodies joined by '/'). */
  readonly scope?: string;
}

/** A constant input that is stored quantized: a weight (per channel along axis) or a constant operand. */
export interface ConstantUse {
  readonly node: Node;
  /** The constant's value name as planned (the node's input is rewritten when the constant is stored). */
  readonly name: string;
  readonly slot: number;
  readonly tensor: Tensor<'float32'>;
  /** Per-channel axis, or undefined for one scale per tensor. */
  readonly axis: number | undefined;
  readonly kind: 'weight' | 'operand';
  /** Per-node weight settings from the overrides. */
  readonly override?: NodeOverride | undefined;
  /**
   * The reader computes in float (an LSTM in static mode): the codes are storage only, and no integer kernel
   * fuses their dequantization, so they are written in the form onnxruntime folds at load.
   */
  readonly floatReader?: boolean;
}

/** A Conv/ConvTranspose/Gemm bias stored in int32 with scale = input scale x weight scale. */
export interface BiasUse {
  readonly node: Node;
  readonly slot: number;
  readonly tensor: Tensor<'float32'>;
  readonly input: string;
  readonly weight: ConstantUse;
}

export interface QuantPlan {
  readonly decisions: readonly NodeDecision[];
  /** Activations that get a QuantizeLinear/DequantizeLinear pair, in graph order. */
  readonly activations: readonly string[];
  /** Activation -> the activation whose scale and zero point it reuses. */
  readonly sharedParams: ReadonlyMap<string, string>;
  /**
   * Static: the output of a Mul by a positive one-value constant -> the activation it scales and by how much. Its
   * codes are the source's, dequantized with the scale times the factor: the Mul is not written (no QLinearMul
   * to run, no second rounding).
   */
  readonly scaledParams?: ReadonlyMap<string, { readonly source: string; readonly factor: number }>;
  readonly constants: readonly ConstantUse[];
  readonly biases: readonly BiasUse[];
  /** Relu/Clip nodes folded into the quantized producer before them: saturation does their clamping. */
  readonly fusedActivations: readonly { readonly activation: Node; readonly producer: Node }[];
  /** Nodes that dynamic mode rewrites to integer ops. */
  readonly dynamicNodes: readonly ConstantUse[];
  /** MatMul/Gemm nodes rewritten to com.microsoft MatMulNBits (4-bit block-wise weight-only). */
  readonly nbitsNodes: readonly ConstantUse[];
  /** Quantized activation -> readers that keep its float value (a Log or a divisor must not see it rounded to 0). */
  readonly floatReaders?: ReadonlyMap<string, readonly Node[]>;
  /**
   * What a quantization-aware-trained input fixed itself (its Q/DQ parameters and weight codes): written as they
   * are, never calibrated or re-quantized (see withKeptQuantization).
   */
  readonly kept?: KeptQuantization;
}

export interface PlanContext {
  readonly graph: Graph;
  readonly recipe: Recipe;
  readonly opset: number;
  readonly dtypes: Map<string, DType>;
  readonly overrides: OverrideLookup;
}

export function floatConstant(graph: Graph, name: string | undefined): Tensor<'float32'> | undefined {
  if (name === undefined || name === '') return undefined;
  const tensor = graph.getConstant(name);
  return tensor?.dtype === 'float32' ? (tensor as Tensor<'float32'>) : undefined;
}

/**
 * The axis holding output channels in a weight, for per-channel scales; undefined when one scale per tensor is
 * needed (per-tensor granularity, a grouped ConvTranspose whose axis 1 is not the output channel, a 1-D weight).
 */
export function weightAxis(node: Node, weight: Tensor, granularity: Granularity): number | undefined {
  if (granularity === 'tensor') return undefined;
  return weightChannelAxis(BUILTIN_OPS.of(node), node, weight.shape);
}

export function decisions(
  graph: Graph,
  quantized: ReadonlySet<Node>,
  reasons: ReadonlyMap<Node, string>,
  mode: Recipe['mode'],
  bits = 8,
): NodeDecision[] {
  const what = {
    static: 'int8 compute with QDQ',
    dynamic: 'int8 compute, activations quantized at run time',
    'weight-only': bits === 8 ? 'weights stored in int8' : `weights stored as ${bits}-bit codes`,
    float: 'converted to a narrower float',
    'data-free': 'int8 compute with QDQ, ranges estimated without data',
  }[mode];
  return graph.nodes.map((node) => {
    const reason = reasons.get(node);
    return { name: node.name, opType: node.opType, quantized: quantized.has(node), reason: reason ?? what };
  });
}

export type Decide = (node: Node, eligible: (node: Node) => string | undefined) => string | undefined;
export type WeightUse = (node: Node, slot: number, tensor: Tensor<'float32'>) => ConstantUse;
