import { type DType, dtypeInfo, sizeOf } from '@quantkit/core';
import {
  BUILTIN_OPS,
  type Graph,
  type Model,
  type Node,
  type ValueInfo,
  intAttribute,
  subgraphsOf,
} from '@quantkit/onnx';
import { storedCodes } from './packed-codes.js';
import { type Provenance, readProvenance } from './provenance.js';
import { weightTensors } from './summary.js';

/**
 * True for ops that only appear in quantized graphs (Q/DQ pairs, QOperator ops, integer and n-bit MatMuls).
 *
 * @example isQuantizedOp({ opType: 'QLinearConv', domain: '' }) // true
 */
export function isQuantizedOp(node: Pick<Node, 'opType' | 'domain'>): boolean {
  return BUILTIN_OPS.get(node.opType, node.domain)?.quantizedForm === true;
}

/** Ops that only move or reshape a value: a weight read through them is still that weight. */
function isLayoutOp(node: Node): boolean {
  const descriptor = BUILTIN_OPS.of(node);
  return descriptor?.movesData === true && descriptor.sharesParams?.(node) === true;
}

export interface InspectValue {
  readonly name: string;
  readonly dtype: string | null;
  readonly shape: readonly (number | string | null)[] | null;
}

export interface InspectInitializer {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Bytes as stored in the file (sub-byte types packed). */
  readonly bytes: number;
}

export interface InspectOpCount {
  readonly opType: string;
  readonly domain: string;
  readonly count: number;
  readonly quantized: boolean;
}

/** The weight precision of one Conv/Gemm/MatMul (or quantized equivalent). */
export interface InspectWeightOp {
  readonly name: string;
  readonly opType: string;
  /** The initializer holding the weight, or null when the operand is computed (e.g. activation x activation). */
  readonly weight: string | null;
  /** Stored dtype of that initializer. */
  readonly dtype: string | null;
  readonly bits: number | null;
  /** How the weight reaches the op: straight from an initializer, through DequantizeLinear, or computed. */
  readonly via: 'initializer' | 'dequantize' | 'computed';
  /** The weight is stored in 8 bits or fewer. */
  readonly lowBit: boolean;
}

/** What a model holds, as inspectModel reports it (and `quantkit inspect` prints it). */
export interface InspectReport {
  readonly irVersion: number;
  readonly producer: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly inputs: readonly InspectValue[];
  readonly outputs: readonly InspectValue[];
  readonly nodeCount: number;
  readonly quantizedNodeCount: number;
  readonly ops: readonly InspectOpCount[];
  readonly initializers: readonly InspectInitializer[];
  readonly weightBytes: number;
  readonly weightBytesByDtype: Readonly<Record<string, number>>;
  readonly metadata: Readonly<Record<string, string>>;
  /** metadata_props written by quantkit (keys starting with "quantkit"), JSON values parsed. */
  readonly provenance: Readonly<Record<string, unknown>> | null;
  /** What quantkit wrote the model with (from the provenance), or null for a model quantkit did not write. */
  readonly quantkit: {
    readonly version: string | null;
    /** The hardware target it was planned for ("quantkit.target"). */
    readonly target: string | null;
    readonly mode: string | null;
  } | null;
  readonly weightOps: readonly InspectWeightOp[];
}

function storedBytes(dtype: DType, shape: readonly number[]): number {
  return Math.ceil((sizeOf(shape) * dtypeInfo(dtype).bits) / 8);
}

function describeValue(value: ValueInfo): InspectValue {
  return {
    name: value.name,
    dtype: value.dtype ?? null,
    // JSON has no undefined; an unknown dim is null.
    shape: value.shape === undefined ? null : value.shape.map((dim) => dim ?? null),
  };
}

/** The version, target and mode quantkit recorded, each null when that entry is missing or malformed. */
function quantkitOf(provenance: Provenance | undefined): InspectReport['quantkit'] {
  const version = provenance?.version ?? null;
  const target = provenance?.target ?? null;
  const mode = provenance?.mode ?? null;
  if (version === null && target === null && mode === null) return null;
  return { version, target, mode };
}

function weightOf(graph: Graph, node: Node): InspectWeightOp {
  const index = BUILTIN_OPS.of(node)?.weight?.slots[0] ?? 1;
  let name = node.inputs[index] ?? '';
  let via: InspectWeightOp['via'] = 'initializer';
  // Follow DequantizeLinear and layout-only ops back to the stored tensor; a few steps suffice for real graphs and
  // the bound keeps a malformed cyclic graph from looping.
  for (let step = 0; step < 8; step++) {
    // Codes quantkit packed several to a byte are unpacked by integer ops; storedCodes reads them back.
    const stored =
      graph.initializers.get(name) ??
      graph.getConstant(name) ??
      (via === 'dequantize' ? storedCodes(graph, name) : undefined);
    if (stored !== undefined) {
      const packedBits = 'packedBits' in stored ? (stored.packedBits as number | undefined) : undefined;
      const bits = node.opType === 'MatMulNBits' ? nBits(node) : (packedBits ?? dtypeInfo(stored.dtype).bits);
      return {
        name: node.name,
        opType: node.opType,
        weight: name,
        dtype: stored.dtype,
        bits,
        via,
        lowBit: bits <= 8,
      };
    }
    const producer = graph.producer(name);
    if (producer === undefined) break;
    if (producer.opType === 'DequantizeLinear') via = 'dequantize';
    else if (!isLayoutOp(producer)) break;
    name = producer.inputs[0] ?? '';
  }
  return {
    name: node.name,
    opType: node.opType,
    weight: null,
    dtype: null,
    bits: null,
    via: 'computed',
    lowBit: false,
  };
}

// MatMulNBits stores its codes packed in uint8; the code width is the `bits` attribute (4 by default).
function nBits(node: Node): number {
  return intAttribute(node, 'bits', 4);
}

/** Every node of a graph and of the If/Loop/Scan bodies inside it. */
function* nodesWithin(graph: Graph): Generator<Node> {
  for (const node of graph.nodes) {
    yield node;
    for (const body of subgraphsOf(node)) yield* nodesWithin(body);
  }
}

/**
 * Summarizes a decoded model: opsets, inputs and outputs, op counts (and which are quantized ops, bodies of
 * If/Loop/Scan included), weights (initializers, Constant-node tensors, bodies) and bytes by dtype, metadata_props
 * including quantkit's provenance (readProvenance), and the weight precision of every Conv/Gemm/MatMul.
 * It reads the model only; nothing is run.
 *
 * @example inspectModel(await readModelFile('model.onnx')).weightBytesByDtype // { float32: 1234 }
 * @throws never for a decoded model: a weight it cannot trace to a tensor is reported as computed.
 */
export function inspectModel(model: Model): InspectReport {
  const graph = model.graph;
  const provenance = readProvenance(model);

  const counts = new Map<string, InspectOpCount>();
  for (const node of nodesWithin(graph)) {
    const domain = node.domain;
    const key = `${domain}\u0000${node.opType}`;
    const previous = counts.get(key);
    counts.set(key, {
      opType: node.opType,
      domain,
      count: (previous?.count ?? 0) + 1,
      quantized: isQuantizedOp(node),
    });
  }
  const ops = [...counts.values()].sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType));

  const initializers: InspectInitializer[] = [];
  const weightBytesByDtype: Record<string, number> = {};
  let weightBytes = 0;
  for (const { name, tensor } of weightTensors(graph)) {
    const bytes = storedBytes(tensor.dtype, tensor.shape);
    initializers.push({ name, dtype: tensor.dtype, shape: [...tensor.shape], bytes });
    weightBytesByDtype[tensor.dtype] = (weightBytesByDtype[tensor.dtype] ?? 0) + bytes;
    weightBytes += bytes;
  }

  const metadata = Object.fromEntries(model.metadata);
  return {
    irVersion: model.irVersion,
    producer: [model.producerName, model.producerVersion].filter((part) => part !== '').join(' '),
    opsets: model.opsetImports.map((opset) => ({ domain: opset.domain, version: opset.version })),
    // Old exporters list initializers as graph inputs too; they are not inputs a caller feeds.
    inputs: graph.inputs.filter((input) => !graph.initializers.has(input.name)).map(describeValue),
    outputs: graph.outputs.map(describeValue),
    nodeCount: graph.nodes.length,
    quantizedNodeCount: graph.nodes.filter((node) => isQuantizedOp(node)).length,
    ops,
    initializers,
    weightBytes,
    weightBytesByDtype,
    metadata,
    provenance: provenance?.entries ?? null,
    quantkit: quantkitOf(provenance),
    weightOps: graph.nodes
      .filter((node) => BUILTIN_OPS.of(node)?.weight !== undefined)
      .map((node) => weightOf(graph, node)),
  };
}
