import {
  type KernelContext,
  type KernelNode,
  type KernelPlugin,
  type KernelSubgraph,
  type KernelValueInfo,
  QuantError,
  type Tensor,
} from '@quantkit/core';
import {
  type Graph,
  type Node,
  constantNodeValue,
  describeNode,
  isConstantNode,
  normalizeDomain,
  subgraphsOf,
} from '@quantkit/onnx';
import { kernelAttributes } from './attributes.js';
import type { KernelIndex } from './kernel-choice.js';

/** One node of a planned graph: its kernel, the kernel's prepared state, and where its inputs come from. */
interface Step {
  readonly node: Node;
  readonly label: string;
  readonly kernel: KernelPlugin;
  readonly backend: string;
  readonly state: unknown;
  /** Why higher-ranked kernels were passed over when planning. */
  readonly declined: readonly string[];
  /**
   * The next kernel for inputs this one declines at run time (QuantError UNSUPPORTED: a per-row zero point the
   * fast path lacks), prepared on first need; undefined when there is none.
   */
  readonly fallback: () => Promise<Fallback | undefined>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Values no later step (nor a graph output) reads: dropped after this step so their memory can be reclaimed. */
  readonly frees: readonly string[];
  /** Values of the enclosing graphs its subgraphs read. */
  readonly outerReads: readonly string[];
}

interface Fallback {
  readonly kernel: KernelPlugin;
  readonly backend: string;
  readonly state: unknown;
  readonly fallback: () => Promise<Fallback | undefined>;
}

/** What the planner needs to know of the model around a graph. */
export interface PlanScope {
  readonly kernels: KernelIndex;
  readonly opsets: ReadonlyMap<string, number>;
  /** Values defined by enclosing graphs, by name, with what is known of them. */
  readonly outer: ReadonlyMap<string, KernelValueInfo>;
}

/** Which kernel and backend runs a node, for listings (`quantkit bench` shows where each op ran). */
export interface KernelAssignment {
  readonly node: string;
  readonly opType: string;
  readonly kernel: string;
  readonly backend: string;
  /** Why higher-ranked kernels were passed over when planning. */
  readonly declined: readonly string[];
  /** Set when the last run's inputs were declined by the kernel and a lower-ranked one ran them, with the reason. */
  readonly fellBack?: { readonly kernel: string; readonly reason: string };
}

const subgraphHandles = new WeakMap<KernelSubgraph, PlannedGraph>();

/**
 * A graph planned once: nodes in execution order, a kernel chosen and prepared for each, constants computed, and
 * each intermediate value's last reader known so it is released as soon as nothing needs it. Runs many times.
 */
export class PlannedGraph {
  private constructor(
    readonly graph: Graph,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    readonly constants: ReadonlyMap<string, Tensor>,
    private readonly steps: readonly Step[],
    readonly subgraphs: readonly PlannedGraph[],
  ) {}

  /**
   * Plans a graph.
   * @throws QuantError INVALID_MODEL for a cycle or a value nothing defines; UNSUPPORTED for a node no kernel runs.
   */
  static async plan(graph: Graph, scope: PlanScope): Promise<PlannedGraph> {
    const constants = new Map<string, Tensor>();
    for (const [name, tensor] of graph.initializers) constants.set(name, tensor);
    const inputNames = graph.inputs.map((input) => input.name).filter((name) => !constants.has(name));
    const known = new Map<string, KernelValueInfo>(scope.outer);
    for (const input of graph.inputs) known.set(input.name, valueInfo(graph, input.name, constants));
    for (const name of constants.keys()) known.set(name, valueInfo(graph, name, constants));

    const order = executionOrder(graph, new Set([...known.keys()]));
    const unsupported: { opType: string; error: QuantError }[] = [];
    const steps: Omit<Step, 'frees'>[] = [];
    const subgraphs: PlannedGraph[] = [];
    for (const node of order) {
      const label = describeNode(node);
      if (isConstantNode(node)) {
        const value = constantNodeValue(node);
        if (value !== undefined) {
          constants.set(node.outputs[0]!, value);
          known.set(node.outputs[0]!, valueInfo(graph, node.outputs[0]!, constants));
          continue;
        }
      }
      const domain = normalizeDomain(node.domain);
      const innerScope: PlanScope = { ...scope, outer: known };
      const handles = new Map<Graph, KernelSubgraph>();
      const pending: Promise<PlannedGraph>[] = [];
      const attributes = kernelAttributes(node, label, (body) => {
        const handle: KernelSubgraph = {
          inputNames: body.inputs.map((input) => input.name),
          outputNames: body.outputs.map((output) => output.name),
          outputs: body.outputs.map((output) => valueInfo(body, output.name, new Map())),
        };
        handles.set(body, handle);
        pending.push(
          PlannedGraph.plan(body, innerScope).then((planned) => {
            subgraphHandles.set(handle, planned);
            return planned;
          }),
        );
        return handle;
      });
      subgraphs.push(...(await Promise.all(pending)));
      const kernelNode: KernelNode = {
        name: node.name,
        opType: node.opType,
        domain,
        opset: scope.opsets.get(domain) ?? 1,
        attributes,
        inputs: node.inputs.map((name) => (name === '' ? undefined : (known.get(name) ?? { name }))),
        outputs: node.outputs.map((name) => valueInfo(graph, name, constants)),
        label,
      };
      let chosen: Awaited<ReturnType<KernelIndex['choose']>>;
      try {
        chosen = await scope.kernels.choose(kernelNode);
      } catch (error) {
        // Every node no kernel runs is reported at once, not one per attempt.
        if (!(error instanceof QuantError) || error.code !== 'UNSUPPORTED') throw error;
        unsupported.push({ opType: node.opType, error });
        for (const name of node.outputs) if (name !== '') known.set(name, valueInfo(graph, name, constants));
        continue;
      }
      const { kernel, backend } = chosen;
      let state: unknown;
      try {
        state = await kernel.prepare(kernelNode, backend.handle);
      } catch (error) {
        throw kernelFailure({ label, kernel }, error);
      }
      const fallbackAfter = (passedOver: ReadonlySet<KernelPlugin>) => {
        let next: Promise<Fallback | undefined> | undefined;
        return () => {
          next ??= scope.kernels.choose(kernelNode, passedOver).then(
            async (found): Promise<Fallback> => ({
              kernel: found.kernel,
              backend: found.backend.name,
              state: await found.kernel.prepare(kernelNode, found.backend.handle),
              fallback: fallbackAfter(new Set([...passedOver, found.kernel])),
            }),
            () => undefined,
          );
          return next;
        };
      };
      for (const name of node.outputs) if (name !== '') known.set(name, valueInfo(graph, name, constants));
      const outerReads = subgraphsOf(node).flatMap((body) => body.outerScopeNames());
      steps.push({
        node,
        label,
        kernel,
        backend: backend.name,
        state,
        declined: chosen.declined,
        fallback: fallbackAfter(new Set([kernel])),
        inputs: node.inputs,
        outputs: node.outputs,
        outerReads,
      });
    }

    if (unsupported.length > 0) throw unsupportedError(unsupported);

    // A value is freed after its last reader, unless the graph outputs it or it is a constant.
    const keep = new Set([...graph.outputs.map((output) => output.name), ...constants.keys()]);
    const lastReader = new Map<string, number>();
    steps.forEach((step, index) => {
      for (const name of [...step.inputs, ...step.outerReads]) if (name !== '') lastReader.set(name, index);
    });
    const frees: string[][] = steps.map(() => []);
    for (const [name, index] of lastReader) if (!keep.has(name)) frees[index]!.push(name);
    const planned = steps.map((step, index) => ({ ...step, frees: frees[index]! }));
    return new PlannedGraph(
      graph,
      inputNames,
      graph.outputs.map((output) => output.name),
      constants,
      planned,
      subgraphs,
    );
  }

  /** The kernel chosen for each node, subgraphs included. */
  assignments(): KernelAssignment[] {
    return [
      ...this.steps.map((step): KernelAssignment => {
        const fellBack = this.#fellBack.get(step);
        return {
          node: step.node.name,
          opType: step.node.opType,
          kernel: step.kernel.name,
          backend: step.backend,
          declined: step.declined,
          ...(fellBack !== undefined && { fellBack }),
        };
      }),
      ...this.subgraphs.flatMap((subgraph) => subgraph.assignments()),
    ];
  }

  /**
   * Runs the graph on `values` (its inputs, and the enclosing graphs' values for a subgraph) and returns the
   * requested outputs.
   * @throws QuantError naming the node whose kernel failed.
   */
  async run(values: ReadonlyMap<string, Tensor>, fetch: readonly string[]): Promise<Tensor[]> {
    const env = new Map<string, Tensor>(values);
    for (const [name, tensor] of this.constants) if (!env.has(name)) env.set(name, tensor);
    const needed = this.#needed(fetch, env);
    const fetched = new Set(fetch);
    const context: KernelContext = {
      runSubgraph: (handle, inputs) => runSubgraph(handle, inputs, env),
    };
    for (const step of this.steps) {
      if (!needed.has(step)) continue;
      const inputs = step.inputs.map((name) => {
        if (name === '') return undefined;
        const value = env.get(name);
        if (value === undefined)
          throw new QuantError('INTERNAL', `${step.label} runs before "${name}" is computed`);
        return value;
      });
      const outputs = await this.#runStep(step, inputs, context);
      step.outputs.forEach((name, index) => {
        const output = outputs[index];
        if (name !== '' && output !== undefined) env.set(name, output);
      });
      for (const name of step.frees) if (!fetched.has(name)) env.delete(name);
    }
    return fetch.map((name) => {
      const value = env.get(name);
      if (value === undefined) {
        throw new QuantError('INTERNAL', `the graph did not compute its output "${name}"`);
      }
      return value;
    });
  }

  /** The latest run-time fallback of each step, for {@link PlannedGraph.assignments}. */
  readonly #fellBack = new Map<Step, { kernel: string; reason: string }>();

  /**
   * Runs a step's kernel; when it declines these inputs (QuantError UNSUPPORTED), the next kernel that supports the
   * node runs them instead, and so on down the ranking.
   */
  async #runStep(
    step: Step,
    inputs: readonly (Tensor | undefined)[],
    context: KernelContext,
  ): Promise<readonly Tensor[]> {
    let current: { kernel: KernelPlugin; state: unknown; fallback: Step['fallback'] } = step;
    this.#fellBack.delete(step);
    for (;;) {
      try {
        return await current.kernel.run(current.state, inputs, context);
      } catch (error) {
        const next =
          error instanceof QuantError && error.code === 'UNSUPPORTED' ? await current.fallback() : undefined;
        if (next === undefined) throw kernelFailure({ ...step, kernel: current.kernel }, error);
        this.#fellBack.set(step, {
          kernel: next.kernel.name,
          reason: `${current.kernel.name}: ${(error as QuantError).message}`,
        });
        current = next;
      }
    }
  }

  readonly #neededByFetch = new Map<string, Set<Step>>();

  /** The steps that `fetch` depends on (every step when it lists all outputs), worked out once per fetch list. */
  #needed(fetch: readonly string[], available: ReadonlyMap<string, Tensor>): Set<Step> {
    const key = fetch.join('\u0000');
    const cached = this.#neededByFetch.get(key);
    if (cached !== undefined) return cached;
    const producers = new Map<string, Step>();
    for (const step of this.steps) for (const name of step.outputs) producers.set(name, step);
    const needed = new Set<Step>();
    this.#neededByFetch.set(key, needed);
    const pending = fetch.filter((name) => !available.has(name) || producers.has(name));
    while (pending.length > 0) {
      const step = producers.get(pending.pop()!);
      if (step === undefined || needed.has(step)) continue;
      needed.add(step);
      pending.push(...step.inputs.filter((name) => name !== ''), ...step.outerReads);
    }
    return needed;
  }
}

async function runSubgraph(
  handle: KernelSubgraph,
  inputs: readonly Tensor[],
  outer: ReadonlyMap<string, Tensor>,
): Promise<Tensor[]> {
  const planned = subgraphHandles.get(handle);
  if (planned === undefined)
    throw new QuantError('INTERNAL', 'a kernel ran a subgraph the runtime did not plan');
  const values = new Map(outer);
  planned.graph.inputs.forEach((input, index) => {
    const value = inputs[index];
    if (value !== undefined) values.set(input.name, value);
  });
  return planned.run(values, planned.outputNames);
}

/** One error for every node no kernel runs: the first of each op type in full, with how many more there are. */
function unsupportedError(failures: readonly { opType: string; error: QuantError }[]): QuantError {
  if (failures.length === 1) return failures[0]!.error;
  const byOp = new Map<string, { first: QuantError; count: number }>();
  for (const { opType, error } of failures) {
    const entry = byOp.get(opType);
    if (entry === undefined) byOp.set(opType, { first: error, count: 1 });
    else entry.count += 1;
  }
  const parts = [...byOp].map(([opType, { first, count }]) =>
    count === 1 ? first.message : `${first.message} (and ${count - 1} more ${opType} nodes)`,
  );
  return new QuantError('UNSUPPORTED', `${failures.length} nodes cannot run: ${parts.join('; ')}`, {
    cause: failures[0]!.error,
  });
}

function kernelFailure(step: Pick<Step, 'label' | 'kernel'>, error: unknown): QuantError {
  const message = error instanceof Error ? error.message : String(error);
  const text = message.includes(step.label) ? message : `${step.label}: ${message}`;
  const code = error instanceof QuantError ? error.code : 'INTERNAL';
  return new QuantError(code, `${text} (kernel ${step.kernel.name})`, { cause: error });
}

function valueInfo(graph: Graph, name: string, constants: ReadonlyMap<string, Tensor>): KernelValueInfo {
  const constant = constants.get(name);
  if (constant !== undefined) return { name, dtype: constant.dtype, shape: constant.shape, constant };
  const type = graph.valueType(name);
  return {
    name,
    ...(type?.dtype !== undefined && { dtype: type.dtype }),
    ...(type?.shape !== undefined && {
      shape: type.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : undefined)),
    }),
  };
}

/**
 * The nodes in an order where each runs after the producers of its inputs (and of the outer values its subgraphs
 * read), keeping file order where it is valid.
 * @throws QuantError INVALID_MODEL for a cycle or a value nothing produces.
 */
function executionOrder(graph: Graph, available: ReadonlySet<string>): Node[] {
  const nodes = graph.nodes;
  const producer = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const name of node.outputs) if (name !== '') producer.set(name, index);
  });
  const reads = nodes.map((node) => [
    ...node.inputs.filter((name) => name !== ''),
    ...subgraphsOf(node).flatMap((body) => body.outerScopeNames()),
  ]);
  const waiting = reads.map(() => 0);
  const readers = new Map<number, number[]>();
  reads.forEach((names, index) => {
    for (const name of new Set(names)) {
      const from = producer.get(name);
      if (from === undefined) {
        if (!available.has(name)) {
          throw new QuantError(
            'INVALID_MODEL',
            `${describeNode(nodes[index]!)} reads "${name}", which no node, input or initializer of graph "${graph.name}" defines`,
          );
        }
        continue;
      }
      waiting[index]! += 1;
      let list = readers.get(from);
      if (list === undefined) readers.set(from, (list = []));
      list.push(index);
    }
  });
  // Kahn's algorithm over a min-heap would keep file order exactly; a queue seeded in file order is enough here.
  const ready = waiting.flatMap((count, index) => (count === 0 ? [index] : []));
  const order: Node[] = [];
  for (let head = 0; head < ready.length; head++) {
    const index = ready[head]!;
    order.push(nodes[index]!);
    for (const reader of readers.get(index) ?? []) {
      waiting[reader]! -= 1;
      if (waiting[reader] === 0) ready.push(reader);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((_, index) => waiting[index]! > 0)!;
    throw new QuantError('INVALID_MODEL', `graph "${graph.name}" has a cycle through ${describeNode(stuck)}`);
  }
  return order;
}
