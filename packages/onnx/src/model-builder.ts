import { type DType, type Tensor, QuantError } from '@quantkit/core';
import { Graph } from './graph.js';
import type { Attribute, Node } from './graph-node.js';
import type { Dim, ValueInfo } from './value-info.js';
import type { Model, OpsetImport } from './model.js';

/**
 * An attribute value for {@link createModel}/{@link createNode}: an {@link Attribute}, or a plain value whose type is
 * inferred (integer number -> int, other number -> float, string -> string, arrays alike, Tensor -> tensor,
 * Graph -> graph). Write `{ type: 'float', value: 1 }` for a float that happens to be whole.
 */
export type AttributeInit =
  | Attribute
  | number
  | string
  | Tensor
  | Graph
  | readonly number[]
  | readonly string[]
  | readonly Tensor[]
  | readonly Graph[];

export interface NodeInit {
  opType: string;
  inputs?: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeInit> | Map<string, AttributeInit>;
}

/** A value declaration: `{ name, dtype, shape }`, or `[name, dtype, shape]` for brevity. */
export type ValueInfoInit = ValueInfo | readonly [name: string, dtype?: DType, shape?: readonly Dim[]];

export interface CreateModelOptions {
  /** Default-domain opset version; 17 when omitted. */
  opset?: number;
  /** Further opset imports, e.g. `[{ domain: 'com.microsoft', version: 1 }]`. */
  extraOpsets?: OpsetImport[];
  nodes: readonly NodeInit[];
  inputs: readonly ValueInfoInit[];
  outputs: readonly ValueInfoInit[];
  initializers?: Record<string, Tensor> | Map<string, Tensor>;
  valueInfo?: readonly ValueInfoInit[];
  irVersion?: number;
  graphName?: string;
  producerName?: string;
  producerVersion?: string;
}

/**
 * The IR version that goes with an opset of the default domain, per the ONNX versioning table (opset 18 and below
 * use IR 8 here, which every runtime quantkit targets reads; newer opsets need IR 9, 10 or 11).
 */
export function irVersionForOpset(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function isTensor(value: unknown): value is Tensor {
  return (
    typeof value === 'object' && value !== null && 'dtype' in value && 'shape' in value && 'data' in value
  );
}

/**
 * Converts a plain attribute value to an {@link Attribute}.
 * @throws QuantError INVALID_ARGUMENT for values of no attribute type (empty arrays are ambiguous: pass
 *   `{ type: 'ints', value: [] }`).
 */
export function toAttribute(name: string, value: AttributeInit): Attribute {
  if (value instanceof Graph) return { type: 'graph', value };
  if (isTensor(value)) return { type: 'tensor', value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { type: 'int', value } : { type: 'float', value };
  if (typeof value === 'string') return { type: 'string', value };
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    if (items.length > 0 && items.every((v) => typeof v === 'number')) {
      const numbers = items as number[];
      return numbers.every(Number.isInteger)
        ? { type: 'ints', value: [...numbers] }
        : { type: 'floats', value: [...numbers] };
    }
    if (items.length > 0 && items.every((v) => typeof v === 'string'))
      return { type: 'strings', value: [...(items as string[])] };
    if (items.length > 0 && items.every(isTensor))
      return { type: 'tensors', value: [...(items as Tensor[])] };
    if (items.length > 0 && items.every((v) => v instanceof Graph))
      return { type: 'graphs', value: [...(items as Graph[])] };
  }
  if (typeof value === 'object' && value !== null && 'type' in value && 'value' in value)
    return value as Attribute;
  throw new QuantError(
    'INVALID_ARGUMENT',
    `attribute "${name}": cannot infer the type of ${JSON.stringify(value)}; pass { type, value } explicitly`,
  );
}

/**
 * Builds a {@link Node}.
 * @example
 * createNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] });
 */
export function createNode(init: NodeInit): Node {
  const attributes = new Map<string, Attribute>();
  const entries =
    init.attributes instanceof Map ? [...init.attributes] : Object.entries(init.attributes ?? {});
  for (const [name, value] of entries) attributes.set(name, toAttribute(name, value));
  return {
    name: init.name ?? '',
    opType: init.opType,
    domain: init.domain ?? '',
    inputs: [...(init.inputs ?? [])],
    outputs: [...init.outputs],
    attributes,
  };
}

/** Builds a {@link ValueInfo} from `{ name, dtype, shape }` or `[name, dtype, shape]`. */
export function createValueInfo(init: ValueInfoInit): ValueInfo {
  if (Array.isArray(init)) {
    const [name, dtype, shape] = init as readonly [string, DType?, (readonly Dim[])?];
    const info: ValueInfo = { name };
    if (dtype !== undefined) info.dtype = dtype;
    if (shape !== undefined) info.shape = [...shape];
    return info;
  }
  return { ...(init as ValueInfo) };
}

/**
 * Builds a model in a few lines, for tests and small hand-made graphs. Nodes get names `<opType>_<index>` when
 * unnamed, so tools that key on node names work.
 *
 * @example
 * const model = createModel({
 *   opset: 13,
 *   inputs: [['x', 'float32', [1, 4]]],
 *   outputs: [['y', 'float32', [1, 2]]],
 *   initializers: { w: createTensor('float32', [4, 2], new Float32Array(8).fill(0.5)) },
 *   nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
 * });
 */
export function createModel(options: CreateModelOptions): Model {
  const opset = options.opset ?? 17;
  const nodes = options.nodes.map((init, i) => {
    const node = createNode(init);
    if (!node.name) node.name = `${node.opType}_${i}`;
    return node;
  });
  const graph = new Graph({
    name: options.graphName ?? 'main',
    nodes,
    inputs: options.inputs.map(createValueInfo),
    outputs: options.outputs.map(createValueInfo),
    valueInfo: (options.valueInfo ?? []).map(createValueInfo),
    initializers: options.initializers ?? {},
  });
  return {
    irVersion: options.irVersion ?? irVersionForOpset(opset),
    opsetImports: [{ domain: '', version: opset }, ...(options.extraOpsets ?? [])],
    producerName: options.producerName ?? 'quantkit',
    producerVersion: options.producerVersion ?? '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph,
    functions: [],
    trainingInfo: [],
    configuration: [],
  };
}
