// A quantization-aware-trained model's own Q/DQ points (see import-quantization.ts) joined to the plan quantkit
// made for the float graph: every kept point is written back with its parameters, whether or not quantkit's rules
// would have quantized there, so the output computes what the trained model computed.
import { QuantError } from '@quantkit/core';
import { BUILTIN_OPS, type Graph } from '@quantkit/onnx';
import type { KeptQuantization } from './import-quantization.js';
import type { QuantizeMode } from './options.js';
import type { BiasUse, ConstantUse, NodeDecision, QuantPlan } from './plan-context.js';
import { floatConstant } from './plan-context.js';

/** Where the plan's quantization points came from: the model's own Q/DQ, or quantkit. */
export interface KeptPoints {
  /** Activations whose Q/DQ pair (and parameters) came from the model. */
  readonly keptActivations: readonly string[];
  /** Weights whose codes and parameters came from the model. */
  readonly keptWeights: readonly string[];
  /** Activations and weights quantkit quantized itself. */
  readonly addedActivations: readonly string[];
  readonly addedWeights: readonly string[];
}

/**
 * The plan's points, split into those kept from the model and those quantkit added.
 * @example
 * const { keptActivations, addedWeights } = keptPoints(plan); // ['conv1_out'], ['fc.weight']
 */
export function keptPoints(plan: QuantPlan): KeptPoints {
  const kept = plan.kept;
  const activations = plan.activations.filter((name) => !plan.scaledParams?.has(name));
  const weights = [...new Set(plan.constants.map((use) => use.name))];
  return {
    keptActivations: activations.filter((name) => kept?.activations.has(name) === true),
    keptWeights: weights.filter((name) => kept?.weights.has(name) === true),
    addedActivations: activations.filter((name) => kept?.activations.has(name) !== true),
    addedWeights: weights.filter((name) => kept?.weights.has(name) !== true),
  };
}

/**
 * Checks that the float transforms (BatchNorm folding) left every kept point in place: a weight they changed no
 * longer matches the codes the model trained with.
 * @example
 * checkKeptPoints(model.graph, kept); // after applyTransforms
 * @throws QuantError UNSUPPORTED naming the weight or activation.
 */
export function checkKeptPoints(graph: Graph, kept: KeptQuantization): void {
  for (const [name, weight] of kept.weights) {
    // Import left every kept weight read by the nodes its DequantizeLinear fed; a transform that rewrote it either
    // changed it in place or gave its readers a new constant.
    const unread = graph.consumers(name).length === 0 && !graph.isOutput(name);
    if (graph.getConstant(name)?.data !== weight.tensor.data || unread) {
      throw new QuantError(
        'UNSUPPORTED',
        `weight "${name}" carries the model's own quantization, but a float transform (BatchNorm folding) ` +
          'changed it; fold BatchNorm into the weights before quantization-aware training and export again',
        { details: { tensor: name } },
      );
    }
  }
  for (const name of kept.activations.keys()) {
    if (graph.producer(name) === undefined && !graph.isInput(name)) {
      throw new QuantError(
        'UNSUPPORTED',
        `activation "${name}" carries the model's own Q/DQ pair, but a float transform removed it`,
        { details: { tensor: name } },
      );
    }
  }
}

/**
 * The plan with the model's own points joined: every kept activation gets its Q/DQ pair (static and weight-only
 * modes; weight-only writes them back as they were), every kept weight is stored from its codes, fused clamps
 * whose input the model quantized itself are kept as nodes, and decisions say what came from the model.
 * @example
 * const plan = withKeptQuantization(planQuantization(graph, recipe, opset), prepared.kept, graph, recipe.mode);
 * @throws QuantError UNSUPPORTED for a kept weight that the plan writes as 4-bit blocks (MatMulNBits).
 */
export function withKeptQuantization(
  plan: QuantPlan,
  kept: KeptQuantization | undefined,
  graph: Graph,
  mode: QuantizeMode,
): QuantPlan {
  if (kept === undefined) return plan;
  const activations = [...plan.activations];
  const planned = new Set(activations);
  if (mode === 'static') {
    for (const name of kept.activations.keys()) if (!planned.has(name)) activations.push(name);
  }
  const sharedParams = new Map([...plan.sharedParams].filter(([name]) => !kept.activations.has(name)));
  const scaledParams =
    plan.scaledParams === undefined
      ? undefined
      : new Map([...plan.scaledParams].filter(([name]) => !kept.activations.has(name)));
  // A clamp fused into its producer removes the value the model put its own pair on; it stays a node then.
  const unfused = plan.fusedActivations.filter(({ producer }) => kept.activations.has(producer.outputs[0]!));
  const fusedActivations = plan.fusedActivations.filter((pair) => !unfused.includes(pair));

  const constants: ConstantUse[] = [...plan.constants];
  const biases: BiasUse[] = [...plan.biases];
  const stored = new Set(constants.map((use) => `${use.node.name}\u0000${use.slot}`));
  const nbits = new Set(plan.nbitsNodes.map((use) => use.name));
  const biased = new Set(biases.map((bias) => bias.node));
  // onnxruntime quantizes a float bias beside dequantized data and weight itself, and below opset 13 the model it
  // makes then fails to load: such a bias is stored in int32 at the model's input scale x weight scale.
  const addBias = (use: ConstantUse) => {
    const { node } = use;
    const biasSlot = BUILTIN_OPS.of(node)?.biasSlot;
    const bias = floatConstant(graph, biasSlot === undefined ? undefined : node.inputs[biasSlot]);
    const input = node.inputs[0];
    if (
      use.kind !== 'weight' ||
      biased.has(node) ||
      bias === undefined ||
      biasSlot === undefined ||
      bias.shape.length !== 1 ||
      input === undefined ||
      !kept.activations.has(input)
    )
      return;
    biases.push({ node, slot: biasSlot, tensor: bias, input, weight: use });
    biased.add(node);
  };
  for (const [name, weight] of kept.weights) {
    if (nbits.has(name)) {
      throw new QuantError(
        'UNSUPPORTED',
        `weight "${name}" carries the model's own ${weight.params.bits}-bit codes, which 4-bit blocks ` +
          '(MatMulNBits) would replace; quantize this model with per-channel or per-tensor weights',
        { details: { tensor: name } },
      );
    }
    for (const node of graph.consumers(name)) {
      node.inputs.forEach((read, slot) => {
        if (read !== name || stored.has(`${node.name}\u0000${slot}`)) return;
        const tensor = floatConstant(graph, name)!;
        const use: ConstantUse = {
          node,
          name,
          slot,
          tensor,
          axis: weight.params.axis,
          kind: BUILTIN_OPS.of(node)?.weight?.slots.includes(slot) ? 'weight' : 'operand',
        };
        constants.push(use);
        stored.add(`${node.name}\u0000${slot}`);
        if (mode === 'static') addBias(use);
      });
    }
  }

  // Weight-only writes the model's activation pairs back, so its dequantized weights meet them the same way.
  if (mode === 'weight-only') for (const use of constants) addBias(use);

  const points = new Map<string, string[]>();
  const note = (node: string, point: string) => points.set(node, [...(points.get(node) ?? []), point]);
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (kept.activations.has(input) || kept.weights.has(input)) note(node.name, input);
    }
    for (const output of node.outputs) if (kept.activations.has(output)) note(node.name, output);
  }
  const decisions = plan.decisions.map((decision): NodeDecision => {
    const unfusedHere = unfused.some((pair) => pair.activation.name === decision.name);
    const base = unfusedHere ? { ...decision, reason: 'int8 compute with QDQ' } : decision;
    const from = points.get(decision.name);
    if (from === undefined) return base;
    return { ...base, reason: `${base.reason}; Q/DQ on ${from.join(', ')} kept from the model` };
  });

  return {
    ...plan,
    decisions,
    activations,
    sharedParams,
    ...(scaledParams !== undefined && { scaledParams }),
    fusedActivations,
    constants,
    biases,
    kept,
  };
}
