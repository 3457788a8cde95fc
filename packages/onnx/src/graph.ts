import { type Tensor, QuantError } from '@quantkit/core';
import type { StringStringEntryProto, TensorProto } from './onnx-schema.js';
import { constantNodeValue, isConstantNode } from './constant-node.js';
import { executionOrder } from './execution-order.js';
import {
  type GraphIndex,
  createGraphIndex,
  isIndexStale,
  outerScopeNamesOf,
  registerNode,
  unregisterNode,
} from './graph-index.js';
import { type Node, cloneNode, describeNode } from './graph-node.js';
import { removeUnused } from './remove-unused.js';
import { renameOuterScopeUse, replaceAllUses } from './replace-all-uses.js';
import { type IndexUpkeep, replaceNodeInput, replaceNodeOutput, setNodeInput } from './rewire-node.js';
import { UniqueNames } from './unique-names.js';
import type { ValueInfo, ValueType } from './value-info.js';

export interface GraphInit {
  name?: string;
  docString?: string;
  nodes?: Node[];
  inputs?: ValueInfo[];
  outputs?: ValueInfo[];
  valueInfo?: ValueInfo[];
  initializers?: Map<string, Tensor> | Record<string, Tensor>;
  opaqueInitializers?: Map<string, TensorProto>;
  sparseInitializers?: unknown[];
  quantizationAnnotations?: unknown[];
  metadataProps?: StringStringEntryProto[];
}

/**
 * The graph IR: nodes, values and initializers of an ONNX GraphProto, with producer/consumer indexes that stay
 * correct through the editing methods. Indexes are maintained incrementally by the methods; direct edits of the
 * `nodes`, `inputs`, `outputs` or `valueInfo` arrays (push, splice, assignment) are noticed and trigger a rebuild;
 * in-place edits of a node's `inputs`/`outputs` arrays are not, so call {@link Graph.invalidate} after those.
 *
 * @example
 * const graph = model.graph;
 * for (const node of graph.nodes) if (node.opType === 'Conv') console.log(graph.consumers(node.outputs[0]!));
 */
export class Graph {
  name: string;
  docString: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  /** Dense initializers, in file order. */
  initializers: Map<string, Tensor>;
  /** Initializers of data types quantkit does not hold as a Tensor (string, uint64, ...), kept as decoded. */
  opaqueInitializers: Map<string, TensorProto>;
  /** Decoded SparseTensorProto initializers, written back unchanged. */
  sparseInitializers: unknown[];
  /** Decoded TensorAnnotation entries, written back unchanged. */
  quantizationAnnotations: unknown[];
  metadataProps: StringStringEntryProto[];

  #nodes: Node[];
  #index: GraphIndex | undefined;
  #version = 0;
  readonly #names = new UniqueNames();
  readonly #upkeep: IndexUpkeep = {
    ensureIndex: () => this.#ensureIndex(),
    edited: (index) => this.#edited(index),
  };
  #outerScopeCache: { revision: number; names: string[] } | undefined;

  constructor(init: GraphInit = {}) {
    this.name = init.name ?? '';
    this.docString = init.docString ?? '';
    this.#nodes = init.nodes ? [...init.nodes] : [];
    this.inputs = init.inputs ? [...init.inputs] : [];
    this.outputs = init.outputs ? [...init.outputs] : [];
    this.valueInfo = init.valueInfo ? [...init.valueInfo] : [];
    this.initializers =
      init.initializers instanceof Map
        ? new Map(init.initializers)
        : new Map(Object.entries(init.initializers ?? {}));
    this.opaqueInitializers = new Map(init.opaqueInitializers ?? []);
    this.sparseInitializers = [...(init.sparseInitializers ?? [])];
    this.quantizationAnnotations = [...(init.quantizationAnnotations ?? [])];
    this.metadataProps = [...(init.metadataProps ?? [])];
  }

  /** Nodes in execution order (after {@link Graph.topologicalSort}) or file order. */
  get nodes(): Node[] {
    return this.#nodes;
  }

  set nodes(nodes: Node[]) {
    this.#nodes = nodes;
    this.invalidate();
  }

  /** Drops the indexes; call after editing a node's inputs/outputs arrays in place. */
  invalidate(): void {
    this.#index = undefined;
    this.#version++;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Index upkeep

  /** A number that changes whenever this graph or any subgraph in it changes. */
  revision(): number {
    const index = this.#ensureIndex();
    let revision = this.#version;
    for (const list of index.subgraphs.values()) for (const entry of list) revision += entry.graph.revision();
    return revision;
  }

  #ensureIndex(): GraphIndex {
    const current = this.#index;
    if (current !== undefined && !isIndexStale(current, this)) return current;
    if (current !== undefined) this.#version++;
    const index = createGraphIndex(this);
    this.#index = index;
    for (const node of this.#nodes) registerNode(index, node);
    return index;
  }

  /** Records an edit made through a method: bumps the version and re-syncs the array bookkeeping. */
  #edited(index: GraphIndex | undefined): void {
    this.#version++;
    this.#outerScopeCache = undefined;
    if (index === undefined) return;
    if (index.duplicateProducers) {
      this.#index = undefined;
      return;
    }
    index.nodesRef = this.#nodes;
    index.nodesLength = this.#nodes.length;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Queries

  /** The node producing value `name`, or undefined for graph inputs, initializers and unknown names. */
  producer(name: string): Node | undefined {
    return this.#ensureIndex().producers.get(name);
  }

  /**
   * Nodes that use value `name`: as an input, or from inside a subgraph (outer-scope reference). Each node once.
   * Graph outputs are not nodes; check {@link Graph.isOutput}.
   */
  consumers(name: string): Node[] {
    const set = this.#ensureIndex().consumers.get(name);
    return set === undefined ? [] : [...set];
  }

  /** True when `name` is a graph output. */
  isOutput(name: string): boolean {
    return this.outputs.some((output) => output.name === name);
  }

  /** True when `name` is a graph input. */
  isInput(name: string): boolean {
    return this.inputs.some((input) => input.name === name);
  }

  /** True when `name` is an initializer (dense, opaque or sparse is not counted). */
  isInitializer(name: string): boolean {
    return this.initializers.has(name) || this.opaqueInitializers.has(name);
  }

  /**
   * The constant value of `name`: an initializer, or the output of a `Constant` node (attributes value,
   * value_float(s), value_int(s)). Undefined for anything computed at run time or of an unsupported dtype.
   */
  getConstant(name: string): Tensor | undefined {
    const initializer = this.initializers.get(name);
    if (initializer !== undefined) return initializer;
    const node = this.producer(name);
    if (node === undefined || !isConstantNode(node)) return undefined;
    return constantNodeValue(node);
  }

  /** Type of a value when known: from initializers, Constant nodes, inputs, outputs and value_info. */
  valueType(name: string): ValueType | undefined {
    const constant = this.getConstant(name);
    if (constant !== undefined) return { dtype: constant.dtype, shape: [...constant.shape] };
    const info = this.#ensureIndex().declared.get(name);
    if (info === undefined) return undefined;
    return { dtype: info.dtype, shape: info.shape === undefined ? undefined : [...info.shape] };
  }

  /**
   * Names this graph uses but does not define (values of an enclosing graph referenced from a subgraph body).
   */
  outerScopeNames(): string[] {
    const revision = this.revision();
    if (this.#outerScopeCache?.revision === revision) return this.#outerScopeCache.names;
    const names = outerScopeNamesOf(this, this.#ensureIndex());
    this.#outerScopeCache = { revision, names };
    return names;
  }

  /**
   * Keeps uniqueName from ever returning these names: the names of enclosing graphs, which a subgraph may not
   * define again (ONNX forbids shadowing an outer-scope name).
   */
  reserveNames(names: Iterable<string>): void {
    this.#names.reserve(names);
  }

  /** Every value and node name used in this graph and its subgraphs. */
  allNames(): Set<string> {
    const index = this.#ensureIndex();
    const names = new Set(index.names);
    for (const name of this.initializers.keys()) names.add(name);
    for (const name of this.opaqueInitializers.keys()) names.add(name);
    return names;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Edits

  /**
   * Inserts `node` at position `index` (default: the end).
   * @throws QuantError INVALID_ARGUMENT when the node is already in the graph or the index is out of range.
   */
  addNode(node: Node, index = this.#nodes.length): Node {
    const graphIndex = this.#ensureIndex();
    if (!Number.isInteger(index) || index < 0 || index > this.#nodes.length) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `node index ${index} is out of range 0..${this.#nodes.length}`,
      );
    }
    if (graphIndex.uses.has(node)) {
      throw new QuantError('INVALID_ARGUMENT', `${describeNode(node)} is already in graph "${this.name}"`);
    }
    this.#nodes.splice(index, 0, node);
    registerNode(graphIndex, node);
    this.#edited(graphIndex);
    return node;
  }

  /**
   * Inserts `node` right before `before`.
   * @throws QuantError INVALID_ARGUMENT when `before` is not in the graph.
   */
  insertNodeBefore(node: Node, before: Node): Node {
    return this.addNode(node, this.#position(before));
  }

  /** Inserts `node` right after `after`. @throws QuantError INVALID_ARGUMENT when `after` is not in the graph. */
  insertNodeAfter(node: Node, after: Node): Node {
    return this.addNode(node, this.#position(after) + 1);
  }

  #position(node: Node): number {
    const position = this.#nodes.indexOf(node);
    if (position < 0) {
      throw new QuantError('INVALID_ARGUMENT', `${describeNode(node)} is not in graph "${this.name}"`);
    }
    return position;
  }

  /**
   * Removes `node` (its outputs become undefined values; rewire their uses first).
   * @throws QuantError INVALID_ARGUMENT when the node is not in the graph.
   */
  removeNode(node: Node): void {
    const index = this.#ensureIndex();
    const position = this.#position(node);
    this.#nodes.splice(position, 1);
    unregisterNode(index, node);
    this.#edited(index);
  }

  /**
   * Makes `node` read `newName` wherever it read `oldName`, including outer-scope uses inside its subgraphs.
   * @returns how many references changed.
   */
  replaceInput(node: Node, oldName: string, newName: string): number {
    return replaceNodeInput(this.#upkeep, node, oldName, newName);
  }

  /**
   * Sets input `position` of `node` (padding skipped optional inputs with ''), e.g. to add a bias input.
   * @throws QuantError INVALID_ARGUMENT for a negative or non-integer position.
   */
  setInput(node: Node, position: number, name: string): void {
    setNodeInput(this.#upkeep, node, position, name);
  }

  /**
   * Makes `node` write `newName` instead of its output `oldName`.
   * @throws QuantError INVALID_ARGUMENT when the node has no such output.
   */
  replaceOutput(node: Node, oldName: string, newName: string): void {
    replaceNodeOutput(this.#upkeep, node, oldName, newName);
  }

  /**
   * Renames uses of a value defined outside this graph (used on subgraphs by replaceInput). Names this graph
   * defines itself are left alone.
   */
  renameOuterScopeUse(oldName: string, newName: string): number {
    return renameOuterScopeUse(this, oldName, newName);
  }

  /**
   * Points every use of `oldName` (node inputs, subgraph outer-scope uses and, unless `outputs: false`, graph
   * outputs) at `newName`, except in the nodes listed in `except`.
   *
   * @example
   * // after inserting q -> dq behind value x:
   * graph.replaceAllUses('x', 'x_dq', { except: [q] });
   * @returns how many references changed.
   */
  replaceAllUses(
    oldName: string,
    newName: string,
    options: { except?: Node[]; outputs?: boolean } = {},
  ): number {
    return replaceAllUses(this, oldName, newName, options);
  }

  /**
   * Adds or replaces an initializer.
   * @throws QuantError INVALID_ARGUMENT when a node already produces `name`.
   */
  addInitializer(name: string, tensor: Tensor): void {
    const index = this.#ensureIndex();
    const producer = index.producers.get(name);
    if (producer !== undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `cannot add initializer "${name}": ${describeNode(producer)} produces it`,
      );
    }
    this.opaqueInitializers.delete(name);
    this.initializers.set(name, tensor);
    index.names.add(name);
    this.#edited(index);
  }

  /** Removes an initializer; returns whether there was one. Graph inputs of that name are left alone. */
  removeInitializer(name: string): boolean {
    const index = this.#ensureIndex();
    const removed = this.initializers.delete(name) || this.opaqueInitializers.delete(name);
    if (removed) this.#edited(index);
    return removed;
  }

  /**
   * A name not used by any value or node in this graph or its subgraphs, nor returned before: `base`, else
   * `base_1`, `base_2`, ... Deterministic for a given graph and call sequence.
   */
  uniqueName(base: string): string {
    const index = this.#ensureIndex();
    return this.#names.next(
      base,
      (name) => index.names.has(name) || this.initializers.has(name) || this.opaqueInitializers.has(name),
    );
  }

  /**
   * Reorders nodes so every node comes after the producers of its inputs (and of outer-scope names its subgraphs
   * use). Stable: among nodes ready to run, the one earliest in the current order goes first, so an already
   * sorted graph is unchanged.
   * @throws QuantError INVALID_MODEL when the nodes form a cycle, naming a node on it.
   */
  topologicalSort(): void {
    const index = this.#ensureIndex();
    const { order, stuck } = executionOrder(this.#nodes, index);
    if (stuck !== undefined) {
      throw new QuantError(
        'INVALID_MODEL',
        `graph "${this.name}" has a cycle: ${describeNode(stuck)} depends on its own output`,
      );
    }
    const nodes = this.#nodes;
    if (order.every((node, i) => node === nodes[i])) return;
    // Assign element-wise: spreading a huge array into splice() can overflow the call stack.
    order.forEach((node, i) => {
      nodes[i] = node;
    });
    this.#edited(index);
  }

  /** A node on a dependency cycle, or undefined when the graph is acyclic. */
  findCycle(): Node | undefined {
    return executionOrder(this.#nodes, this.#ensureIndex()).stuck;
  }

  /**
   * Removes initializers and Constant nodes nothing uses (graph inputs and outputs count as uses), and with
   * `deadNodes` every node whose outputs are all unused, repeating until nothing changes. Also drops value_info
   * entries of removed values.
   * @returns the number of initializers and nodes removed.
   */
  removeUnused(options: { deadNodes?: boolean } = {}): number {
    return removeUnused(this, options);
  }

  /**
   * A copy that can be edited without touching this graph: nodes, arrays and maps are copied, subgraphs cloned;
   * tensors are shared (treat tensors as immutable).
   */
  clone(): Graph {
    return new Graph({
      name: this.name,
      docString: this.docString,
      nodes: this.#nodes.map(cloneNode),
      inputs: this.inputs.map((info) => ({ ...info, shape: info.shape && [...info.shape] })),
      outputs: this.outputs.map((info) => ({ ...info, shape: info.shape && [...info.shape] })),
      valueInfo: this.valueInfo.map((info) => ({ ...info, shape: info.shape && [...info.shape] })),
      initializers: this.initializers,
      opaqueInitializers: this.opaqueInitializers,
      sparseInitializers: this.sparseInitializers,
      quantizationAnnotations: this.quantizationAnnotations,
      metadataProps: this.metadataProps.map((entry) => ({ ...entry })),
    });
  }
}
