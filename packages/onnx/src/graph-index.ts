import type { Graph } from './graph.js';
import { type Node, subgraphsOf } from './graph-node.js';
import type { ValueInfo } from './value-info.js';

/**
 * The producer/consumer and name indexes a {@link Graph} keeps. The array references and lengths it was built
 * from let the graph notice direct edits of its arrays ({@link isIndexStale}); the graph's editing methods keep
 * the rest up to date with {@link registerNode} and {@link unregisterNode}.
 */
export interface GraphIndex {
  nodesRef: Node[];
  nodesLength: number;
  inputsRef: ValueInfo[];
  inputsLength: number;
  outputsRef: ValueInfo[];
  outputsLength: number;
  valueInfoRef: ValueInfo[];
  valueInfoLength: number;
  producers: Map<string, Node>;
  consumers: Map<string, Set<Node>>;
  /** The names each node was registered as a consumer of (its inputs plus its subgraphs' outer-scope names). */
  uses: Map<Node, string[]>;
  /** Subgraphs of each node with their revision when indexed, to notice edits made inside them. */
  subgraphs: Map<Node, { graph: Graph; revision: number }[]>;
  /** Every value and node name here and in subgraphs, for uniqueName. */
  names: Set<string>;
  /** name -> declared type, from inputs, outputs and value_info (first declaration wins). */
  declared: Map<string, ValueInfo>;
  /** True when two nodes produce one name; incremental upkeep then gives way to rebuilds. */
  duplicateProducers: boolean;
}

/**
 * A new index of `graph`'s declared values, with no nodes registered yet (the graph stores it first, then
 * registers its nodes one by one).
 *
 * @example
 * const index = createGraphIndex(graph);
 * for (const node of graph.nodes) registerNode(index, node);
 */
export function createGraphIndex(graph: Graph): GraphIndex {
  const index: GraphIndex = {
    nodesRef: graph.nodes,
    nodesLength: graph.nodes.length,
    inputsRef: graph.inputs,
    inputsLength: graph.inputs.length,
    outputsRef: graph.outputs,
    outputsLength: graph.outputs.length,
    valueInfoRef: graph.valueInfo,
    valueInfoLength: graph.valueInfo.length,
    producers: new Map(),
    consumers: new Map(),
    uses: new Map(),
    subgraphs: new Map(),
    names: new Set(),
    declared: new Map(),
    duplicateProducers: false,
  };
  for (const list of [graph.inputs, graph.outputs, graph.valueInfo]) {
    for (const info of list) {
      index.names.add(info.name);
      const known = index.declared.get(info.name);
      if (known === undefined || (known.dtype === undefined && info.dtype !== undefined)) {
        index.declared.set(info.name, info);
      }
    }
  }
  return index;
}

/**
 * True when `graph`'s arrays were replaced or resized, or a subgraph changed, since `index` was built or last
 * updated: the index must then be rebuilt.
 *
 * @example
 * if (index === undefined || isIndexStale(index, graph)) index = rebuild();
 */
export function isIndexStale(index: GraphIndex, graph: Graph): boolean {
  if (
    index.nodesRef !== graph.nodes ||
    index.nodesLength !== graph.nodes.length ||
    index.inputsRef !== graph.inputs ||
    index.inputsLength !== graph.inputs.length ||
    index.outputsRef !== graph.outputs ||
    index.outputsLength !== graph.outputs.length ||
    index.valueInfoRef !== graph.valueInfo ||
    index.valueInfoLength !== graph.valueInfo.length
  ) {
    return true;
  }
  for (const list of index.subgraphs.values()) {
    for (const entry of list) if (entry.graph.revision() !== entry.revision) return true;
  }
  return false;
}

/**
 * Adds `node` to the index: as the producer of its outputs and a consumer of its inputs and of the outer-scope
 * names its subgraphs use.
 *
 * @example
 * graph.nodes.push(node); // or splice
 * registerNode(index, node);
 */
export function registerNode(index: GraphIndex, node: Node): void {
  for (const output of node.outputs) {
    if (output === '') continue;
    const existing = index.producers.get(output);
    if (existing === undefined) index.producers.set(output, node);
    else if (existing !== node) index.duplicateProducers = true;
    index.names.add(output);
  }
  if (node.name) index.names.add(node.name);
  const uses = new Set<string>();
  for (const input of node.inputs) {
    if (input === '') continue;
    uses.add(input);
    index.names.add(input);
  }
  const subgraphs = subgraphsOf(node);
  if (subgraphs.length > 0) {
    const entries: { graph: Graph; revision: number }[] = [];
    for (const graph of subgraphs) {
      for (const name of graph.outerScopeNames()) uses.add(name);
      for (const name of graph.allNames()) index.names.add(name);
      entries.push({ graph, revision: graph.revision() });
    }
    index.subgraphs.set(node, entries);
  }
  const useList = [...uses];
  index.uses.set(node, useList);
  for (const name of useList) {
    let set = index.consumers.get(name);
    if (set === undefined) index.consumers.set(name, (set = new Set()));
    set.add(node);
  }
}

/**
 * Takes `node` out of the producer and consumer maps. Its names stay in `names`: a name once used is never
 * handed out again by uniqueName.
 *
 * @example
 * unregisterNode(index, node);
 * node.inputs[0] = 'x_dq';
 * registerNode(index, node);
 */
export function unregisterNode(index: GraphIndex, node: Node): void {
  for (const output of node.outputs) {
    if (index.producers.get(output) === node) index.producers.delete(output);
  }
  for (const name of index.uses.get(node) ?? []) {
    const set = index.consumers.get(name);
    if (set === undefined) continue;
    set.delete(node);
    if (set.size === 0) index.consumers.delete(name);
  }
  index.uses.delete(node);
  index.subgraphs.delete(node);
}

/**
 * Names `graph` uses (by its nodes, directly or from subgraphs, and as outputs) but does not define: values of an
 * enclosing graph referenced from a subgraph body. `index` must be current.
 *
 * @example
 * const outer = outerScopeNamesOf(body, index); // e.g. ['w'] for a Loop body reading the outer weight w
 */
export function outerScopeNamesOf(graph: Graph, index: GraphIndex): string[] {
  const defined = new Set<string>(['']);
  for (const input of graph.inputs) defined.add(input.name);
  for (const name of graph.initializers.keys()) defined.add(name);
  for (const name of graph.opaqueInitializers.keys()) defined.add(name);
  for (const node of graph.nodes) for (const output of node.outputs) defined.add(output);
  const outer = new Set<string>();
  for (const node of graph.nodes) {
    for (const name of index.uses.get(node) ?? []) if (!defined.has(name)) outer.add(name);
  }
  for (const output of graph.outputs) if (!defined.has(output.name)) outer.add(output.name);
  return [...outer];
}
