import { QuantError, type Tensor, sizeOf } from '@quantkit/core';
import protobuf from 'protobufjs/light.js';
import type { Graph } from './graph.js';
import { describeNode, subgraphsOf } from './graph-node.js';
import {
  type ExternalDataWriter,
  type ProtoEncodeContext,
  graphFromProto,
  graphToProto,
} from './graph-proto.js';
import { normalizeDomain } from './domain.js';
import { int64ToNumber, int64ToWire } from './int64.js';
import { type GraphProto, type ModelProto, onnxTypes } from './onnx-schema.js';
import { isPagedTensor } from './paged-tensor.js';
import { rawByteLength } from './onnx-data-types.js';
import { type ExternalDataLoader, type ExternalDataPager, describe } from './tensor-proto.js';

/** One entry of ModelProto.opset_import. `domain` '' is the default ONNX domain. */
export interface OpsetImport {
  domain: string;
  version: number;
}

/**
 * An ONNX model: ModelProto fields plus the {@link Graph}. Model-local functions, training info and device
 * configurations are kept as decoded protobuf objects and written back unchanged.
 */
export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  /** metadata_props, in file order. */
  metadata: Map<string, string>;
  graph: Graph;
  functions: unknown[];
  trainingInfo: unknown[];
  configuration: unknown[];
}

export interface DecodeModelOptions {
  /** Reads tensors stored outside the model file; readModelFile passes one that reads beside the model. */
  externalData?: ExternalDataLoader | undefined;
  /** Leaves external tensors in their file until used (see TensorFromProtoOptions.pageExternalData). */
  pageExternalData?: ExternalDataPager | undefined;
}

export interface EncodeModelOptions {
  /** Moves initializers out of the model file; see writeModelFile in @quantkit/onnx/node. */
  externalData?: ExternalDataWriter | undefined;
}

/** Protobuf messages cannot exceed 2 GiB; bigger models need external data. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;
const MAX_IR_VERSION = 100;

/**
 * The opset version the model imports for `domain` ('' or 'ai.onnx' for the default ONNX domain).
 * @example
 * opsetVersion(model); // 17
 * opsetVersion(model, 'com.microsoft'); // undefined when not imported
 */
export function opsetVersion(model: Model, domain = ''): number | undefined {
  const wanted = normalizeDomain(domain);
  let version: number | undefined;
  for (const entry of model.opsetImports) {
    if (normalizeDomain(entry.domain) === wanted) version = Math.max(version ?? 0, entry.version);
  }
  return version;
}

/**
 * Sets the imported opset version of `domain`, adding the import when missing. Does not convert operators.
 * @example
 * setOpsetVersion(model, 1, 'com.microsoft');
 */
export function setOpsetVersion(model: Model, version: number, domain = ''): void {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new QuantError('INVALID_ARGUMENT', `opset version must be a positive integer, got ${version}`);
  }
  const wanted = normalizeDomain(domain);
  const existing = model.opsetImports.filter((entry) => normalizeDomain(entry.domain) === wanted);
  if (existing.length === 0) {
    model.opsetImports.push({ domain, version });
    return;
  }
  for (const entry of existing) entry.version = version;
}

function wrapInvalid(source: string, error: unknown): QuantError {
  if (QuantError.is(error) && error.code !== 'INVALID_MODEL') return error;
  const message = describe(error);
  return new QuantError('INVALID_MODEL', `${source}: ${message}`, { cause: error });
}

/**
 * Decodes an ONNX model file and checks that it is consistent (see {@link validateModel}).
 *
 * @example
 * const model = decodeModel(new Uint8Array(await (await fetch(url)).arrayBuffer()), url);
 * @throws QuantError INVALID_MODEL naming `source` for bytes that are not protobuf, truncated or inconsistent
 *   models; UNSUPPORTED when tensors live in external files and no `externalData` loader is given.
 */
export function decodeModel(bytes: Uint8Array, source = 'model', options: DecodeModelOptions = {}): Model {
  let proto: ModelProto;
  try {
    proto = onnxTypes.ModelProto.decode(bytes) as unknown as ModelProto;
    const graphs = repeatedGraphFields(bytes);
    if (graphs.length > 1) proto.graph = mergeGraphProtos(graphs.map((range) => bytes.subarray(...range)));
  } catch (error) {
    throw new QuantError(
      'INVALID_MODEL',
      `${source} is not a valid ONNX model (protobuf decoding failed: ${describe(error)})`,
      { cause: error },
    );
  }
  try {
    if (!proto.graph) throw new QuantError('INVALID_MODEL', 'the model has no graph');
    const model: Model = {
      irVersion: int64ToNumber(proto.ir_version),
      opsetImports: (proto.opset_import ?? []).map((entry) => ({
        domain: entry.domain ?? '',
        version: int64ToNumber(entry.version),
      })),
      producerName: proto.producer_name ?? '',
      producerVersion: proto.producer_version ?? '',
      domain: proto.domain ?? '',
      modelVersion: int64ToNumber(proto.model_version),
      docString: proto.doc_string ?? '',
      metadata: new Map((proto.metadata_props ?? []).map((entry) => [entry.key ?? '', entry.value ?? ''])),
      graph: graphFromProto(proto.graph, {
        externalData: options.externalData,
        pageExternalData: options.pageExternalData,
      }),
      functions: proto.functions ?? [],
      trainingInfo: proto.training_info ?? [],
      configuration: proto.configuration ?? [],
    };
    validateModel(model, source);
    return model;
  } catch (error) {
    throw wrapInvalid(source, error);
  }
}

function fail(source: string, message: string): never {
  throw new QuantError('INVALID_MODEL', `${source}: ${message}`);
}

function validateGraph(
  graph: Graph,
  outer: ReadonlySet<string>,
  source: string,
  isMain: boolean,
  domains: ReadonlySet<string>,
): void {
  const where = `graph "${graph.name}"`;
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (name === '') fail(source, `${where} has ${what} with an empty name`);
    if (defined.has(name)) fail(source, `${where} defines "${name}" twice (${what})`);
    defined.add(name);
  };
  for (const input of graph.inputs) define(input.name, 'an input');
  for (const [name, tensor] of graph.initializers) {
    const size = sizeOf(tensor.shape);
    // A paged tensor's length was checked against its file when it was decoded; reading it here would load it.
    if (!isPagedTensor(tensor) && tensor.data.length !== size) {
      fail(
        source,
        `initializer "${name}" has ${tensor.data.length} elements but shape [${tensor.shape}] needs ${size}`,
      );
    }
    if (!defined.has(name) || !graph.isInput(name)) define(name, 'an initializer');
  }
  for (const name of graph.opaqueInitializers.keys()) {
    if (!defined.has(name) || !graph.isInput(name)) define(name, 'an initializer');
  }
  // Sparse initializers are named by their values tensor.
  for (const sparse of graph.sparseInitializers as { values?: { name?: string } }[]) {
    const name = sparse.values?.name ?? '';
    if (!defined.has(name) || !graph.isInput(name)) define(name, 'a sparse initializer');
  }
  for (const node of graph.nodes) {
    if (!node.opType) fail(source, `${where} has a node without op_type (${describeNode(node)})`);
    if (!domains.has(normalizeDomain(node.domain))) {
      fail(source, `${describeNode(node)} uses domain "${node.domain}", which the model does not import`);
    }
    for (const output of node.outputs) if (output !== '') define(output, describeNode(node));
  }
  const visible = (name: string): boolean => name === '' || defined.has(name) || outer.has(name);
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (!visible(input)) {
        fail(
          source,
          `${describeNode(node)} in ${where} reads "${input}", which no node, input or initializer provides`,
        );
      }
    }
  }
  if (isMain && graph.outputs.length === 0) fail(source, `${where} has no outputs`);
  for (const output of graph.outputs) {
    if (output.name === '' || !visible(output.name)) {
      fail(source, `${where} output "${output.name}" is not produced by any node, input or initializer`);
    }
  }
  const cycle = graph.findCycle();
  if (cycle !== undefined) fail(source, `${where} has a cycle through ${describeNode(cycle)}`);
  const scope = new Set([...outer, ...defined]);
  for (const node of graph.nodes) {
    for (const sub of subgraphsOf(node)) validateGraph(sub, scope, source, false, domains);
  }
}

/**
 * Checks what decoding alone cannot: an IR version and opset imports are present, every node's domain is
 * imported (or is a model-local function's), every node input and graph output is defined (by a node, graph input, initializer or enclosing graph), no value is defined twice, the
 * nodes have no cycle and initializer data matches their shapes.
 *
 * @example
 * validateModel(model, 'model.onnx');
 * @throws QuantError INVALID_MODEL naming `source` and the first problem found.
 */
export function validateModel(model: Model, source = 'model'): void {
  if (!Number.isSafeInteger(model.irVersion) || model.irVersion < 1 || model.irVersion > MAX_IR_VERSION) {
    fail(source, `ir_version ${model.irVersion} is not a valid ONNX IR version`);
  }
  if (model.opsetImports.length === 0) fail(source, 'the model imports no opset (opset_import is empty)');
  const seen = new Set<string>();
  for (const entry of model.opsetImports) {
    const domain = normalizeDomain(entry.domain);
    if (seen.has(domain)) fail(source, `opset_import lists domain "${entry.domain}" twice`);
    seen.add(domain);
    if (!Number.isSafeInteger(entry.version) || entry.version < 1) {
      fail(source, `opset_import of domain "${entry.domain}" has version ${entry.version}`);
    }
  }
  // Nodes may also call model-local functions, whose domain need not be imported.
  for (const fn of model.functions) {
    const domain = (fn as { domain?: unknown }).domain;
    if (typeof domain === 'string') seen.add(normalizeDomain(domain));
  }
  validateGraph(model.graph, new Set(), source, true, seen);
}

function modelToProto(model: Model, context: ProtoEncodeContext): ModelProto {
  const proto: ModelProto = {
    ir_version: int64ToWire(model.irVersion),
    opset_import: model.opsetImports.map((entry) => ({
      ...(entry.domain ? { domain: entry.domain } : {}),
      version: int64ToWire(entry.version),
    })),
    graph: graphToProto(model.graph, context),
  };
  if (model.producerName) proto.producer_name = model.producerName;
  if (model.producerVersion) proto.producer_version = model.producerVersion;
  if (model.domain) proto.domain = model.domain;
  if (model.modelVersion) proto.model_version = int64ToWire(model.modelVersion);
  if (model.docString) proto.doc_string = model.docString;
  if (model.metadata.size > 0)
    proto.metadata_props = [...model.metadata].map(([key, value]) => ({ key, value }));
  if (model.trainingInfo.length > 0) proto.training_info = model.trainingInfo;
  if (model.functions.length > 0) proto.functions = model.functions;
  if (model.configuration.length > 0) proto.configuration = model.configuration;
  return proto;
}

function tooLargeInline(bytes: number): QuantError {
  return new QuantError(
    'INVALID_ARGUMENT',
    `the model holds ${bytes} bytes of tensor data, more than the 2 GiB a protobuf file can hold; ` +
      'write it with external data (writeModelFile(path, model, { externalData: true }))',
    { details: { inlineBytes: bytes, limit: MAX_PROTO_BYTES } },
  );
}

/**
 * Serializes a model. The same model always gives the same bytes (fields in field-number order, initializers,
 * attributes and metadata in insertion order).
 *
 * @example
 * const bytes = encodeModel(model);
 * @throws QuantError INVALID_ARGUMENT when the inline tensor data exceeds the 2 GiB protobuf limit (use external
 *   data) or a tensor's data disagrees with its shape.
 */
export function encodeModel(model: Model, options: EncodeModelOptions = {}): Uint8Array {
  // Counted from shapes first, so a model whose weights wait in their data file is refused before any is read.
  if (options.externalData === undefined) {
    let inline = 0;
    for (const tensor of graphTensors(model.graph))
      inline += rawByteLength(tensor.dtype, sizeOf(tensor.shape));
    if (inline > MAX_PROTO_BYTES) throw tooLargeInline(inline);
  }
  const context: ProtoEncodeContext = { externalData: options.externalData, inlineBytes: 0 };
  const proto = modelToProto(model, context);
  if (context.inlineBytes > MAX_PROTO_BYTES) throw tooLargeInline(context.inlineBytes);
  // opset_import goes last (protobuf allows any field order and merges repeated fields): a file cut short at
  // a field boundary then lacks its opset imports and fails validation instead of silently losing its tail.
  const opsets = proto.opset_import;
  delete proto.opset_import;
  const body = onnxTypes.ModelProto.encode(proto).finish();
  const tail = onnxTypes.ModelProto.encode({ opset_import: opsets }).finish();
  const bytes = new Uint8Array(body.length + tail.length);
  bytes.set(body);
  bytes.set(tail, body.length);
  if (bytes.length > MAX_PROTO_BYTES) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `the encoded model is ${bytes.length} bytes, over the 2 GiB limit`,
    );
  }
  return bytes;
}

/** Every tensor a graph holds: initializers and tensor attributes (Constant values), in bodies too. */
function* graphTensors(graph: Graph): Generator<Tensor> {
  yield* graph.initializers.values();
  for (const node of graph.nodes) {
    for (const attribute of node.attributes.values()) {
      if (attribute.type === 'tensor') yield attribute.value;
      else if (attribute.type === 'tensors') yield* attribute.value;
    }
    for (const body of subgraphsOf(node)) yield* graphTensors(body);
  }
}

/** True when some tensor of the model still waits in its external data file (see pagedTensor). */
export function hasPagedTensors(model: Model): boolean {
  for (const tensor of graphTensors(model.graph)) if (isPagedTensor(tensor)) return true;
  return false;
}

/**
 * About the size of the model's encoding, without reading or copying any large tensor: initializers of 1 KiB or
 * more count at the length of their data plus the framing of a reference to it, a few bytes off the framing
 * inline data takes. For summaries of models too big to encode (encodeModel(model).length is exact).
 *
 * @example encodedSize(await readModelFile('llm.onnx')); // about the size of model file + data file
 */
export function encodedSize(model: Model): number {
  let outside = 0;
  const bytes = encodeModel(model, {
    externalData: (_name, _tensor, byteLength) => {
      if (byteLength < 1024) return undefined;
      outside += byteLength;
      return { location: '', offset: 0, length: byteLength };
    },
  });
  return bytes.length + outside;
}

/**
 * A copy of a model whose graph, opset imports and metadata can be edited without touching the original. Tensors
 * are shared, not copied: quantkit's rewrites replace tensors rather than write into them, so a copy costs no
 * weight memory. `graph` replaces the cloned graph when the caller has already made one.
 *
 * @example const copy = cloneModel(model); copy.graph.removeNode(copy.graph.nodes[0]!);
 */
export function cloneModel(model: Model, graph: Graph = model.graph.clone()): Model {
  return {
    ...model,
    opsetImports: model.opsetImports.map((entry) => ({ ...entry })),
    metadata: new Map(model.metadata),
    graph,
    functions: [...model.functions],
    trainingInfo: [...model.trainingInfo],
    configuration: [...model.configuration],
  };
}

/** ModelProto's field number of `graph`. */
const MODEL_GRAPH_FIELD = 7;
const LENGTH_DELIMITED = 2;

/**
 * The byte ranges of every `graph` field at the top level of a ModelProto. Protobuf parsers must merge a singular
 * message field that occurs more than once (exposeOutputsInBytes relies on it, as onnxruntime does); protobufjs
 * keeps only the last, so decodeModel merges them itself.
 */
function repeatedGraphFields(bytes: Uint8Array): [number, number][] {
  const reader = protobuf.Reader.create(bytes);
  const ranges: [number, number][] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === MODEL_GRAPH_FIELD && (tag & 7) === LENGTH_DELIMITED) {
      const length = reader.uint32();
      ranges.push([reader.pos, reader.pos + length]);
      reader.skip(length);
    } else {
      reader.skipType(tag & 7);
    }
  }
  return ranges;
}

/** GraphProto fields that are singular (the rest are repeated): the last occurrence wins when merging. */
const SINGULAR_GRAPH_FIELDS = new Set(['name', 'doc_string']);

/** The protobuf merge of GraphProto encodings: repeated fields concatenated in order, singular ones last-wins. */
function mergeGraphProtos(encodings: readonly Uint8Array[]): GraphProto {
  const merged: Record<string, unknown> = {};
  for (const encoding of encodings) {
    const part = onnxTypes.GraphProto.decode(encoding) as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(part)) {
      if (SINGULAR_GRAPH_FIELDS.has(field) || !Array.isArray(value)) {
        if (value !== undefined && value !== '') merged[field] = value;
      } else {
        merged[field] = [...((merged[field] as unknown[] | undefined) ?? []), ...value];
      }
    }
  }
  return merged as GraphProto;
}
