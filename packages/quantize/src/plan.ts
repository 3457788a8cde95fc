import type { DType, Tensor } from '@quantkit/core';
import type { Graph, Node } from '@quantkit/onnx';
import { inferElementTypes } from '@quantkit/onnx';
import { firstMatch, globToRegExp } from './glob.js';
import type { Recipe } from './options.js';
import { createOverrideLookup } from './overrides.js';
import { type ConstantUse, type PlanContext, type QuantPlan, weightAxis } from './plan-context.js';
import { planStatic } from './plan-static.js';
import { planDynamic, planFloat, planWeightOnly } from './plan-weights.js';

export type { BiasUse, ConstantUse, NodeDecision, QuantPlan } from './plan-context.js';
export { weightAxis } from './plan-context.js';

function minimumOpsetBlocker(context: PlanContext): string | undefined {
  // Below opset 10 there is no ONNX QuantizeLinear; the com.microsoft forms cover that, so nothing blocks here.
  return context.opset < 7 ? `opset ${context.opset} is older than any onnxruntime supports` : undefined;
}

/**
 * Decides, for every node, whether it is quantized and how; nothing in the graph changes here. For a subgraph,
 * `outerTypes` gives the element types of the enclosing graphs' values it reads.
 * The rules keep Q/DQ where they pay: compute ops (Conv, Gemm, MatMul) always, and the ops in between only
 * when they touch a quantized region, so a float region is never cut into pieces by Q/DQ pairs.
 */
export function planQuantization(
  graph: Graph,
  recipe: Recipe,
  opset: number,
  keepFirstLast = false,
  outerTypes?: ReadonlyMap<string, DType>,
): QuantPlan {
  const plan = planFor(graph, recipe, opset, outerTypes);
  return keepFirstLast ? keepFirstAndLastInt8(plan) : plan;
}

/**
 * Binary (and similar) networks lose most at their first and last weight layers, which see raw inputs and produce
 * the outputs; those two stay int8 with the linear quantizer.
 */
function keepFirstAndLastInt8(plan: QuantPlan): QuantPlan {
  const weights = plan.constants.filter(
    (use) => use.kind === 'weight' && use.override?.quantizer === undefined,
  );
  const keep = new Set([weights[0], weights[weights.length - 1]].filter((use) => use !== undefined));
  if (keep.size === 0) return plan;
  const override = { quantizer: 'linear', bits: 8, granularity: 'channel' as const, symmetric: true };
  const kept = new Set([...keep].map((use) => use.node.name));
  const replaced = new Map<ConstantUse, ConstantUse>();
  const constants = plan.constants.map((use) => {
    if (!keep.has(use)) return use;
    const updated = {
      ...use,
      override: { ...use.override, ...override },
      axis: weightAxis(use.node, use.tensor, 'channel'),
    };
    replaced.set(use, updated);
    return updated;
  });
  return {
    ...plan,
    constants,
    // Biases point at their weight's use: follow the replacement so they still become int32.
    biases: plan.biases.map((bias) => ({ ...bias, weight: replaced.get(bias.weight) ?? bias.weight })),
    decisions: plan.decisions.map((decision) =>
      kept.has(decision.name)
        ? { ...decision, reason: 'weights kept in int8: first or last layer of a low-bit network' }
        : decision,
    ),
  };
}

function planFor(
  graph: Graph,
  recipe: Recipe,
  opset: number,
  outerTypes?: ReadonlyMap<string, DType>,
): QuantPlan {
  const overrides = createOverrideLookup(recipe.overrides);
  const context: PlanContext = {
    graph,
    recipe,
    opset,
    dtypes: inferElementTypes(graph, outerTypes),
    overrides,
  };
  const excludePatterns = recipe.exclude.map(globToRegExp);
  const excluded = (node: Node) => firstMatch(excludePatterns, recipe.exclude, node.name, node.opType);
  const opsetBlocker = minimumOpsetBlocker(context);
  const keptFloat = new Map((recipe.keepFloat ?? []).map((entry) => [entry.node, entry.reason]));

  const decide = (node: Node, eligible: (node: Node) => string | undefined): string | undefined => {
    const pattern = excluded(node);
    if (pattern !== undefined) return `excluded by "${pattern}"`;
    const kept = keptFloat.get(node.name);
    if (kept !== undefined) return kept;
    const override = overrides.node(node.name, node.opType);
    if (override?.float) return `kept float by override "${override.pattern}"`;
    return opsetBlocker ?? eligible(node);
  };
  const weightUse = (node: Node, slot: number, tensor: Tensor<'float32'>): ConstantUse => {
    const override = overrides.node(node.name, node.opType);
    const axis = weightAxis(node, tensor, override?.granularity ?? recipe.granularity);
    return { node, name: node.inputs[slot]!, slot, tensor, axis, kind: 'weight', override };
  };

  if (recipe.mode === 'float') return planFloat(context, decide);
  if (recipe.mode === 'weight-only') return planWeightOnly(context, decide, weightUse);
  if (recipe.mode === 'dynamic') return planDynamic(context, decide, weightUse);
  return planStatic(context, decide, weightUse);
}
