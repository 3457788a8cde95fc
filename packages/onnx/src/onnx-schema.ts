import protobuf from 'protobufjs/light.js';

/*
 * The ONNX protobuf schema (onnx.proto3, IR version 11), written out as a protobufjs JSON descriptor so nothing
 * parses .proto text at run time and the module works unchanged in browsers. Field numbers and types follow the
 * ONNX specification. Repeated numeric fields are declared packed (proto3 style) for writing; the decoder accepts
 * both packed and unpacked encodings, because protobuf parsers must and ONNX files in the wild use both.
 */

type FieldSpec = [id: number, type: string, rule?: 'repeated'];

interface TypeJson {
  fields: Record<string, { id: number; type: string; rule?: string; options?: Record<string, unknown> }>;
  oneofs?: Record<string, { oneof: string[] }>;
  nested?: Record<string, TypeJson | EnumJson>;
}

interface EnumJson {
  values: Record<string, number>;
}

const PACKABLE = new Set([
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
]);

function message(fields: Record<string, FieldSpec>, extra: Omit<TypeJson, 'fields'> = {}): TypeJson {
  const out: TypeJson['fields'] = {};
  for (const [name, [id, type, rule]] of Object.entries(fields)) {
    out[name] =
      rule === 'repeated'
        ? { id, type, rule, ...(PACKABLE.has(type) ? { options: { packed: true } } : {}) }
        : { id, type };
  }
  return { fields: out, ...extra };
}

/** ONNX `TensorProto.DataType` numbers. */
export const ONNX_DATA_TYPES = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;

/** ONNX `AttributeProto.AttributeType` numbers. */
export const ONNX_ATTRIBUTE_TYPES = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  SPARSE_TENSOR: 11,
  TYPE_PROTO: 13,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSORS: 12,
  TYPE_PROTOS: 14,
} as const;

const R = 'repeated' as const;

const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: message(
          {
            name: [1, 'string'],
            ref_attr_name: [21, 'string'],
            doc_string: [13, 'string'],
            type: [20, 'AttributeType'],
            f: [2, 'float'],
            i: [3, 'int64'],
            s: [4, 'bytes'],
            t: [5, 'TensorProto'],
            g: [6, 'GraphProto'],
            sparse_tensor: [22, 'SparseTensorProto'],
            tp: [14, 'TypeProto'],
            floats: [7, 'float', R],
            ints: [8, 'int64', R],
            strings: [9, 'bytes', R],
            tensors: [10, 'TensorProto', R],
            graphs: [11, 'GraphProto', R],
            sparse_tensors: [23, 'SparseTensorProto', R],
            type_protos: [15, 'TypeProto', R],
          },
          { nested: { AttributeType: { values: { ...ONNX_ATTRIBUTE_TYPES } } } },
        ),
        ValueInfoProto: message({
          name: [1, 'string'],
          type: [2, 'TypeProto'],
          doc_string: [3, 'string'],
          metadata_props: [4, 'StringStringEntryProto', R],
        }),
        NodeProto: message({
          input: [1, 'string', R],
          output: [2, 'string', R],
          name: [3, 'string'],
          op_type: [4, 'string'],
          domain: [7, 'string'],
          overload: [8, 'string'],
          attribute: [5, 'AttributeProto', R],
          doc_string: [6, 'string'],
          metadata_props: [9, 'StringStringEntryProto', R],
          device_configurations: [10, 'NodeDeviceConfigurationProto', R],
        }),
        IntIntListEntryProto: message({ key: [1, 'int64'], value: [2, 'int64', R] }),
        NodeDeviceConfigurationProto: message({
          configuration_id: [1, 'string'],
          sharding_spec: [2, 'ShardingSpecProto', R],
          pipeline_stage: [3, 'int32'],
        }),
        ShardingSpecProto: message({
          tensor_name: [1, 'string'],
          device: [2, 'int64', R],
          index_to_device_group_map: [3, 'IntIntListEntryProto', R],
          sharded_dim: [4, 'ShardedDimProto', R],
        }),
        ShardedDimProto: message({ axis: [1, 'int64'], simple_sharding: [2, 'SimpleShardedDimProto', R] }),
        SimpleShardedDimProto: message(
          { dim_value: [1, 'int64'], dim_param: [2, 'string'], num_shards: [3, 'int64'] },
          { oneofs: { dim: { oneof: ['dim_value', 'dim_param'] } } },
        ),
        TrainingInfoProto: message({
          initialization: [1, 'GraphProto'],
          algorithm: [2, 'GraphProto'],
          initialization_binding: [3, 'StringStringEntryProto', R],
          update_binding: [4, 'StringStringEntryProto', R],
        }),
        ModelProto: message({
          ir_version: [1, 'int64'],
          opset_import: [8, 'OperatorSetIdProto', R],
          producer_name: [2, 'string'],
          producer_version: [3, 'string'],
          domain: [4, 'string'],
          model_version: [5, 'int64'],
          doc_string: [6, 'string'],
          graph: [7, 'GraphProto'],
          metadata_props: [14, 'StringStringEntryProto', R],
          training_info: [20, 'TrainingInfoProto', R],
          functions: [25, 'FunctionProto', R],
          configuration: [26, 'DeviceConfigurationProto', R],
        }),
        DeviceConfigurationProto: message({
          name: [1, 'string'],
          num_devices: [2, 'int32'],
          device: [3, 'string', R],
        }),
        StringStringEntryProto: message({ key: [1, 'string'], value: [2, 'string'] }),
        TensorAnnotation: message({
          tensor_name: [1, 'string'],
          quant_parameter_tensor_names: [2, 'StringStringEntryProto', R],
        }),
        GraphProto: message({
          node: [1, 'NodeProto', R],
          name: [2, 'string'],
          initializer: [5, 'TensorProto', R],
          sparse_initializer: [15, 'SparseTensorProto', R],
          doc_string: [10, 'string'],
          input: [11, 'ValueInfoProto', R],
          output: [12, 'ValueInfoProto', R],
          value_info: [13, 'ValueInfoProto', R],
          quantization_annotation: [14, 'TensorAnnotation', R],
          metadata_props: [16, 'StringStringEntryProto', R],
        }),
        TensorProto: message(
          {
            dims: [1, 'int64', R],
            data_type: [2, 'int32'],
            segment: [3, 'Segment'],
            float_data: [4, 'float', R],
            int32_data: [5, 'int32', R],
            string_data: [6, 'bytes', R],
            int64_data: [7, 'int64', R],
            name: [8, 'string'],
            doc_string: [12, 'string'],
            raw_data: [9, 'bytes'],
            external_data: [13, 'StringStringEntryProto', R],
            data_location: [14, 'DataLocation'],
            double_data: [10, 'double', R],
            uint64_data: [11, 'uint64', R],
            metadata_props: [16, 'StringStringEntryProto', R],
          },
          {
            nested: {
              DataType: { values: { ...ONNX_DATA_TYPES } },
              Segment: message({ begin: [1, 'int64'], end: [2, 'int64'] }),
              DataLocation: { values: { DEFAULT: 0, EXTERNAL: 1 } },
            },
          },
        ),
        SparseTensorProto: message({
          values: [1, 'TensorProto'],
          indices: [2, 'TensorProto'],
          dims: [3, 'int64', R],
        }),
        TensorShapeProto: message(
          { dim: [1, 'Dimension', R] },
          {
            nested: {
              Dimension: message(
                { dim_value: [1, 'int64'], dim_param: [2, 'string'], denotation: [3, 'string'] },
                { oneofs: { value: { oneof: ['dim_value', 'dim_param'] } } },
              ),
            },
          },
        ),
        TypeProto: message(
          {
            tensor_type: [1, 'Tensor'],
            sequence_type: [4, 'Sequence'],
            map_type: [5, 'Map'],
            optional_type: [9, 'Optional'],
            sparse_tensor_type: [8, 'SparseTensor'],
            opaque_type: [7, 'Opaque'],
            denotation: [6, 'string'],
          },
          {
            oneofs: {
              value: {
                oneof: [
                  'tensor_type',
                  'sequence_type',
                  'map_type',
                  'optional_type',
                  'sparse_tensor_type',
                  'opaque_type',
                ],
              },
            },
            nested: {
              Tensor: message({ elem_type: [1, 'int32'], shape: [2, 'TensorShapeProto'] }),
              Sequence: message({ elem_type: [1, 'TypeProto'] }),
              Map: message({ key_type: [1, 'int32'], value_type: [2, 'TypeProto'] }),
              Optional: message({ elem_type: [1, 'TypeProto'] }),
              SparseTensor: message({ elem_type: [1, 'int32'], shape: [2, 'TensorShapeProto'] }),
              Opaque: message({ domain: [1, 'string'], name: [2, 'string'] }),
            },
          },
        ),
        OperatorSetIdProto: message({ domain: [1, 'string'], version: [2, 'int64'] }),
        FunctionProto: message({
          name: [1, 'string'],
          input: [4, 'string', R],
          output: [5, 'string', R],
          attribute: [6, 'string', R],
          attribute_proto: [11, 'AttributeProto', R],
          node: [7, 'NodeProto', R],
          doc_string: [8, 'string'],
          opset_import: [9, 'OperatorSetIdProto', R],
          domain: [10, 'string'],
          overload: [13, 'string'],
          value_info: [12, 'ValueInfoProto', R],
          metadata_props: [14, 'StringStringEntryProto', R],
        }),
      },
    },
  },
};

/** The protobufjs root holding the `onnx.*` message types. */
export const onnxRoot: protobuf.Root = protobuf.Root.fromJSON(descriptor);

function lookup(name: string): protobuf.Type {
  return onnxRoot.lookupType(`onnx.${name}`);
}

/** The protobufjs message types of the ONNX schema, for encoding and decoding. */
export const onnxTypes = {
  ModelProto: lookup('ModelProto'),
  GraphProto: lookup('GraphProto'),
  NodeProto: lookup('NodeProto'),
  AttributeProto: lookup('AttributeProto'),
  TensorProto: lookup('TensorProto'),
  SparseTensorProto: lookup('SparseTensorProto'),
  TensorShapeProto: lookup('TensorShapeProto'),
  TypeProto: lookup('TypeProto'),
  ValueInfoProto: lookup('ValueInfoProto'),
  OperatorSetIdProto: lookup('OperatorSetIdProto'),
  StringStringEntryProto: lookup('StringStringEntryProto'),
  TensorAnnotation: lookup('TensorAnnotation'),
  FunctionProto: lookup('FunctionProto'),
  TrainingInfoProto: lookup('TrainingInfoProto'),
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Plain-object shapes of the messages this package reads and writes. Decoded int64 fields arrive as a Long
// ({ low, high, unsigned }) when the `long` package is available and as a number otherwise; written int64 fields
// accept either.

/** An int64 as protobufjs hands it over: a number, or a Long-like pair of 32-bit halves. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean };

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

export interface TensorProto {
  dims?: Int64[];
  data_type?: number;
  segment?: { begin?: Int64; end?: Int64 } | null;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: Int64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryProto[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: Int64[];
  metadata_props?: StringStringEntryProto[];
}

export interface TensorShapeProto {
  dim?: { dim_value?: Int64; dim_param?: string; denotation?: string }[];
}

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: TensorShapeProto | null } | null;
  sequence_type?: unknown;
  map_type?: unknown;
  optional_type?: unknown;
  sparse_tensor_type?: unknown;
  opaque_type?: unknown;
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto | null;
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
}

export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto | null;
  g?: GraphProto | null;
  sparse_tensor?: unknown;
  tp?: unknown;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparse_tensors?: unknown[];
  type_protos?: unknown[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
  device_configurations?: unknown[];
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: unknown[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  quantization_annotation?: unknown[];
  metadata_props?: StringStringEntryProto[];
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto | null;
  metadata_props?: StringStringEntryProto[];
  training_info?: unknown[];
  functions?: unknown[];
  configuration?: unknown[];
}
