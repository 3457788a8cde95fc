import { type DType, QuantError, type Tensor, listChoices } from '@quantkit/core';
import {
  type Attribute,
  type Graph,
  type Model,
  type Node,
  cloneModel,
  constantNodeValue,
  createNode,
  inferElementTypes,
  isConstantNode,
  isDefaultDomain,
  onnxFromDtype,
  opsetVersion,
  subgraphsOf,
} from '@quantkit/onnx';
import { float32ToBfloat16Bits } from './float32-to-bfloat16-bits.js';

import { toFloat16Bits } from './to-float16-bits.js';

/**
 * Operators {@link convertToFloat16} keeps in float32 unless told otherwise, and why:
 * - `Range`, `NonMaxSuppression`: the ONNX spec gives them no float16 type.
 * - `RoiAlign`: box coordinates are pixel positions; float16 loses whole pixels above 2048.
 * - `TopK`: float16 rounding merges near-equal scores, which changes the returned indices.
 * - `CumSum`: a running sum in float16 loses the small terms after a few thousand elements.
 * - `RandomNormal`, `RandomUniform`, `RandomNormalLike`, `RandomUniformLike`, `Bernoulli`, `Multinomial`: their
 *   output type is set by a `dtype` attribute, not by their inputs.
 * - `QuantizeLinear`, `DequantizeLinear`, `DynamicQuantizeLinear`: below opset 19 their scales must be float32, and
 *   calibrated scales are float32 quantities anyway.
 * - `Pow`: onnxruntime's CPU provider has no float16 Pow; the Cast it inserts for one breaks its LayerNorm fusion
 *   (a decomposed LayerNorm, Pow -> ReduceMean -> Sqrt, as PyTorch exports it, then fails to load), and squares
 *   of activations overflow float16 early anyway.
 * Operators outside the default ONNX domain (ai.onnx.ml, com.microsoft, ...) stay float32 too, except the ones in
 * {@link FLOAT16_CUSTOM_OPS}. Nodes with subgraphs (If, Loop, Scan) keep float32 inputs and outputs; their bodies
 * are converted by the same rules.
 */
export const DEFAULT_FLOAT16_BLOCK_LIST: readonly string[] = [
  'Range',
  'NonMaxSuppression',
  'RoiAlign',
  'TopK',
  'CumSum',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'Pow',
];

/**
 * Custom-domain operators (`domain:opType`) that take float16 for all their float inputs: com.microsoft
 * MatMulNBits (its activations, scales and bias share one type T1), so 4-bit weights combine with float16 for
 * everything else (transformers.js "q4f16").
 */
export const FLOAT16_CUSTOM_OPS: readonly string[] = ['com.microsoft:MatMulNBits'];

/**
 * Inputs that stay float32 in converted nodes because the spec allows only float32 there: Resize's `roi` and
 * `scales` (scales is tensor(float) only; roi is kept with it, it is tiny) and Upsample's `scales`.
 */
const FLOAT32_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [1, 2], Upsample: [1] };

/** Outputs that keep their type in converted nodes: LayerNormalization's Mean and InvStdDev use stash_type. */
const FIXED_OUTPUTS: Readonly<Record<string, readonly number[]>> = { LayerNormalization: [1, 2] };

/** Ops whose outputs are shape arithmetic when all their inputs are (see `shapeDerivedValues`). */
const SHAPE_SOURCES = new Set(['Shape', 'Size']);

export interface ConvertToFloat16Options {
  /**
   * 'float16' (default) converts operators: their float32 inputs, outputs and weights become float16.
   * 'bfloat16' converts only weight storage: eligible float32 initializers are stored as bfloat16 and a Cast to
   * float32 is put in front of their consumers, so every operator still runs in float32 (onnxruntime's CPU
   * provider has bfloat16 kernels for few operators; this is the form that runs there, halving the file size).
   */
  dtype?: 'float16' | 'bfloat16';
  /**
   * Keep graph inputs and outputs float32 (default true): a Cast to float16 follows each float input and a Cast to
   * float32 precedes each float output, so callers feed and read float32 as before. false makes them float16.
   */
  keepIoTypes?: boolean;
  /** Operator types kept in float32; default {@link DEFAULT_FLOAT16_BLOCK_LIST}. Replaces the default list. */
  blockList?: readonly string[];
  /** Node names kept in float32 (e.g. a layer that overflows float16). */
  nodeBlockList?: readonly string[];
}

const DTYPES = ['float16', 'bfloat16'] as const;

type Precision = 'float32' | 'float16';

function checkStrings(value: unknown, flag: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw new QuantError('INVALID_ARGUMENT', `convertToFloat16 option ${flag} must be an array of strings`);
  }
  return value as string[];
}

/** The float32 tensor of a float32 constant value (initializer or Constant node), or undefined. */
function constantTensor(graph: Graph, name: string): Tensor<'float32'> | undefined {
  const initializer = graph.initializers.get(name);
  if (initializer !== undefined) {
    return initializer.dtype === 'float32' && !graph.isInput(name)
      ? (initializer as Tensor<'float32'>)
      : undefined;
  }
  const producer = graph.producer(name);
  if (producer === undefined || !isConstantNode(producer)) return undefined;
  const value = constantNodeValue(producer);
  return value?.dtype === 'float32' ? (value as Tensor<'float32'>) : undefined;
}

/**
 * Values computed only from tensor shapes (Shape/Size outputs) and constants: size arithmetic that exporters
 * often do in float (Cast to float, Mul by a scale, Floor, Cast back). It stays float32, where integers up to 2^24
 * are exact; float16 is exact only up to 2048.
 */
function shapeDerivedValues(graph: Graph): Set<string> {
  const derived = new Set<string>();
  for (const node of graph.nodes) {
    if (!isDefaultDomain(node.domain) || subgraphsOf(node).length > 0) continue;
    let fromShape = SHAPE_SOURCES.has(node.opType);
    if (!fromShape) {
      const inputs = node.inputs.filter((name) => name !== '');
      fromShape =
        inputs.some((name) => derived.has(name)) &&
        inputs.every((name) => derived.has(name) || graph.getConstant(name) !== undefined);
    }
    if (fromShape) for (const output of node.outputs) if (output !== '') derived.add(output);
  }
  return derived;
}

interface Plan {
  graph: Graph;
  types: Map<string, DType>;
  converted: Set<Node>;
}

interface Lists {
  readonly blockList: ReadonlySet<string>;
  readonly nodeBlockList: ReadonlySet<string>;
}

function planConversion(
  graph: Graph,
  { blockList, nodeBlockList }: Lists,
  outer: ReadonlyMap<string, DType>,
): Plan {
  const types = inferElementTypes(graph, outer);
  const shapeDerived = shapeDerivedValues(graph);
  const customOps = new Set(FLOAT16_CUSTOM_OPS);
  const converted = new Set<Node>();
  for (const node of graph.nodes) {
    if (isConstantNode(node)) continue;
    const supported = isDefaultDomain(node.domain) || customOps.has(`${node.domain}:${node.opType}`);
    if (!supported || blockList.has(node.opType) || nodeBlockList.has(node.name)) continue;
    if (subgraphsOf(node).length > 0) continue;
    // Reading a value of unknown type, the node might end up with float16 and float32 inputs of one type variable.
    if (node.inputs.some((name) => name !== '' && !types.has(name))) continue;
    const floatShapeValue = (name: string): boolean =>
      shapeDerived.has(name) && types.get(name) === 'float32';
    if (node.inputs.some(floatShapeValue) || node.outputs.some(floatShapeValue)) continue;
    converted.add(node);
  }
  return { graph, types, converted };
}

/** The precision node input `position` (reading a float32 value) needs after conversion. */
function wantedAt(plan: Plan, node: Node, position: number): Precision {
  if (!plan.converted.has(node)) return 'float32';
  return FLOAT32_INPUTS[node.opType]?.includes(position) && isDefaultDomain(node.domain)
    ? 'float32'
    : 'float16';
}

/** Names a graph defines itself: its inputs, initializers and node outputs (everything else comes from outside). */
function definedNames(graph: Graph): Set<string> {
  const defined = new Set<string>(['']);
  for (const input of graph.inputs) defined.add(input.name);
  for (const name of graph.initializers.keys()) defined.add(name);
  for (const name of graph.opaqueInitializers.keys()) defined.add(name);
  for (const node of graph.nodes) for (const output of node.outputs) defined.add(output);
  return defined;
}

/** A graph's conversion plan, its subgraphs' plans, and what they need from the graphs around them. */
interface Scope {
  readonly plan: Plan;
  readonly defined: ReadonlySet<string>;
  /** Each subgraph body, by the node that holds it. */
  readonly bodies: ReadonlyMap<Node, readonly Scope[]>;
  /**
   * The precisions this graph and its bodies want of float32 values defined in enclosing graphs: what lets an
   * enclosing graph store a weight that only converted body nodes read in float16.
   */
  readonly outerWants: ReadonlyMap<string, ReadonlySet<Precision>>;
}

function addWant(wants: Map<string, Set<Precision>>, name: string, want: Precision): void {
  let set = wants.get(name);
  if (set === undefined) wants.set(name, (set = new Set()));
  set.add(want);
}

/** Plans a graph and, recursively, the bodies of its If, Loop and Scan nodes (each with the types around it). */
function planScope(graph: Graph, lists: Lists, outer: ReadonlyMap<string, DType>): Scope {
  graph.topologicalSort();
  const plan = planConversion(graph, lists, outer);
  const defined = definedNames(graph);
  const bodies = new Map<Node, Scope[]>();
  const outerWants = new Map<string, Set<Precision>>();
  for (const node of graph.nodes) {
    const scopes = subgraphsOf(node).map((body) => planScope(body, lists, plan.types));
    if (scopes.length === 0) continue;
    bodies.set(node, scopes);
    for (const scope of scopes) {
      for (const [name, wants] of scope.outerWants) {
        if (!defined.has(name)) for (const want of wants) addWant(outerWants, name, want);
      }
    }
  }
  for (const node of graph.nodes) {
    node.inputs.forEach((name, position) => {
      if (!defined.has(name) && plan.types.get(name) === 'float32')
        addWant(outerWants, name, wantedAt(plan, node, position));
    });
  }
  return { plan, defined, bodies, outerWants };
}

/** The precisions the bodies of `node` want of `name`, an outer-scope value they read. */
function bodyWants(scope: Scope, node: Node, name: string): Precision[] {
  const wants = new Set<Precision>();
  for (const body of scope.bodies.get(node) ?? [])
    for (const want of body.outerWants.get(name) ?? []) wants.add(want);
  return wants.size === 0 ? ['float32'] : [...wants];
}

/** Gives the name of `name` (a value of an enclosing graph) in the precision a body wants, adding a Cast there if needed. */
type OuterResolver = (name: string, want: Precision) => string;

interface Use {
  node: Node;
  /** Input position, or -1 for an outer-scope use inside a subgraph of the node. */
  position: number;
}

/** Every use of `name` by a node: input positions, and outer-scope uses by subgraph bodies. */
function usesOf(graph: Graph, name: string): Use[] {
  const uses: Use[] = [];
  for (const node of graph.consumers(name)) {
    let direct = false;
    node.inputs.forEach((input, position) => {
      if (input === name) {
        uses.push({ node, position });
        direct = true;
      }
    });
    if (!direct || subgraphsOf(node).some((sub) => sub.outerScopeNames().includes(name))) {
      uses.push({ node, position: -1 });
    }
  }
  return uses;
}

function castNode(graph: Graph, input: string, output: string, to: DType): Node {
  return createNode({
    opType: 'Cast',
    name: graph.uniqueName(`${output}_Cast`),
    inputs: [input],
    outputs: [output],
    attributes: { to: onnxFromDtype(to) },
  });
}

function float16Tensor(tensor: Tensor<'float32'>): Tensor<'float16'> {
  // Saturate: a weight beyond 65504 would otherwise become infinity and turn whole outputs into NaN.
  return { dtype: 'float16', shape: [...tensor.shape], data: toFloat16Bits(tensor.data, { saturate: true }) };
}

/** Rewrites the attributes that carry an output type in a node that now computes in float16. */
function convertNodeAttributes(node: Node): void {
  const float32 = onnxFromDtype('float32');
  const float16 = onnxFromDtype('float16');
  if (node.opType === 'Cast' || node.opType === 'EyeLike') {
    const key = node.opType === 'Cast' ? 'to' : 'dtype';
    const attribute = node.attributes.get(key);
    if (attribute?.type === 'int' && attribute.value === float32)
      node.attributes.set(key, { type: 'int', value: float16 });
  } else if (node.opType === 'ConstantOfShape') {
    const attribute = node.attributes.get('value');
    if (attribute === undefined) {
      // The default fill value is a float32 zero.
      node.attributes.set('value', {
        type: 'tensor',
        value: { dtype: 'float16', shape: [1], data: new Uint16Array(1) },
      });
    } else if (attribute.type === 'tensor' && attribute.value.dtype === 'float32') {
      node.attributes.set('value', {
        type: 'tensor',
        value: float16Tensor(attribute.value as Tensor<'float32'>),
      });
    }
  }
}

/** Replaces a Constant node's value with `tensor` (value_float/value_floats become a `value` tensor). */
function setConstantValue(node: Node, tensor: Tensor): void {
  const attributes = new Map<string, Attribute>([['value', { type: 'tensor', value: tensor }]]);
  node.attributes = attributes;
}

/**
 * Converts one graph's operators, then its subgraph bodies (which keep float32 inputs and outputs, so the If, Loop
 * and Scan nodes holding them do not change). `resolveOuter` gives enclosing graphs' values in a wanted precision;
 * `reserved` holds every name of the enclosing graphs, which a body may not define again.
 */
function convertScope(
  scope: Scope,
  keepIoTypes: boolean,
  resolveOuter: OuterResolver | undefined,
  reserved: ReadonlySet<string>,
): void {
  const { plan, defined } = scope;
  const { graph, types, converted } = plan;
  graph.reserveNames(reserved);
  const isFloat32 = (name: string): boolean => name !== '' && types.get(name) === 'float32';
  const isConstant = (name: string): boolean => constantTensor(graph, name) !== undefined;
  const originalNodes = [...graph.nodes];

  // Precision of every non-constant float32 value after conversion.
  const precision = new Map<string, Precision>();
  for (const input of graph.inputs) {
    // An input with an initializer of its name (a default value) keeps float32, like its initializer.
    if (isFloat32(input.name)) {
      precision.set(input.name, keepIoTypes || graph.initializers.has(input.name) ? 'float32' : 'float16');
    }
  }
  for (const node of graph.nodes) {
    if (isConstantNode(node)) continue;
    const fixed = FIXED_OUTPUTS[node.opType] ?? [];
    node.outputs.forEach((output, i) => {
      if (!isFloat32(output)) return;
      precision.set(output, converted.has(node) && !fixed.includes(i) ? 'float16' : 'float32');
    });
  }
  for (const node of converted) convertNodeAttributes(node);

  // One Cast per value and target precision, shared by all consumers.
  const casts = new Map<string, string>();
  const castOf = (name: string, to: Precision): string => {
    const key = `${to}:${name}`;
    let output = casts.get(key);
    if (output === undefined) {
      output = graph.uniqueName(`${name}_${to === 'float16' ? 'fp16' : 'fp32'}`);
      const cast = castNode(graph, name, output, to);
      const producer = graph.producer(name);
      if (producer === undefined) graph.addNode(cast, 0);
      else graph.insertNodeAfter(cast, producer);
      casts.set(key, output);
    }
    return output;
  };

  // Graph inputs and outputs.
  graph.inputs = graph.inputs.map((input) =>
    precision.get(input.name) === 'float16' ? { ...input, dtype: 'float16' } : input,
  );
  const outputs: typeof graph.outputs = [];
  for (const output of graph.outputs) {
    if (precision.get(output.name) !== 'float16' || graph.isInput(output.name)) {
      outputs.push(output);
      continue;
    }
    if (!keepIoTypes) {
      outputs.push({ ...output, dtype: 'float16' });
      continue;
    }
    // The producer writes a new float16 value; a Cast writes the output under its old name, float32. Internal
    // consumers move to the float16 value, and ones that want float32 reuse the output itself.
    const producer = graph.producer(output.name);
    outputs.push(output);
    if (producer === undefined) continue;
    const internal = graph.uniqueName(`${output.name}_fp16`);
    graph.replaceOutput(producer, output.name, internal);
    graph.replaceAllUses(output.name, internal, { outputs: false });
    graph.insertNodeAfter(castNode(graph, internal, output.name, 'float32'), producer);
    precision.set(internal, 'float16');
    precision.set(output.name, 'float32');
    types.set(internal, 'float32');
    casts.set(`float32:${internal}`, output.name);
  }
  graph.outputs = outputs;

  // Constants: converted in place when every use wants float16, duplicated when uses disagree.
  const constantNames = new Set<string>();
  for (const name of graph.initializers.keys()) if (isConstant(name)) constantNames.add(name);
  for (const node of graph.nodes)
    if (isConstantNode(node) && node.outputs[0] && isConstant(node.outputs[0]))
      constantNames.add(node.outputs[0]);
  const constantRenames = new Map<string, string>();
  const halfConstants = new Set<string>();
  for (const name of constantNames) {
    const uses = usesOf(graph, name);
    const wants = uses.flatMap((use) =>
      use.position < 0 ? bodyWants(scope, use.node, name) : [wantedAt(plan, use.node, use.position)],
    );
    if (graph.isOutput(name)) wants.push('float32');
    if (!wants.includes('float16')) continue;
    const tensor = float16Tensor(constantTensor(graph, name)!);
    const producer = graph.producer(name);
    if (!wants.includes('float32')) {
      if (producer === undefined) graph.addInitializer(name, tensor);
      else setConstantValue(producer, tensor);
      halfConstants.add(name);
      continue;
    }
    const copy = graph.uniqueName(`${name}_fp16`);
    if (producer === undefined) graph.addInitializer(copy, tensor);
    else
      graph.insertNodeAfter(
        createNode({
          opType: 'Constant',
          name: graph.uniqueName(`${copy}_Constant`),
          outputs: [copy],
          attributes: { value: tensor },
        }),
        producer,
      );
    constantRenames.set(name, copy);
  }

  /** `name`, defined here or further out, as a value of precision `want`. */
  const resolve = (name: string, want: Precision): string => {
    if (!defined.has(name)) return resolveOuter?.(name, want) ?? name;
    if (constantNames.has(name)) {
      const have: Precision = halfConstants.has(name) ? 'float16' : 'float32';
      if (have === want) return name;
      const copy = constantRenames.get(name);
      if (want === 'float16' && copy !== undefined) return copy;
      return castOf(name, want);
    }
    return (precision.get(name) ?? 'float32') === want ? name : castOf(name, want);
  };

  // Node inputs: point each at a value of the precision it needs (only original nodes; inserted Casts are right).
  for (const node of originalNodes) {
    if (isConstantNode(node)) continue;
    node.inputs.forEach((name, position) => {
      if (!isFloat32(name)) return;
      const want = wantedAt(plan, node, position);
      if (!defined.has(name)) {
        const resolved = resolve(name, want);
        if (resolved !== name) graph.setInput(node, position, resolved);
        return;
      }
      if (constantNames.has(name)) {
        const copy = constantRenames.get(name);
        if (want === 'float16' && copy !== undefined) graph.setInput(node, position, copy);
        return;
      }
      const have = precision.get(name) ?? 'float32';
      if (have !== want) graph.setInput(node, position, castOf(name, want));
    });
  }

  // Declared types of values that became float16.
  graph.valueInfo = graph.valueInfo.map((info) =>
    info.dtype === 'float32' && precision.get(info.name) === 'float16' ? { ...info, dtype: 'float16' } : info,
  );

  // Bodies last: the values they read from here now have their final precision. A name a body gets back is
  // reserved in it too, so the body never defines it again.
  for (const [, bodies] of scope.bodies) {
    for (const body of bodies) {
      const bodyGraph = body.plan.graph;
      const outer: OuterResolver = (name, want) => {
        const resolved = resolve(name, want);
        bodyGraph.reserveNames([resolved]);
        return resolved;
      };
      convertScope(body, true, outer, new Set([...reserved, ...graph.allNames()]));
    }
  }
}

/** Sorts a graph and every body in it (Casts were added at the end). */
function sortScopes(graph: Graph): void {
  graph.topologicalSort();
  for (const node of graph.nodes) for (const body of subgraphsOf(node)) sortScopes(body);
}

/**
 * Stores eligible float32 initializers as bfloat16 behind a Cast to float32, in this graph and in every body; an
 * initializer bodies read is eligible when every node reading it, here or in a body, could compute in float16.
 */
function convertWeightStorage(scope: Scope, reserved: ReadonlySet<string>): void {
  const { plan } = scope;
  const { graph } = plan;
  graph.reserveNames(reserved);
  const inner = new Set([...reserved, ...graph.allNames()]);
  for (const bodies of scope.bodies.values()) for (const body of bodies) convertWeightStorage(body, inner);
  for (const [name, tensor] of [...graph.initializers]) {
    if (tensor.dtype !== 'float32' || graph.isInput(name) || graph.isOutput(name)) continue;
    const uses = usesOf(graph, name);
    const wants = uses.flatMap((use) =>
      use.position < 0 ? bodyWants(scope, use.node, name) : [wantedAt(plan, use.node, use.position)],
    );
    if (wants.length === 0 || wants.some((want) => want !== 'float16')) continue;
    const stored = graph.uniqueName(`${name}_bf16`);
    graph.removeInitializer(name);
    graph.addInitializer(stored, {
      dtype: 'bfloat16',
      shape: [...tensor.shape],
      data: float32ToBfloat16Bits(tensor.data as Float32Array),
    });
    graph.addNode(castNode(graph, stored, name, 'float32'), 0);
  }
}

/**
 * Converts a float32 model to float16 (operators and weights) or to bfloat16 weight storage, returning a new model
 * (the input is not modified; unchanged tensors are shared).
 *
 * float16: every node not blocked computes in float16. Its float32 inputs, outputs, value_info types and the
 * weights only it reads become float16 (weights beyond +-65504 saturate); a weight read by both float16 and
 * float32 nodes is stored twice. Casts are inserted where a float32 value meets a float16 consumer and the other way
 * round, one per value and direction. Kept float32: nodes of {@link ConvertToFloat16Options.blockList} (default
 * {@link DEFAULT_FLOAT16_BLOCK_LIST}) and `nodeBlockList`; custom-domain nodes other than
 * {@link FLOAT16_CUSTOM_OPS}; If/Loop/Scan nodes themselves (their bodies convert, keeping float32 inputs and
 * outputs, and a main-graph weight that only converted body nodes read is stored in float16); nodes
 * reading values of unknown type; shape arithmetic done in float (values computed only from Shape/Size outputs and
 * constants, which float16 would round above 2048); Resize's roi/scales and Upsample's scales inputs (float32 by
 * spec). Cast(to float), EyeLike(dtype float) and ConstantOfShape (value) in converted regions produce float16.
 *
 * bfloat16: only weight storage changes (see {@link ConvertToFloat16Options.dtype}); `keepIoTypes` has no effect.
 *
 * @example
 * const half = convertToFloat16(model); // float32 in and out, float16 inside
 * const storage = convertToFloat16(model, { dtype: 'bfloat16' });
 * const custom = convertToFloat16(model, { blockList: [...DEFAULT_FLOAT16_BLOCK_LIST, 'Pow'], nodeBlockList: ['head'] });
 * @throws QuantError INVALID_ARGUMENT for an unknown dtype or malformed lists; UNSUPPORTED for bfloat16 below
 *   opset 13 (Cast from bfloat16 needs opset 13); INVALID_MODEL when the graph has a cycle.
 */
export function convertToFloat16(model: Model, options: ConvertToFloat16Options = {}): Model {
  const dtype = options.dtype ?? 'float16';
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `convertToFloat16 dtype "${String(dtype)}" is not supported; choose ${listChoices(DTYPES)}`,
    );
  }
  const blockList = new Set(checkStrings(options.blockList, 'blockList') ?? DEFAULT_FLOAT16_BLOCK_LIST);
  const nodeBlockList = new Set(checkStrings(options.nodeBlockList, 'nodeBlockList') ?? []);
  if (dtype === 'bfloat16') {
    const opset = opsetVersion(model) ?? 1;
    if (opset < 13) {
      throw new QuantError(
        'UNSUPPORTED',
        `bfloat16 weight storage needs opset 13 or newer (Cast from bfloat16), but the model imports opset ${opset}; ` +
          're-export the model with opset >= 13 or use dtype "float16"',
      );
    }
  }
  const result = cloneModel(model);
  const scope = planScope(result.graph, { blockList, nodeBlockList }, new Map());
  if (dtype === 'bfloat16') convertWeightStorage(scope, new Set());
  else convertScope(scope, options.keepIoTypes ?? true, undefined, new Set());
  sortScopes(result.graph);
  return result;
}
