import type { DType } from '@quantkit/core';
import {
  type Graph,
  type Node,
  inferElementTypes,
  isConstantNode,
  isDefaultDomain,
  subgraphsOf,
} from '@quantkit/onnx';
import { FLOAT16_CUSTOM_OPS, FLOAT32_INPUTS, SHAPE_SOURCES } from './float16-op-rules.js';

/** The precision a float32 value has, or a reader wants of it, after conversion. */
export type Precision = 'float32' | 'float16';

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

/** Which nodes of one graph compute in float16, and the element types of its values. */
export interface Float16Plan {
  graph: Graph;
  types: Map<string, DType>;
  converted: Set<Node>;
}

/** The op types and node names kept in float32. */
export interface BlockLists {
  readonly blockList: ReadonlySet<string>;
  readonly nodeBlockList: ReadonlySet<string>;
}

/** Plans one graph: the nodes that compute in float16 (not blocked, of known input types, no float shape math). */
function planConversion(
  graph: Graph,
  { blockList, nodeBlockList }: BlockLists,
  outer: ReadonlyMap<string, DType>,
): Float16Plan {
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

/**
 * The precision node input `position` (reading a float32 value) needs after conversion.
 *
 * @example
 * wantedAt(plan, resize, 2); // 'float32': Resize's scales stay float32 by spec
 */
export function wantedAt(plan: Float16Plan, node: Node, position: number): Precision {
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
export interface Float16Scope {
  readonly plan: Float16Plan;
  readonly defined: ReadonlySet<string>;
  /** Each subgraph body, by the node that holds it. */
  readonly bodies: ReadonlyMap<Node, readonly Float16Scope[]>;
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

/**
 * Plans a graph and, recursively, the bodies of its If, Loop and Scan nodes (each with the types around it).
 * Sorts each graph topologically first.
 *
 * @example
 * const scope = planFloat16Scope(model.graph, { blockList: new Set(DEFAULT_FLOAT16_BLOCK_LIST), nodeBlockList: new Set() }, new Map());
 * @throws QuantError INVALID_MODEL when a graph has a cycle.
 */
export function planFloat16Scope(
  graph: Graph,
  lists: BlockLists,
  outer: ReadonlyMap<string, DType>,
): Float16Scope {
  graph.topologicalSort();
  const plan = planConversion(graph, lists, outer);
  const defined = definedNames(graph);
  const bodies = new Map<Node, Float16Scope[]>();
  const outerWants = new Map<string, Set<Precision>>();
  for (const node of graph.nodes) {
    const scopes = subgraphsOf(node).map((body) => planFloat16Scope(body, lists, plan.types));
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
function bodyWants(scope: Float16Scope, node: Node, name: string): Precision[] {
  const wants = new Set<Precision>();
  for (const body of scope.bodies.get(node) ?? [])
    for (const want of body.outerWants.get(name) ?? []) wants.add(want);
  return wants.size === 0 ? ['float32'] : [...wants];
}

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

/**
 * The precisions the readers of `name` (a float32 value of the scope's graph) want of it: each node input reading
 * it, and the bodies reading it from outer scope.
 *
 * @example
 * const wants = precisionsWanted(scope, 'weight');
 * if (!wants.includes('float32')) storeAsFloat16('weight');
 */
export function precisionsWanted(scope: Float16Scope, name: string): Precision[] {
  const { plan } = scope;
  return usesOf(plan.graph, name).flatMap((use) =>
    use.position < 0 ? bodyWants(scope, use.node, name) : [wantedAt(plan, use.node, use.position)],
  );
}
