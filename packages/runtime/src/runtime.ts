import { QuantError, type Registry, type Tensor, createRegistry, sizeOf } from '@quantkit/core';
import { type Model, decodeModel, normalizeDomain } from '@quantkit/onnx';
import { fuseQdq } from './fuse-qdq.js';
import { type BackendStatus, kernelIndexOf } from './kernel-choice.js';
import { type KernelAssignment, PlannedGraph } from './planned-graph.js';

/** A model planned by the runtime, ready to run many times. */
export interface RuntimeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model on `feeds` (one tensor per input, by name) and returns the `fetch`ed outputs (all by default);
   * only the nodes the fetched outputs depend on run.
   * @throws QuantError INVALID_ARGUMENT for a missing, unknown or mistyped feed; the failing node's error otherwise.
   */
  run(feeds: Readonly<Record<string, Tensor>>, fetch?: readonly string[]): Promise<Record<string, Tensor>>;
  /** Which kernel and backend runs each node. */
  assignments(): KernelAssignment[];
}

export interface LoadOptions {
  /**
   * Run DequantizeLinear -> Conv/MatMul/Gemm/Add/Mul -> QuantizeLinear groups as integer kernels (QLinearConv,
   * QLinearMatMul, QGemm, QLinearAdd, QLinearMul), as onnxruntime does at load; default true. Off, the graph runs
   * as written: float compute on dequantized values. The two may differ by one code where rounding ties fall.
   */
  readonly fuseQdq?: boolean;
}

export interface Runtime {
  /**
   * Plans a model: chooses and prepares a kernel for every node, once.
   * @throws QuantError INVALID_MODEL for a malformed model, UNSUPPORTED naming a node no kernel runs.
   */
  load(model: Model | Uint8Array, options?: LoadOptions): Promise<RuntimeSession>;
  /** Each backend's start-up result, highest priority first (starting them if no model was loaded yet). */
  backends(): Promise<BackendStatus[]>;
}

/**
 * A runtime over the kernels and backends of a registry.
 * @throws QuantError PLUGIN_CONFLICT when two kernels run the same op on the same backend.
 *
 * @example
 * const runtime = createRuntime(createRegistry([...builtinBackends, ...builtinKernels]));
 * const session = await runtime.load(modelBytes);
 * const { y } = await session.run({ x: createTensor('float32', [1, 4], new Float32Array([1, 2, 3, 4])) });
 */
export function createRuntime(registry: Registry = createRegistry()): Runtime {
  const kernels = kernelIndexOf(registry);
  return {
    async load(input, options = {}) {
      const decoded = input instanceof Uint8Array ? decodeModel(input) : input;
      const model = options.fuseQdq === false ? decoded : fuseQdq(decoded).model;
      const opsets = new Map<string, number>();
      for (const { domain, version } of model.opsetImports) opsets.set(normalizeDomain(domain), version);
      const planned = await PlannedGraph.plan(model.graph, { kernels, opsets, outer: new Map() });
      return new Session(planned);
    },
    backends: () => kernels.backends.all(),
  };
}

class Session implements RuntimeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(private readonly planned: PlannedGraph) {
    this.inputNames = planned.inputNames;
    this.outputNames = planned.outputNames;
  }

  async run(feeds: Readonly<Record<string, Tensor>>, fetch: readonly string[] = this.outputNames) {
    const values = new Map<string, Tensor>();
    const { graph } = this.planned;
    for (const name of Object.keys(feeds)) {
      if (!graph.inputs.some((input) => input.name === name)) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `feed "${name}" is not an input of the model (inputs: ${this.inputNames.join(', ')})`,
        );
      }
    }
    for (const input of graph.inputs) {
      const tensor = feeds[input.name];
      if (tensor === undefined) {
        if (this.planned.constants.has(input.name)) continue;
        throw new QuantError('INVALID_ARGUMENT', `model input "${input.name}" has no feed`);
      }
      checkFeed(input.name, tensor, input.dtype, input.shape);
      values.set(input.name, tensor);
    }
    for (const name of fetch) {
      if (graph.producer(name) === undefined && !values.has(name) && !this.planned.constants.has(name)) {
        throw new QuantError('INVALID_ARGUMENT', `"${name}" is not a value of the model's main graph`);
      }
    }
    const outputs = await this.planned.run(values, fetch);
    return Object.fromEntries(fetch.map((name, index) => [name, outputs[index]!]));
  }

  assignments(): KernelAssignment[] {
    return this.planned.assignments();
  }
}

function checkFeed(
  name: string,
  tensor: Tensor,
  dtype: string | undefined,
  shape: readonly (number | string | undefined)[] | undefined,
): void {
  if (dtype !== undefined && tensor.dtype !== dtype) {
    throw new QuantError('INVALID_ARGUMENT', `feed "${name}" is ${tensor.dtype}; the model expects ${dtype}`);
  }
  if (tensor.data.length !== sizeOf(tensor.shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `feed "${name}" holds ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`,
    );
  }
  if (shape === undefined) return;
  const fits =
    shape.length === tensor.shape.length &&
    shape.every((dim, axis) => typeof dim !== 'number' || dim < 0 || dim === tensor.shape[axis]);
  if (!fits) {
    const expected = shape.map((dim) => (typeof dim === 'number' ? `${dim}` : (dim ?? '?'))).join(', ');
    throw new QuantError(
      'INVALID_ARGUMENT',
      `feed "${name}" has shape [${tensor.shape.join(', ')}]; the model expects [${expected}]`,
    );
  }
}
