import { type DType, type Granularity, QuantError, type Tensor } from '@quantkit/core';
import {
  BUILTIN_OPS,
  type Graph,
  type Node,
  floatAttribute,
  inferElementTypes,
  intAttribute,
  subgraphsOf,
  weightChannelAxis,
} from '@quantkit/onnx';
import { firstMatch, globToRegExp } from './glob.js';
import { floatBlocker } from './float-precision.js';
import type { Recipe } from './options.js';
import { type NodeOverride, type OverrideLookup, createOverrideLookup } from './overrides.js';

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
}

interface PlanContext {
  readonly graph: Graph;
  readonly recipe: Recipe;
  readonly opset: number;
  readonly dtypes: Map<string, DType>;
  readonly overrides: OverrideLookup;
}

function floatConstant(graph: Graph, name: string | undefined): Tensor<'float32'> | undefined {
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

function dataSlots(node: Node, dataInputs: readonly number[] | 'all'): number[] {
  const slots = dataInputs === 'all' ? node.inputs.map((_, i) => i) : dataInputs;
  return slots.filter((slot) => node.inputs[slot] !== undefined && node.inputs[slot] !== '');
}

/** Why a node cannot be quantized in static mode, or undefined when it can. */
function staticBlocker(context: PlanContext, node: Node): string | undefined {
  const role = BUILTIN_OPS.of(node);
  if (role?.staticRole === undefined) return `${node.opType} has no quantized form; it stays float`;
  const { quantizedOps, target } = context.recipe;
  if (quantizedOps.length > 0 && !quantizedOps.includes(node.opType)) {
    return `${node.opType} does not run quantized on target "${target}"`;
  }
  const { graph, dtypes } = context;
  for (const slot of dataSlots(node, role.dataInputs)) {
    const input = node.inputs[slot]!;
    const dtype = dtypes.get(input);
    if (dtype === undefined && role.staticRole === 'passthrough')
      return `element type of input "${input}" is unknown`;
    if (dtype !== undefined && dtype !== 'float32') return `input "${input}" is ${dtype}, not float32`;
  }
  const output = node.outputs[0];
  if (output === undefined || output === '') return 'it has no output';
  if (role.staticRole === 'passthrough' && dtypes.get(output) !== 'float32') {
    return `element type of output "${output}" is not known to be float32`;
  }
  if (node.outputs.slice(1).some((extra) => extra !== '' && graph.consumers(extra).length > 0)) {
    return 'its second output is used';
  }
  for (const slot of dataSlots(node, role.dataInputs)) {
    const constant = floatConstant(graph, node.inputs[slot]);
    // An attention mask of -Infinity has no quantized form; the node stays float rather than failing the run.
    if (constant !== undefined && !constant.data.every(Number.isFinite)) {
      return `constant "${node.inputs[slot]}" holds non-finite values`;
    }
  }
  if ((node.opType === 'Conv' || node.opType === 'ConvTranspose') && !floatConstant(graph, node.inputs[1])) {
    return 'its weight is computed at run time';
  }
  if (
    node.opType === 'Gemm' &&
    intAttribute(node, 'transA', 0) !== 0 &&
    !floatConstant(graph, node.inputs[1])
  ) {
    return 'transposed activation inputs are kept float';
  }
  return undefined;
}

function minimumOpsetBlocker(context: PlanContext): string | undefined {
  // Below opset 10 there is no ONNX QuantizeLinear; the com.microsoft forms cover that, so nothing blocks here.
  return context.opset < 7 ? `opset ${context.opset} is older than any onnxruntime supports` : undefined;
}

/** Relu, or Clip(min = 0): with an asymmetric range starting at 0, saturation clamps exactly like them. */
function isClampAtZero(graph: Graph, node: Node): boolean {
  if (node.opType === 'Relu') return true;
  if (node.opType !== 'Clip') return false;
  const minAttribute = floatAttribute(node, 'min');
  if (minAttribute !== undefined) return minAttribute === 0;
  const min = floatConstant(graph, node.inputs[1]);
  return min !== undefined && min.data.length === 1 && min.data[0] === 0;
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
  const reasons = new Map<Node, string>();
  const excluded = (node: Node) => firstMatch(excludePatterns, recipe.exclude, node.name, node.opType);
  const opsetBlocker = minimumOpsetBlocker(context);

  const decide = (node: Node, eligible: (node: Node) => string | undefined): string | undefined => {
    const pattern = excluded(node);
    if (pattern !== undefined) return `excluded by "${pattern}"`;
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

  // Static: compute ops seed the quantized region; passthrough ops join when they touch it.
  const guarded = positiveOnlyReaders(graph);
  // A passthrough op whose every reader needs its values above 0 (Clip(min = 1e-10) before a Log) stays float:
  // its Q/DQ would serve nobody, and the clamp must keep its floor.
  const onlyGuarded = (node: Node) => {
    const output = node.outputs[0];
    if (output === undefined || output === '' || graph.isOutput(output)) return undefined;
    const readers = graph.consumers(output);
    const safe = guarded.get(output);
    if (readers.length === 0 || safe === undefined || !readers.every((reader) => safe.includes(reader)))
      return undefined;
    const reader = readers[0]!;
    return `its output feeds ${reader.opType} "${reader.name}", which needs values above 0 that 8-bit codes would round to 0`;
  };
  const quantized = new Set<Node>();
  const candidates: Node[] = [];
  for (const node of graph.nodes) {
    const blocker = decide(
      node,
      (n) =>
        staticBlocker(context, n) ??
        (BUILTIN_OPS.of(n)?.staticRole === 'passthrough' ? onlyGuarded(n) : undefined),
    );
    if (blocker !== undefined) reasons.set(node, blocker);
    else if (BUILTIN_OPS.of(node)!.staticRole === 'compute') quantized.add(node);
    else candidates.push(node);
  }
  const touchesRegion = (node: Node) =>
    node.inputs.some((input) => {
      const producer = input === '' ? undefined : graph.producer(input);
      return producer !== undefined && quantized.has(producer);
    }) || node.outputs.some((output) => graph.consumers(output).some((consumer) => quantized.has(consumer)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const node of candidates) {
      if (!quantized.has(node) && touchesRegion(node)) {
        quantized.add(node);
        grew = true;
      }
    }
  }
  for (const node of candidates) {
    if (!quantized.has(node))
      reasons.set(node, 'no quantized neighbour: Q/DQ here would cost more than it saves');
  }

  const fusedActivations: { activation: Node; producer: Node }[] = [];
  const fusedInto = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (!quantized.has(node) || !isClampAtZero(graph, node)) continue;
    // Saturation clamps at 0 only when the zero point is the lowest code: an asymmetric range.
    if (overrides.tensor(node.outputs[0]!)?.symmetric ?? recipe.activationSymmetric) continue;
    const input = node.inputs[0]!;
    const producer = graph.producer(input);
    if (
      producer === undefined ||
      !quantized.has(producer) ||
      BUILTIN_OPS.of(producer)?.staticRole !== 'compute'
    )
      continue;
    if (graph.consumers(input).length !== 1 || graph.outputs.some((output) => output.name === input))
      continue;
    fusedActivations.push({ activation: node, producer });
    fusedInto.set(producer, node);
    reasons.set(
      node,
      `fused into ${producer.opType} "${producer.name}": its quantized output saturates at 0`,
    );
  }
  const fused = new Set(fusedActivations.map((pair) => pair.activation));

  const activations: string[] = [];
  const seen = new Set<string>();
  const addActivation = (name: string) => {
    if (!seen.has(name)) {
      seen.add(name);
      activations.push(name);
    }
  };
  const constants: ConstantUse[] = [];
  const biases: BiasUse[] = [];
  const sharedParams = new Map<string, string>();

  for (const node of graph.nodes) {
    if (!quantized.has(node) || fused.has(node)) continue;
    const role = BUILTIN_OPS.of(node)!;
    for (const slot of dataSlots(node, role.dataInputs)) {
      const input = node.inputs[slot]!;
      const constant = floatConstant(graph, input);
      if (constant === undefined) {
        // An input a fused Relu produced keeps its name: the producer before the Relu writes it after fusion.
        addActivation(input);
      } else if (role.staticRole === 'compute' && role.weight?.slots.includes(slot)) {
        constants.push(weightUse(node, slot, constant));
      } else {
        constants.push({ node, name: input, slot, tensor: constant, axis: undefined, kind: 'operand' });
      }
    }
    const output = fusedInto.get(node)?.outputs[0] ?? node.outputs[0]!;
    // A compute op read only by ops that need positive values keeps a float output (MatMul -> Log).
    if (onlyGuarded(fusedInto.get(node) ?? node) === undefined) addActivation(output);
    if (role.sharesParams?.(node)) sharedParams.set(output, node.inputs[0]!);
    const bias = plannedBias(graph, node, constants);
    if (bias !== undefined) biases.push(bias);
  }
  // A shared-params output whose source is not quantized (a graph input feeding Reshape) keeps its own range.
  for (const [output, source] of sharedParams) if (!seen.has(source)) sharedParams.delete(output);
  const floatReaders = new Map([...guarded].filter(([name]) => seen.has(name)));
  const stored = storeRecurrentWeights(context, decide, weightUse, constants, reasons);

  return {
    decisions: decisions(graph, new Set([...quantized, ...stored]), reasons, 'static'),
    activations,
    sharedParams,
    constants,
    biases,
    fusedActivations,
    dynamicNodes: [],
    nbitsNodes: [],
    floatReaders,
  };
}

/** Value -> the readers that need it strictly positive or non-zero (Log, Sqrt, Reciprocal, a divisor, Pow < 0). */
function positiveOnlyReaders(graph: Graph): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    const slots =
      BUILTIN_OPS.of(node)?.positiveInputs?.(node, (slot) => floatConstant(graph, node.inputs[slot])?.data) ??
      [];
    for (const slot of slots) {
      const input = node.inputs[slot];
      if (input === undefined || input === '') continue;
      readers.set(input, [...(readers.get(input) ?? []), node]);
    }
  }
  return readers;
}

function plannedBias(graph: Graph, node: Node, constants: readonly ConstantUse[]): BiasUse | undefined {
  const biasSlot = BUILTIN_OPS.of(node)?.biasSlot;
  if (biasSlot === undefined) return undefined;
  const bias = floatConstant(graph, node.inputs[biasSlot]);
  const weight = constants.find((use) => use.node === node && use.kind === 'weight');
  if (bias === undefined || weight === undefined || bias.shape.length !== 1) return undefined;
  // Gemm's alpha and beta stay on the node: int32 codes at input scale x weight scale still dequantize to the bias.
  const channels = weight.axis === undefined ? bias.shape[0] : weight.tensor.shape[weight.axis];
  if (bias.shape[0] !== channels) return undefined;
  return { node, slot: biasSlot, tensor: bias, input: node.inputs[0]!, weight };
}

function decisions(
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
  }[mode];
  return graph.nodes.map((node) => {
    const reason = reasons.get(node);
    return { name: node.name, opType: node.opType, quantized: quantized.has(node), reason: reason ?? what };
  });
}

type Decide = (node: Node, eligible: (node: Node) => string | undefined) => string | undefined;
type WeightUse = (node: Node, slot: number, tensor: Tensor<'float32'>) => ConstantUse;

/** Mode 'float': nothing gets integer codes; each node converts to the float precision or says why not. */
function planFloat(context: PlanContext, decide: Decide): QuantPlan {
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
function storeRecurrentWeights(
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
    constants.push(...uses);
    stored.add(node);
    reasons.set(
      node,
      `weights stored in int8; ${node.opType} itself runs in float (stock onnxruntime has no integer ${node.opType})`,
    );
  }
  return stored;
}

function planWeightOnly(context: PlanContext, decide: Decide, weightUse: WeightUse): QuantPlan {
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
    if (context.recipe.granularity !== 'block') {
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
    const bits = context.recipe.bits;
    const override = { bits, granularity: 'channel' as const, symmetric: true };
    for (const use of uses)
      constants.push({ ...use, override, axis: weightAxis(node, use.tensor, 'channel') });
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

function planDynamic(context: PlanContext, decide: Decide, weightUse: WeightUse): QuantPlan {
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
