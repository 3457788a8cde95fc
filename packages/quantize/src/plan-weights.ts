// The planners of the modes that store weights only or quantize activations at run time (weight-only, dynamic),
// and of float mode; shared with static mode: the weights of recurrent ops, which stay float to run.
import { QuantError, type Tensor } from '@quantkit/core';
import { BUILTIN_OPS, type Graph, intAttribute, type Node, subgraphsOf } from '@quantkit/onnx';
import { floatBlocker } from './float-precision.js';
import {
  type ConstantUse,
  type Decide,
  decisions,
  floatConstant,
  type PlanContext,
  type QuantPlan,
  type WeightUse,
  weightAxis,
} from './plan-context.js';

/** Mode 'float': nothing gets integer codes; each node converts to the float precision or says why not. */
export function planFloat(context: PlanContext, decide: Decide): QuantPlan {
  const { graph, recipe } = context;
  const precision = recipe.floatPrecision ?? 'fp16';
  const converted = new Set<Node>();
  const reasons = new Map<Node, string>();
  for (const node of graph.nodes) {
    const blocker = decide(node, (n) => floatBlocker(n, precision));
    if (blocker === undefined) {
      converted.add(node);
      const bodies = node.opType === 'If' ? 'branches' : 'body';
      reasons.set(
        node,
        precision.startsWith('fp8')
          ? `weights stored in ${precision}`
          : subgraphsOf(node).length > 0
            ? `its ${bodies} run${bodies === 'body' ? 's' : ''} in ${precision}; the ${node.opType} passes float32 in and out`
            : `runs in ${precision}`,
      );
    } else {
      reasons.set(node, blocker);
    }
  }
  return {
    decisions: decisions(graph, converted, reasons, 'float'),
    activations: [],
    sharedParams: new Map(),
    constants: [],
    biases: [],
    fusedActivations: [],
    dynamicNodes: [],
    nbitsNodes: [],
  };
}

/** Why a node cannot become MatMulNBits, or undefined when it can. */
function nbitsBlocker(node: Node, weight: Tensor<'float32'>): string | undefined {
  if (node.opType !== 'MatMul' && node.opType !== 'Gemm')
    return `MatMulNBits covers MatMul and Gemm, not ${node.opType}`;
  if (weight.shape.length !== 2) return 'MatMulNBits needs a 2-D weight';
  if (node.opType === 'Gemm' && intAttribute(node, 'transA', 0) !== 0) return 'Gemm with transA';
  return undefined;
}

/**
 * The float constants a value is made of when it is computed from them by data movement only (PyTorch exports an
 * LSTM's W as Slice -> Concat -> Unsqueeze of weight_ih, reordering the gates), each as the node and slot reading
 * it; undefined when anything else computes it or a shape, axis or index input is not constant.
 */
function movedConstants(
  graph: Graph,
  name: string,
  depth = 0,
): { node: Node; slot: number; tensor: Tensor<'float32'> }[] | undefined {
  const producer = graph.producer(name);
  const descriptor = producer === undefined ? undefined : BUILTIN_OPS.of(producer);
  if (producer === undefined || descriptor?.movesData !== true || depth > 16) return undefined;
  const data = descriptor.dataInputs;
  const found: { node: Node; slot: number; tensor: Tensor<'float32'> }[] = [];
  for (const [slot, input] of producer.inputs.entries()) {
    if (input === '') continue;
    const isData = data === 'all' || data.includes(slot);
    if (!isData) {
      if (graph.getConstant(input) === undefined) return undefined;
      continue;
    }
    const tensor = floatConstant(graph, input);
    if (tensor !== undefined) {
      found.push({ node: producer, slot, tensor });
      continue;
    }
    const inner = movedConstants(graph, input, depth + 1);
    if (inner === undefined) return undefined;
    found.push(...inner);
  }
  return found;
}

/**
 * The constants to store for a node's weight slots: each slot's float constant, or for a recurrent op (LSTM, GRU,
 * RNN) the constants its W or R is moved from. Empty when the node has no constant weight.
 */
function weightUses(context: PlanContext, node: Node, weightUse: WeightUse): ConstantUse[] {
  const { graph, recipe } = context;
  const slots = BUILTIN_OPS.of(node)?.weight?.slots ?? [];
  return slots.flatMap((slot) => {
    const tensor = floatConstant(graph, node.inputs[slot]);
    if (tensor !== undefined) return [weightUse(node, slot, tensor)];
    if (slots.length < 2) return [];
    // A recurrent weight reordered by Slice/Concat/Unsqueeze: its source constants, quantized before the moves.
    return (movedConstants(graph, node.inputs[slot] ?? '') ?? []).map((source) => {
      const use = weightUse(source.node, source.slot, source.tensor);
      return {
        ...use,
        axis: weightAxis(node, source.tensor, use.override?.granularity ?? recipe.granularity),
      };
    });
  });
}

/**
 * Static and dynamic modes have no integer LSTM, GRU or RNN in stock onnxruntime: such a node runs in float, and
 * its weights are stored quantized in front of it as in weight-only mode (most of a recurrent model's bytes). Adds
 * the weights to `constants` and returns the nodes that got them, with their reasons set.
 */
export function storeRecurrentWeights(
  context: PlanContext,
  decide: Decide,
  weightUse: WeightUse,
  constants: ConstantUse[],
  reasons: Map<Node, string>,
): Set<Node> {
  const stored = new Set<Node>();
  for (const node of context.graph.nodes) {
    if ((BUILTIN_OPS.of(node)?.weight?.slots.length ?? 0) < 2) continue;
    const uses = weightUses(context, node, weightUse);
    if (
      decide(node, () => (uses.length === 0 ? 'its weights are not float32 constants' : undefined)) !==
      undefined
    )
      continue;
    constants.push(...uses.map((use) => ({ ...use, floatReader: true })));
    stored.add(node);
    reasons.set(
      node,
      `weights stored in int8; ${node.opType} itself runs in float (stock onnxruntime has no integer ${node.opType})`,
    );
  }
  return stored;
}

export function planWeightOnly(context: PlanContext, decide: Decide, weightUse: WeightUse): QuantPlan {
  const { graph } = context;
  const quantized = new Set<Node>();
  const reasons = new Map<Node, string>();
  const constants: ConstantUse[] = [];
  const nbitsNodes: ConstantUse[] = [];
  for (const node of graph.nodes) {
    const weightOnly = BUILTIN_OPS.of(node)?.weightOnly === true;
    const uses = weightOnly ? weightUses(context, node, weightUse) : [];
    const blocker = decide(node, (n) => {
      if (!weightOnly) return `${n.opType} has no weight to quantize`;
      if (uses.length === 0) return 'its weight is not a float32 constant';
      return undefined;
    });
    if (blocker !== undefined) {
      reasons.set(node, blocker);
      continue;
    }
    quantized.add(node);
    // Blocks come from the recipe or from this node's override (so 4-bit blocks can mix with other layers' forms).
    const override = uses[0]!.override;
    if ((override?.granularity ?? context.recipe.granularity) !== 'block') {
      constants.push(...uses);
      continue;
    }
    const blocker4 = nbitsBlocker(node, uses[0]!.tensor);
    if (blocker4 === undefined) {
      nbitsNodes.push(uses[0]!);
      reasons.set(node, 'weights stored in 4-bit blocks (com.microsoft MatMulNBits)');
      continue;
    }
    // No block form for this op in stock onnxruntime: the requested width per channel instead (codes of 4 bits or
    // fewer packed several to a byte), never silently 8 bits.
    const bits = override?.bits ?? context.recipe.bits;
    const perChannel = { ...override, bits, granularity: 'channel' as const, symmetric: true };
    for (const use of uses)
      constants.push({ ...use, override: perChannel, axis: weightAxis(node, use.tensor, 'channel') });
    reasons.set(
      node,
      `weights stored as ${bits === 8 ? 'int8' : `${bits}-bit codes`} per channel, not in blocks (${blocker4})`,
    );
  }
  return {
    decisions: decisions(graph, quantized, reasons, 'weight-only', context.recipe.bits),
    activations: [],
    sharedParams: new Map(),
    constants,
    biases: [],
    fusedActivations: [],
    dynamicNodes: [],
    nbitsNodes,
  };
}

export function planDynamic(context: PlanContext, decide: Decide, weightUse: WeightUse): QuantPlan {
  const { graph, opset, dtypes } = context;
  const quantized = new Set<Node>();
  const reasons = new Map<Node, string>();
  const dynamicNodes: ConstantUse[] = [];
  const constants: ConstantUse[] = [];
  for (const node of graph.nodes) {
    const blocker = decide(node, (n) => {
      if (BUILTIN_OPS.of(n)?.dynamic !== true) {
        return `${n.opType} has no dynamically quantized form; it stays float`;
      }
      const bits = context.overrides.node(n.name, n.opType)?.bits;
      if (bits !== undefined && bits !== 8) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `override for "${n.name}" asks for ${bits}-bit weights, but dynamic mode runs 8-bit integer operators`,
        );
      }
      const input = dtypes.get(n.inputs[0]!);
      if (input !== undefined && input !== 'float32')
        return `input "${n.inputs[0]}" is ${input}, not float32`;
      const weight = floatConstant(graph, n.inputs[1]);
      if (weight === undefined) return 'its weight is not a float32 constant';
      if (n.opType === 'Gemm' && intAttribute(n, 'transA', 0) !== 0) return 'Gemm with transA stays float';
      if (n.opType === 'MatMul' && weight.shape.length !== 2)
        return 'only 2-D MatMul weights are quantized dynamically';
      if (
        n.opType === 'Conv' &&
        n.inputs[2] !== undefined &&
        n.inputs[2] !== '' &&
        !floatConstant(graph, n.inputs[2])
      ) {
        return 'its bias is computed at run time';
      }
      return undefined;
    });
    if (blocker !== undefined) {
      reasons.set(node, blocker);
      continue;
    }
    const use = weightUse(node, 1, floatConstant(graph, node.inputs[1])!);
    quantized.add(node);
    if (node.opType === 'Conv' && opset < 11) {
      // ConvInteger needs DynamicQuantizeLinear (opset 11) in front; below that the weight is stored in int8 and
      // dequantized for a float Conv, which still saves the size.
      reasons.set(
        node,
        `weights stored in int8 (DynamicQuantizeLinear needs opset 11; the model has opset ${opset})`,
      );
      constants.push(use);
    } else {
      dynamicNodes.push(use);
    }
  }
  const stored = storeRecurrentWeights(context, decide, weightUse, constants, reasons);
  return {
    decisions: decisions(graph, new Set([...quantized, ...stored]), reasons, 'dynamic'),
    activations: [],
    sharedParams: new Map(),
    constants,
    biases: [],
    fusedActivations: [],
    dynamicNodes,
    nbitsNodes: [],
  };
}
