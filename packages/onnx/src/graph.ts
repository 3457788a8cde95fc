import { type DType, type Tensor, QuantError } from '@quantkit/core';
import type { AttributeProto, StringStringEntryProto, TensorProto, TypeProto } from './onnx-schema.js';
import { isDefaultDomain } from './domain.js';
import { numberToInt64 } from './int64.js';

/**
 * A node attribute. `raw` keeps attributes quantkit does not model (sparse tensors, type protos, references to
 * function attributes, tensors of unsupported dtypes, non-UTF-8 strings) as the decoded AttributeProto, written
 * back unchanged.
 */
export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  | { type: 'raw'; value: AttributeProto };

export type AttributeType = Attribute['type'];

/** One operator application. Edit nodes that are in a graph through the Graph methods so its indexes stay right. */
export interface Node {
  name: string;
  opType: string;
  /** Operator set domain; '' is the default ONNX domain. */
  domain: string;
  /** Value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
  docString?: string | undefined;
  /** NodeProto.overload (calls of overloaded model-local functions). */
  overload?: string | undefined;
  metadataProps?: StringStringEntryProto[] | undefined;
}

/** A dimension: a size, a symbolic name (e.g. "batch"), or undefined when unknown. */
export type Dim = number | string | undefined;

/**
 * Name and (when it is a tensor) type of a graph input, output or intermediate value.
 * `dtype` is undefined for non-tensor values and unknown element types; `shape` undefined for unknown rank.
 * `raw` is the decoded TypeProto; it is written back unchanged while it agrees with dtype and shape (or when dtype
 * is undefined), so sequence/map/optional types and dimension denotations survive a round trip.
 */
export interface ValueInfo {
  name: string;
  dtype?: DType | undefined;
  shape?: Dim[] | undefined;
  docString?: string | undefined;
  metadataProps?: StringStringEntryProto[] | undefined;
  raw?: TypeProto | undefined;
}

/** Known type of a value. */
export interface ValueType {
  dtype: DType | undefined;
  shape: Dim[] | undefined;
}

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

/** The subgraphs held by a node's attributes (If branches, Loop/Scan bodies). */
export function subgraphsOf(node: Node): Graph[] {
  const graphs: Graph[] = [];
  for (const attribute of node.attributes.values()) {
    if (attribute.type === 'graph') graphs.push(attribute.value);
    else if (attribute.type === 'graphs') graphs.push(...attribute.value);
  }
  return graphs;
}

/** A readable label for a node in error messages. */
export function describeNode(node: Node): string {
  const name = node.name ? ` "${node.name}"` : '';
  return `${node.opType} node${name} (outputs ${node.outputs.map((o) => `"${o}"`).join(', ') || 'none'})`;
}


interface Index {
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
  #index: Index | undefined;
  #version = 0;
  #reserved = new Set<string>();
  #nameCounters = new Map<string, number>();
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

  #isStale(index: Index): boolean {
    if (
      index.nodesRef !== this.#nodes ||
      index.nodesLength !== this.#nodes.length ||
      index.inputsRef !== this.inputs ||
      index.inputsLength !== this.inputs.length ||
      index.outputsRef !== this.outputs ||
      index.outputsLength !== this.outputs.length ||
      index.valueInfoRef !== this.valueInfo ||
      index.valueInfoLength !== this.valueInfo.length
    ) {
      return true;
    }
    for (const list of index.subgraphs.values()) {
      for (const entry of list) if (entry.graph.revision() !== entry.revision) return true;
    }
    return false;
  }

  #ensureIndex(): Index {
    const current = this.#index;
    if (current !== undefined && !this.#isStale(current)) return current;
    if (current !== undefined) this.#version++;
    const index: Index = {
      nodesRef: this.#nodes,
      nodesLength: this.#nodes.length,
      inputsRef: this.inputs,
      inputsLength: this.inputs.length,
      outputsRef: this.outputs,
      outputsLength: this.outputs.length,
      valueInfoRef: this.valueInfo,
      valueInfoLength: this.valueInfo.length,
      producers: new Map(),
      consumers: new Map(),
      uses: new Map(),
      subgraphs: new Map(),
      names: new Set(),
      declared: new Map(),
      duplicateProducers: false,
    };
    for (const list of [this.inputs, this.outputs, this.valueInfo]) {
      for (const info of list) {
        index.names.add(info.name);
        const known = index.declared.get(info.name);
        if (known === undefined || (known.dtype === undefined && info.dtype !== undefined)) {
          index.declared.set(info.name, info);
        }
      }
    }
    this.#index = index;
    for (const node of this.#nodes) this.#register(index, node);
    return index;
  }

  #register(index: Index, node: Node): void {
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

  #unregister(index: Index, node: Node): void {
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

  /** Records an edit made through a method: bumps the version and re-syncs the array bookkeeping. */
  #edited(index: Index | undefined): void {
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
    const defined = new Set<string>(['']);
    for (const input of this.inputs) defined.add(input.name);
    for (const name of this.initializers.keys()) defined.add(name);
    for (const name of this.opaqueInitializers.keys()) defined.add(name);
    for (const node of this.#nodes) for (const output of node.outputs) defined.add(output);
    const outer = new Set<string>();
    const index = this.#ensureIndex();
    for (const node of this.#nodes) {
      for (const name of index.uses.get(node) ?? []) if (!defined.has(name)) outer.add(name);
    }
    for (const output of this.outputs) if (!defined.has(output.name)) outer.add(output.name);
    const names = [...outer];
    this.#outerScopeCache = { revision, names };
    return names;
  }

  /**
   * Keeps uniqueName from ever returning these names: the names of enclosing graphs, which a subgraph may not
   * define again (ONNX forbids shadowing an outer-scope name).
   */
  reserveNames(names: Iterable<string>): void {
    for (const name of names) this.#reserved.add(name);
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
    this.#register(graphIndex, node);
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
    this.#unregister(index, node);
    this.#edited(index);
  }

  /**
   * Makes `node` read `newName` wherever it read `oldName`, including outer-scope uses inside its subgraphs.
   * @returns how many references changed.
   */
  replaceInput(node: Node, oldName: string, newName: string): number {
    const index = this.#ensureIndex();
    let changed = 0;
    for (let i = 0; i < node.inputs.length; i++) {
      if (node.inputs[i] === oldName) {
        node.inputs[i] = newName;
        changed++;
      }
    }
    for (const graph of subgraphsOf(node)) changed += graph.renameOuterScopeUse(oldName, newName);
    if (changed > 0 && index.uses.has(node)) {
      this.#unregister(index, node);
      this.#register(index, node);
      this.#edited(index);
    }
    return changed;
  }

  /**
   * Sets input `position` of `node` (padding skipped optional inputs with ''), e.g. to add a bias input.
   * @throws QuantError INVALID_ARGUMENT for a negative or non-integer position.
   */
  setInput(node: Node, position: number, name: string): void {
    if (!Number.isInteger(position) || position < 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `input position ${position} of ${describeNode(node)} is invalid`,
      );
    }
    const index = this.#ensureIndex();
    const registered = index.uses.has(node);
    if (registered) this.#unregister(index, node);
    while (node.inputs.length < position) node.inputs.push('');
    node.inputs[position] = name;
    if (registered) this.#register(index, node);
    this.#edited(index);
  }

  /**
   * Makes `node` write `newName` instead of its output `oldName`.
   * @throws QuantError INVALID_ARGUMENT when the node has no such output.
   */
  replaceOutput(node: Node, oldName: string, newName: string): void {
    const index = this.#ensureIndex();
    const position = node.outputs.indexOf(oldName);
    if (position < 0) {
      throw new QuantError('INVALID_ARGUMENT', `${describeNode(node)} has no output "${oldName}"`);
    }
    const registered = index.uses.has(node);
    if (registered) this.#unregister(index, node);
    node.outputs[position] = newName;
    if (registered) this.#register(index, node);
    this.#edited(index);
  }

  /**
   * Renames uses of a value defined outside this graph (used on subgraphs by replaceInput). Names this graph
   * defines itself are left alone.
   */
  renameOuterScopeUse(oldName: string, newName: string): number {
    if (!this.outerScopeNames().includes(oldName)) return 0;
    let changed = 0;
    for (const node of [...this.consumers(oldName)]) changed += this.replaceInput(node, oldName, newName);
    return changed + this.#renameOutputs(oldName, newName);
  }

  #renameOutputs(oldName: string, newName: string): number {
    let changed = 0;
    for (const output of this.outputs) {
      if (output.name === oldName) {
        output.name = newName;
        changed++;
      }
    }
    // Renaming in place is invisible to the staleness check, and the declared-type map is keyed by name.
    if (changed > 0) this.invalidate();
    return changed;
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
    const except = new Set(options.except ?? []);
    let changed = 0;
    for (const node of this.consumers(oldName)) {
      if (!except.has(node)) changed += this.replaceInput(node, oldName, newName);
    }
    if (options.outputs ?? true) changed += this.#renameOutputs(oldName, newName);
    return changed;
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
    const taken = (name: string): boolean =>
      index.names.has(name) ||
      this.#reserved.has(name) ||
      this.initializers.has(name) ||
      this.opaqueInitializers.has(name);
    let counter = this.#nameCounters.get(base) ?? 0;
    let candidate = counter === 0 ? base : `${base}_${counter}`;
    while (taken(candidate)) {
      counter++;
      candidate = `${base}_${counter}`;
    }
    this.#nameCounters.set(base, counter);
    this.#reserved.add(candidate);
    return candidate;
  }

  /**
   * Reorders nodes so every node comes after the producers of its inputs (and of outer-scope names its subgraphs
   * use). Stable: among nodes ready to run, the one earliest in the current order goes first, so an already
   * sorted graph is unchanged.
   * @throws QuantError INVALID_MODEL when the nodes form a cycle, naming a node on it.
   */
  topologicalSort(): void {
    const index = this.#ensureIndex();
    const { order, stuck } = this.#executionOrder(index);
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
    return this.#executionOrder(this.#ensureIndex()).stuck;
  }

  #executionOrder(index: Index): { order: Node[]; stuck: Node | undefined } {
    const nodes = this.#nodes;
    const position = new Map<Node, number>();
    for (const [i, node] of nodes.entries()) position.set(node, i);
    const pending = new Int32Array(nodes.length);
    const dependents: number[][] = nodes.map(() => []);
    nodes.forEach((node, i) => {
      const producers = new Set<number>();
      for (const name of index.uses.get(node) ?? []) {
        const producer = index.producers.get(name);
        if (producer !== undefined) producers.add(position.get(producer)!);
      }
      pending[i] = producers.size;
      for (const p of producers) dependents[p]!.push(i);
    });
    const heap = new MinHeap();
    pending.forEach((count, i) => {
      if (count === 0) heap.push(i);
    });
    const order: Node[] = [];
    while (heap.size > 0) {
      const i = heap.pop();
      order.push(nodes[i]!);
      for (const d of dependents[i]!) if (--pending[d]! === 0) heap.push(d);
    }
    if (order.length === nodes.length) return { order, stuck: undefined };
    // Some node still waits: walk back through waiting producers until one repeats; that one is on a cycle
    // (the first waiting node may merely sit downstream of it).
    let current = nodes.find((_, i) => pending[i]! > 0)!;
    const seen = new Set<Node>();
    while (!seen.has(current)) {
      seen.add(current);
      for (const name of index.uses.get(current) ?? []) {
        const producer = index.producers.get(name);
        if (producer !== undefined && pending[position.get(producer)!]! > 0) {
          current = producer;
          break;
        }
      }
    }
    return { order, stuck: current };
  }

  /**
   * Removes initializers and Constant nodes nothing uses (graph inputs and outputs count as uses), and with
   * `deadNodes` every node whose outputs are all unused, repeating until nothing changes. Also drops value_info
   * entries of removed values.
   * @returns the number of initializers and nodes removed.
   */
  removeUnused(options: { deadNodes?: boolean } = {}): number {
    let removed = 0;
    const removedNames: string[] = [];
    const isUsed = (name: string): boolean =>
      name !== '' && (this.consumers(name).length > 0 || this.isOutput(name));
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = this.#nodes.length - 1; i >= 0; i--) {
        const node = this.#nodes[i]!;
        const candidate = options.deadNodes || (isConstantNode(node) && isDefaultDomain(node.domain));
        if (!candidate || node.outputs.some(isUsed)) continue;
        this.removeNode(node);
        removedNames.push(...node.outputs);
        removed++;
        changed = true;
      }
    }
    for (const name of [...this.initializers.keys(), ...this.opaqueInitializers.keys()]) {
      if (isUsed(name) || this.isInput(name)) continue;
      this.removeInitializer(name);
      removedNames.push(name);
      removed++;
    }
    if (removedNames.length > 0) {
      const gone = new Set(removedNames);
      this.valueInfo = this.valueInfo.filter((info) => !gone.has(info.name));
    }
    return removed;
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

/** A deep copy of a node (tensors shared, subgraphs cloned). */
export function cloneNode(node: Node): Node {
  const attributes = new Map<string, Attribute>();
  for (const [name, attribute] of node.attributes) {
    switch (attribute.type) {
      case 'graph':
        attributes.set(name, { type: 'graph', value: attribute.value.clone() });
        break;
      case 'graphs':
        attributes.set(name, { type: 'graphs', value: attribute.value.map((g) => g.clone()) });
        break;
      case 'floats':
      case 'ints':
      case 'strings':
        attributes.set(name, { type: attribute.type, value: [...attribute.value] } as Attribute);
        break;
      case 'tensors':
        attributes.set(name, { type: 'tensors', value: [...attribute.value] });
        break;
      default:
        attributes.set(name, { ...attribute });
    }
  }
  return { ...node, inputs: [...node.inputs], outputs: [...node.outputs], attributes };
}

/** True for an ONNX `Constant` node. */
export function isConstantNode(node: Node): boolean {
  return node.opType === 'Constant' && isDefaultDomain(node.domain);
}

/** The tensor a Constant node produces, or undefined for sparse/string values. */
export function constantNodeValue(node: Node): Tensor | undefined {
  for (const [name, attribute] of node.attributes) {
    switch (name) {
      case 'value':
        return attribute.type === 'tensor' ? attribute.value : undefined;
      case 'value_float':
        return attribute.type === 'float'
          ? { dtype: 'float32', shape: [], data: Float32Array.of(attribute.value) }
          : undefined;
      case 'value_floats':
        return attribute.type === 'floats'
          ? { dtype: 'float32', shape: [attribute.value.length], data: Float32Array.from(attribute.value) }
          : undefined;
      case 'value_int':
        return attribute.type === 'int'
          ? { dtype: 'int64', shape: [], data: BigInt64Array.of(numberToInt64(attribute.value)) }
          : undefined;
      case 'value_ints':
        return attribute.type === 'ints'
          ? {
              dtype: 'int64',
              shape: [attribute.value.length],
              data: BigInt64Array.from(attribute.value, numberToInt64),
            }
          : undefined;
      default:
    }
  }
  return undefined;
}

/** A binary min-heap of integers (node positions) for the stable topological sort. */
class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
