// Static mode's planner: which nodes run on integer codes between Q/DQ pairs, the activations to calibrate, the
// constants and biases to store, and the values that must stay float for the ops that read them.
import {
  BUILTIN_OPS,
  floatAttribute,
  type Graph,
  intAttribute,
  isDefaultDomain,
  type Node,
} from '@quantkit/onnx';
import {
  type BiasUse,
  type ConstantUse,
  type Decide,
  decisions,
  floatConstant,
  type PlanContext,
  type QuantPlan,
  type WeightUse,
} from './plan-context.js';
import { storeRecurrentWeights } from './plan-weights.js';

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
 * An op whose quantized output takes a scale of its own, which a clamp after it can set: compute ops, and the
 * elementwise ops onnxruntime runs as QLinearAdd/QLinearMul (hard-swish's Add(x, 3) before Clip(0, 6)). Not ops
 * that pass their input's scale through (MaxPool, Reshape), whose scale belongs to their input.
 */
function writesOwnScale(node: Node): boolean {
  const role = BUILTIN_OPS.of(node);
  return role?.staticRole === 'compute' || role?.ownOutputScale === true;
}

/** Static mode: compute ops seed the quantized region; passthrough ops join when they touch it. */
export function planStatic(context: PlanContext, decide: Decide, weightUse: WeightUse): QuantPlan {
  const { graph, recipe, overrides } = context;
  const reasons = new Map<Node, string>();
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
  const seeds: Node[] = [];
  const candidates: Node[] = [];
  for (const node of graph.nodes) {
    const blocker = decide(
      node,
      (n) =>
        staticBlocker(context, n) ??
        (BUILTIN_OPS.of(n)?.staticRole === 'passthrough' ? onlyGuarded(n) : undefined),
    );
    if (blocker !== undefined) reasons.set(node, blocker);
    else if (BUILTIN_OPS.of(node)!.staticRole === 'compute') seeds.push(node);
    else candidates.push(node);
  }
  // Grow the region from the compute ops; where that leaves a float compute op between Q/DQ pairs, keep its
  // quantized readers float and grow again, until none is left.
  let quantized = growRegion(graph, seeds, candidates);
  for (let sandwiches = sandwichedFloatCompute(graph, quantized); sandwiches.size > 0; ) {
    for (const [reader, floatNode] of sandwiches) {
      reasons.set(
        reader,
        `it reads the output of ${floatNode.opType} "${floatNode.name}", which stays float: a Q/DQ pair around ` +
          'that node would make onnxruntime quantize it when loading, with weight scales of its own',
      );
    }
    const kept = (node: Node) => !sandwiches.has(node);
    seeds.splice(0, seeds.length, ...seeds.filter(kept));
    candidates.splice(0, candidates.length, ...candidates.filter(kept));
    quantized = growRegion(graph, seeds, candidates);
    sandwiches = sandwichedFloatCompute(graph, quantized);
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
    if (producer === undefined || !quantized.has(producer) || !writesOwnScale(producer)) continue;
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
  // TensorRT's per-consumer pairs give each reader its own Q/DQ, which a folded scale would bypass.
  const scaledParams = recipe.qdqPerConsumer
    ? new Map<string, { source: string; factor: number }>()
    : rescaledOutputs(graph, quantized, seen, fusedInto);
  const rescaleNodes = new Set([...scaledParams.keys()].map((output) => graph.producer(output)));
  const floatReaders = new Map([...guarded].filter(([name]) => seen.has(name)));
  const stored = storeRecurrentWeights(context, decide, weightUse, constants, reasons);

  return {
    decisions: decisions(graph, new Set([...quantized, ...stored]), reasons, recipe.mode),
    activations,
    sharedParams,
    ...(scaledParams.size > 0 && { scaledParams }),
    // A folded Mul is not written, nor its constant.
    constants: constants.filter((use) => !rescaleNodes.has(use.node)),
    biases,
    fusedActivations,
    dynamicNodes: [],
    nbitsNodes: [],
    floatReaders,
  };
}

/**
 * Quantized Mul nodes by a positive one-value constant whose other input is a quantized activation (hard-swish's
 * `* (1/6)`, a Div rewritten as Mul): their output is the input's codes at a scale times the constant, so they are
 * folded into the scale instead of running as QLinearMul (4.6 ms of 23 on a text detector). A Mul a Relu was fused
 * into keeps its Q, which does the clamping.
 */
function rescaledOutputs(
  graph: Graph,
  quantized: ReadonlySet<Node>,
  activations: ReadonlySet<string>,
  fusedInto: ReadonlyMap<Node, Node>,
): Map<string, { source: string; factor: number }> {
  const scaled = new Map<string, { source: string; factor: number }>();
  for (const node of graph.nodes) {
    if (
      node.opType !== 'Mul' ||
      !isDefaultDomain(node.domain) ||
      !quantized.has(node) ||
      fusedInto.has(node)
    ) {
      continue;
    }
    const [a, b] = node.inputs;
    const output = node.outputs[0];
    if (a === undefined || b === undefined || output === undefined || !activations.has(output)) continue;
    const constantA = floatConstant(graph, a);
    const constantB = floatConstant(graph, b);
    const [source, constant] = constantB !== undefined ? [a, constantB] : [b, constantA];
    if (constant === undefined || constant.data.length !== 1 || !activations.has(source)) continue;
    const factor = constant.data[0]!;
    if (!(Number.isFinite(factor) && factor > 0)) continue;
    // A graph output keeps its own range: a user reads it.
    if (graph.isOutput(output)) continue;
    scaled.set(output, { source, factor });
  }
  return scaled;
}

/** Compute ops seed the quantized region; passthrough candidates join while they touch it. */
function growRegion(graph: Graph, seeds: readonly Node[], candidates: readonly Node[]): Set<Node> {
  const quantized = new Set<Node>(seeds);
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
  return quantized;
}

/** Ops with a constant weight that onnxruntime quantizes itself when a float one sits between DQ and Q. */
const LOAD_QUANTIZED_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/**
 * Float compute nodes that would sit between a DequantizeLinear and a QuantizeLinear, as quantized reader -> the
 * float node. onnxruntime (1.20 and later) quantizes such a node when it loads the model, weight and bias with
 * scales of its own, so the node is not float at all; below opset 11 the Round it writes for the bias does not
 * exist and the model fails to load. A MatMul counts with a bias Add after it, which onnxruntime fuses into Gemm
 * first. The fix keeps the readers float, so the value after the node is never quantized.
 */
function sandwichedFloatCompute(graph: Graph, quantized: ReadonlySet<Node>): Map<Node, Node> {
  const quantizedValue = (name: string) =>
    (graph.producer(name) !== undefined && quantized.has(graph.producer(name)!)) ||
    graph.consumers(name).some((reader) => quantized.has(reader));
  const sandwiches = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (
      quantized.has(node) ||
      !isDefaultDomain(node.domain) ||
      floatConstant(graph, node.inputs[1]) === undefined
    )
      continue;
    let output = node.outputs[0];
    if (node.opType === 'MatMul') {
      const readers = output === undefined ? [] : graph.consumers(output);
      const add = readers.length === 1 && readers[0]!.opType === 'Add' ? readers[0]! : undefined;
      const bias = add?.inputs.find((input) => input !== output);
      if (add === undefined || quantized.has(add) || floatConstant(graph, bias) === undefined) continue;
      output = add.outputs[0];
    } else if (!LOAD_QUANTIZED_OPS.has(node.opType)) {
      continue;
    }
    const input = node.inputs[0];
    if (output === undefined || input === undefined || input === '' || !quantizedValue(input)) continue;
    for (const reader of readersThroughClamps(graph, output, quantized)) sandwiches.set(reader, node);
  }
  return sandwiches;
}

/**
 * The quantized readers of a value, looking through float Relu and Clip nodes after it: onnxruntime removes a clamp
 * before a QuantizeLinear whose range it matches (its Relu/Clip quantization fusions) before it looks for float
 * Conv/Gemm nodes between Q/DQ, so Conv -> Relu -> Q counts as Conv -> Q.
 */
function readersThroughClamps(graph: Graph, value: string, quantized: ReadonlySet<Node>): Node[] {
  const found: Node[] = [];
  const pending = [value];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    for (const reader of graph.consumers(name)) {
      if (quantized.has(reader)) found.push(reader);
      else if ((reader.opType === 'Relu' || reader.opType === 'Clip') && isDefaultDomain(reader.domain)) {
        const next = reader.outputs[0];
        if (next !== undefined && next !== '') pending.push(next);
      }
    }
  }
  return found;
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
