import { type DType, type Tensor, QuantError, sizeOf } from '@quantkit/core';
import { Graph } from './graph.js';
import type { Attribute, Node } from './graph-node.js';
import type { Dim, ValueInfo } from './value-info.js';
import { int64ToNumber, int64ToWire } from './int64.js';
import {
  ONNX_ATTRIBUTE_TYPES as A,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from './onnx-schema.js';
import {
  dtypeFromOnnx,
  isOnnxDataType,
  isSupportedOnnxDataType,
  onnxFromDtype,
  rawByteLength,
} from './onnx-data-types.js';
import {
  type ExternalDataRef,
  type TensorFromProtoOptions,
  externalDataRef,
  tensorFromProto,
  tensorBytes,
  tensorHeaderProto,
  tensorToProto,
} from './tensor-proto.js';

/** Options for turning decoded protobuf messages into the IR: how external data is read. */
export type ProtoDecodeContext = TensorFromProtoOptions;

/**
 * Decides where an initializer's bytes go when encoding: return a reference to store it outside the model file,
 * or undefined to keep it inline. Called once per initializer, in file order, with the number of bytes its data
 * takes; the writer reads the data itself (tensorBytes) when it writes the file, so encoding loads no tensor
 * stored outside.
 */
export type ExternalDataWriter = (
  name: string,
  tensor: Tensor,
  byteLength: number,
) => ExternalDataRef | undefined;

export interface ProtoEncodeContext {
  externalData?: ExternalDataWriter | undefined;
  /** Bytes of tensor data kept inline so far (protobuf messages cannot exceed 2 GiB). */
  inlineBytes: number;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function invalid(message: string): QuantError {
  return new QuantError('INVALID_MODEL', message);
}

function has(object: object, key: string): boolean {
  return Object.hasOwn(object, key);
}

function decodeUtf8(bytes: Uint8Array | undefined): string | undefined {
  try {
    return utf8Decoder.decode(bytes ?? new Uint8Array());
  } catch {
    return undefined;
  }
}

/** Checks the data type number of a tensor proto; INVALID_MODEL when it is not an ONNX data type at all. */
function checkDataType(proto: TensorProto, where: string): void {
  const code = proto.data_type ?? 0;
  if (code === 0 || !isOnnxDataType(code)) {
    throw invalid(`${where} has data type ${code}, which is not an ONNX data type`);
  }
}

/** True when quantkit can hold the tensor as a Tensor (else it is kept as its decoded proto). */
function isHoldable(proto: TensorProto): boolean {
  return isSupportedOnnxDataType(proto.data_type ?? 0) && !proto.segment;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** The dtype and shape described by a TypeProto (both undefined for non-tensor types). */
export function typeFromProto(type: TypeProto | null | undefined): {
  dtype: DType | undefined;
  shape: Dim[] | undefined;
} {
  const tensorType = type?.tensor_type;
  if (!tensorType) return { dtype: undefined, shape: undefined };
  const code = tensorType.elem_type ?? 0;
  const dtype = isSupportedOnnxDataType(code) ? dtypeFromOnnx(code) : undefined;
  const shapeProto = tensorType.shape;
  if (!shapeProto) return { dtype, shape: undefined };
  const shape: Dim[] = (shapeProto.dim ?? []).map((dim) => {
    if (has(dim, 'dim_value')) {
      const value = int64ToNumber(dim.dim_value);
      return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    }
    if (has(dim, 'dim_param') && dim.dim_param) return dim.dim_param;
    return undefined;
  });
  return { dtype, shape };
}

export function valueInfoFromProto(proto: ValueInfoProto): ValueInfo {
  const info: ValueInfo = { name: proto.name ?? '' };
  const type = proto.type ?? undefined;
  if (type) {
    const { dtype, shape } = typeFromProto(type);
    if (dtype !== undefined) info.dtype = dtype;
    if (shape !== undefined) info.shape = shape;
    info.raw = type;
  }
  if (proto.doc_string) info.docString = proto.doc_string;
  if (proto.metadata_props?.length) info.metadataProps = proto.metadata_props;
  return info;
}

function tensorAttribute(
  proto: TensorProto | null | undefined,
  where: string,
  context: ProtoDecodeContext,
): Tensor | undefined {
  if (!proto) throw invalid(`${where} has no tensor`);
  checkDataType(proto, where);
  if (!isHoldable(proto)) return undefined;
  return tensorFromProto(proto, context);
}

/** Infers the type of an attribute written before IR version 2 (no type field) from the field that is set. */
function inferAttributeType(proto: AttributeProto): number {
  if (proto.t) return A.TENSOR;
  if (proto.g) return A.GRAPH;
  if (proto.sparse_tensor) return A.SPARSE_TENSOR;
  if (proto.tp) return A.TYPE_PROTO;
  if (has(proto, 's')) return A.STRING;
  if (has(proto, 'i')) return A.INT;
  if (has(proto, 'f')) return A.FLOAT;
  if (proto.floats?.length) return A.FLOATS;
  if (proto.ints?.length) return A.INTS;
  if (proto.strings?.length) return A.STRINGS;
  if (proto.tensors?.length) return A.TENSORS;
  if (proto.graphs?.length) return A.GRAPHS;
  if (proto.sparse_tensors?.length) return A.SPARSE_TENSORS;
  if (proto.type_protos?.length) return A.TYPE_PROTOS;
  return A.UNDEFINED;
}

export function attributeFromProto(
  proto: AttributeProto,
  where: string,
  context: ProtoDecodeContext,
): Attribute {
  const raw: Attribute = { type: 'raw', value: proto };
  if (proto.ref_attr_name) return raw;
  const type = proto.type || inferAttributeType(proto);
  const label = `${where} attribute "${proto.name}"`;
  switch (type) {
    case A.FLOAT:
      return { type: 'float', value: proto.f ?? 0 };
    case A.INT:
      return { type: 'int', value: int64ToNumber(proto.i) };
    case A.STRING: {
      const value = decodeUtf8(proto.s);
      return value === undefined ? raw : { type: 'string', value };
    }
    case A.TENSOR: {
      const value = tensorAttribute(proto.t, label, context);
      return value === undefined ? raw : { type: 'tensor', value };
    }
    case A.GRAPH:
      if (!proto.g) throw invalid(`${label} has no graph`);
      return { type: 'graph', value: graphFromProto(proto.g, context) };
    case A.FLOATS:
      return { type: 'floats', value: [...(proto.floats ?? [])] };
    case A.INTS:
      return { type: 'ints', value: (proto.ints ?? []).map((v) => int64ToNumber(v)) };
    case A.STRINGS: {
      const value = (proto.strings ?? []).map((bytes) => decodeUtf8(bytes));
      return value.some((v) => v === undefined) ? raw : { type: 'strings', value: value as string[] };
    }
    case A.TENSORS: {
      const value = (proto.tensors ?? []).map((t, i) => tensorAttribute(t, `${label}[${i}]`, context));
      return value.some((v) => v === undefined) ? raw : { type: 'tensors', value: value as Tensor[] };
    }
    case A.GRAPHS:
      return { type: 'graphs', value: (proto.graphs ?? []).map((g) => graphFromProto(g, context)) };
    case A.SPARSE_TENSOR:
    case A.SPARSE_TENSORS:
    case A.TYPE_PROTO:
    case A.TYPE_PROTOS:
      return raw;
    default:
      throw invalid(`${label} has attribute type ${type}, which is not an ONNX attribute type`);
  }
}

export function nodeFromProto(proto: NodeProto, position: number, context: ProtoDecodeContext): Node {
  const where = `node ${proto.name ? `"${proto.name}"` : `#${position}`} (${proto.op_type || 'no op_type'})`;
  const attributes = new Map<string, Attribute>();
  for (const attribute of proto.attribute ?? []) {
    const name = attribute.name ?? '';
    if (name === '') throw invalid(`${where} has an attribute without a name`);
    if (attributes.has(name)) throw invalid(`${where} has attribute "${name}" twice`);
    attributes.set(name, attributeFromProto(attribute, where, context));
  }
  const node: Node = {
    name: proto.name ?? '',
    opType: proto.op_type ?? '',
    domain: proto.domain ?? '',
    inputs: [...(proto.input ?? [])],
    outputs: [...(proto.output ?? [])],
    attributes,
  };
  if (proto.doc_string) node.docString = proto.doc_string;
  if (proto.overload) node.overload = proto.overload;
  if (proto.metadata_props?.length) node.metadataProps = proto.metadata_props;
  return node;
}

/**
 * Converts a decoded GraphProto to a {@link Graph}.
 * @throws QuantError INVALID_MODEL for unnamed or duplicate initializers, data that disagrees with dims, unknown
 *   data or attribute types.
 */
/** Bytes per element of the data types quantkit keeps opaque but may find in external data. */
const OPAQUE_ELEMENT_BYTES: Readonly<Record<number, number>> = { 12: 4, 13: 8, 14: 8, 15: 16, 18: 1, 20: 1 };

/**
 * An opaque tensor (uint32, uint64, complex...) stored in external data is read into raw_data while the loader is
 * at hand: written back unchanged it would point at the input's data file, which the output does not carry.
 */
function inlineExternal(tensor: TensorProto, context: ProtoDecodeContext): TensorProto {
  const external = externalDataRef(tensor);
  if (external === undefined || context.externalData === undefined) return tensor;
  const size = (tensor.dims ?? []).reduce<number>((product, dim) => product * int64ToNumber(dim), 1);
  const length = external.length ?? size * (OPAQUE_ELEMENT_BYTES[tensor.data_type ?? 0] ?? Number.NaN);
  if (!Number.isFinite(length)) return tensor;
  const raw = context.externalData(external.location, external.offset, length);
  return { ...tensor, raw_data: Uint8Array.from(raw), data_location: 0, external_data: [] };
}

export function graphFromProto(proto: GraphProto, context: ProtoDecodeContext = {}): Graph {
  const initializers = new Map<string, Tensor>();
  const opaqueInitializers = new Map<string, TensorProto>();
  for (const [i, tensor] of (proto.initializer ?? []).entries()) {
    const name = tensor.name ?? '';
    if (name === '') throw invalid(`graph "${proto.name ?? ''}" has an unnamed initializer (#${i})`);
    if (initializers.has(name) || opaqueInitializers.has(name)) {
      throw invalid(`graph "${proto.name ?? ''}" has two initializers named "${name}"`);
    }
    checkDataType(tensor, `initializer "${name}"`);
    if (isHoldable(tensor)) initializers.set(name, tensorFromProto(tensor, context));
    else opaqueInitializers.set(name, inlineExternal(tensor, context));
  }
  return new Graph({
    name: proto.name ?? '',
    docString: proto.doc_string ?? '',
    nodes: (proto.node ?? []).map((node, i) => nodeFromProto(node, i, context)),
    inputs: (proto.input ?? []).map(valueInfoFromProto),
    outputs: (proto.output ?? []).map(valueInfoFromProto),
    valueInfo: (proto.value_info ?? []).map(valueInfoFromProto),
    initializers,
    opaqueInitializers,
    sparseInitializers: proto.sparse_initializer ?? [],
    quantizationAnnotations: proto.quantization_annotation ?? [],
    metadataProps: proto.metadata_props ?? [],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

function sameDims(a: Dim[] | undefined, b: Dim[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** The TypeProto to write for a value: the decoded one while it still agrees, else one built from dtype/shape. */
export function typeToProto(info: ValueInfo): TypeProto | undefined {
  if (info.raw !== undefined) {
    if (info.dtype === undefined) return info.raw;
    const decoded = typeFromProto(info.raw);
    if (decoded.dtype === info.dtype && sameDims(decoded.shape, info.shape)) return info.raw;
  }
  if (info.dtype === undefined) return undefined;
  const tensorType: NonNullable<TypeProto['tensor_type']> = { elem_type: onnxFromDtype(info.dtype) };
  if (info.shape !== undefined) {
    tensorType.shape = {
      dim: info.shape.map((dim) =>
        typeof dim === 'number'
          ? { dim_value: int64ToWire(dim) }
          : typeof dim === 'string'
            ? { dim_param: dim }
            : {},
      ),
    };
  }
  return { tensor_type: tensorType };
}

export function valueInfoToProto(info: ValueInfo): ValueInfoProto {
  const proto: ValueInfoProto = { name: info.name };
  const type = typeToProto(info);
  if (type !== undefined) proto.type = type;
  if (info.docString) proto.doc_string = info.docString;
  if (info.metadataProps?.length) proto.metadata_props = info.metadataProps;
  return proto;
}

export function attributeToProto(
  name: string,
  attribute: Attribute,
  context: ProtoEncodeContext,
): AttributeProto {
  switch (attribute.type) {
    case 'float':
      return { name, type: A.FLOAT, f: attribute.value };
    case 'int':
      return { name, type: A.INT, i: int64ToWire(attribute.value) };
    case 'string':
      return { name, type: A.STRING, s: utf8Encoder.encode(attribute.value) };
    case 'tensor':
      return { name, type: A.TENSOR, t: tensorToProto('', attribute.value) };
    case 'graph':
      return { name, type: A.GRAPH, g: graphToProto(attribute.value, context) };
    case 'floats':
      return { name, type: A.FLOATS, floats: [...attribute.value] };
    case 'ints':
      return { name, type: A.INTS, ints: attribute.value.map(int64ToWire) };
    case 'strings':
      return { name, type: A.STRINGS, strings: attribute.value.map((s) => utf8Encoder.encode(s)) };
    case 'tensors':
      return { name, type: A.TENSORS, tensors: attribute.value.map((t) => tensorToProto('', t)) };
    case 'graphs':
      return { name, type: A.GRAPHS, graphs: attribute.value.map((g) => graphToProto(g, context)) };
    case 'raw':
      return attribute.value.name === name ? attribute.value : { ...attribute.value, name };
    default:
      throw new QuantError(
        'INVALID_ARGUMENT',
        `attribute "${name}" has type "${(attribute as { type: string }).type}"; expected float, int, string, ` +
          'tensor, graph, floats, ints, strings, tensors, graphs or raw',
      );
  }
}

export function nodeToProto(node: Node, context: ProtoEncodeContext): NodeProto {
  const proto: NodeProto = { input: node.inputs, output: node.outputs, op_type: node.opType };
  if (node.name) proto.name = node.name;
  if (node.domain) proto.domain = node.domain;
  if (node.overload) proto.overload = node.overload;
  const attributes = [...node.attributes].map(([name, attribute]) =>
    attributeToProto(name, attribute, context),
  );
  if (attributes.length > 0) proto.attribute = attributes;
  if (node.docString) proto.doc_string = node.docString;
  if (node.metadataProps?.length) proto.metadata_props = node.metadataProps;
  return proto;
}

function initializerToProto(name: string, tensor: Tensor, context: ProtoEncodeContext): TensorProto {
  const header = tensorHeaderProto(name, tensor);
  const byteLength = rawByteLength(tensor.dtype, sizeOf(tensor.shape));
  const ref = context.externalData?.(name, tensor, byteLength);
  if (ref === undefined) {
    const raw_data = tensorBytes(tensor, name);
    context.inlineBytes += raw_data.length;
    return { ...header, raw_data };
  }
  const external_data = [
    { key: 'location', value: ref.location },
    { key: 'offset', value: String(ref.offset) },
    { key: 'length', value: String(ref.length ?? byteLength) },
  ];
  return { ...header, data_location: 1, external_data };
}

/** Converts a {@link Graph} to a GraphProto (plain object for protobufjs). */
export function graphToProto(graph: Graph, context: ProtoEncodeContext = { inlineBytes: 0 }): GraphProto {
  const proto: GraphProto = {
    node: graph.nodes.map((node) => nodeToProto(node, context)),
    initializer: [
      ...[...graph.initializers].map(([name, tensor]) => initializerToProto(name, tensor, context)),
      ...graph.opaqueInitializers.values(),
    ],
    input: graph.inputs.map(valueInfoToProto),
    output: graph.outputs.map(valueInfoToProto),
    value_info: graph.valueInfo.map(valueInfoToProto),
  };
  if (graph.name) proto.name = graph.name;
  if (graph.docString) proto.doc_string = graph.docString;
  if (graph.sparseInitializers.length > 0) proto.sparse_initializer = graph.sparseInitializers;
  if (graph.quantizationAnnotations.length > 0) proto.quantization_annotation = graph.quantizationAnnotations;
  if (graph.metadataProps.length > 0) proto.metadata_props = graph.metadataProps;
  return proto;
}
