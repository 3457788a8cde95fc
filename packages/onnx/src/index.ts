export {
  floatAttribute,
  floatsAttribute,
  intAttribute,
  intsAttribute,
  stringAttribute,
} from './attributes.js';
export { exposeOutputs, exposeOutputsInBytes } from './expose-outputs.js';
export { divideByConstantAsMul } from './divide-by-constant.js';
export { foldBatchNorm } from './fold-batch-norm.js';
export { type GraphInit, Graph } from './graph.js';
export {
  type Attribute,
  type AttributeType,
  type Node,
  cloneNode,
  describeNode,
  subgraphsOf,
} from './graph-node.js';
export { constantNodeValue, isConstantNode } from './constant-node.js';
export type { Dim, ValueInfo, ValueType } from './value-info.js';
export {
  type ExternalDataWriter,
  type ProtoDecodeContext,
  type ProtoEncodeContext,
  attributeFromProto,
  attributeToProto,
  graphFromProto,
  graphToProto,
  nodeFromProto,
  nodeToProto,
  typeFromProto,
  typeToProto,
  valueInfoFromProto,
  valueInfoToProto,
} from './graph-proto.js';
export { int64ToBigInt, int64ToNumber, int64ToWire, numberToInt64 } from './int64.js';
export {
  type DecodeModelOptions,
  type EncodeModelOptions,
  type Model,
  type OpsetImport,
  cloneModel,
  decodeModel,
  encodeModel,
  encodedSize,
  hasPagedTensors,
  opsetVersion,
  setOpsetVersion,
  validateModel,
} from './model.js';
export { isDefaultDomain, normalizeDomain } from './domain.js';
export { BUILTIN_OP_DESCRIPTORS, type DataInputs, type OpDescriptor } from './op-descriptors.js';
export { BUILTIN_OPS, type OpRegistry, createOpRegistry, weightChannelAxis } from './op-registry.js';
export { inferElementTypes } from './infer-element-types.js';
export {
  type AttributeInit,
  type CreateModelOptions,
  type NodeInit,
  type ValueInfoInit,
  createModel,
  createNode,
  createValueInfo,
  irVersionForOpset,
  toAttribute,
} from './model-builder.js';
export {
  type AttributeProto,
  type GraphProto,
  type Int64,
  type ModelProto,
  type NodeProto,
  type OperatorSetIdProto,
  type StringStringEntryProto,
  type TensorProto,
  type TensorShapeProto,
  type TypeProto,
  type ValueInfoProto,
  ONNX_ATTRIBUTE_TYPES,
  ONNX_DATA_TYPES,
  onnxRoot,
  onnxTypes,
} from './onnx-schema.js';
export { isPagedTensor, pagedTensor, setPagedTensorBudget } from './paged-tensor.js';
export {
  dtypeFromOnnx,
  isOnnxDataType,
  isSupportedOnnxDataType,
  onnxDataTypeName,
  onnxFromDtype,
  rawByteLength,
} from './onnx-data-types.js';
export {
  type ExternalDataLoader,
  type ExternalDataPager,
  type ExternalDataRef,
  type TensorFromProtoOptions,
  decodeTensor,
  encodeTensor,
  externalDataRef,
  shapeFromProto,
  tensorBytes,
  tensorFromProto,
  tensorHeaderProto,
  tensorToProto,
} from './tensor-proto.js';
export {
  AUTO_PADS,
  type AutoPad,
  type WindowAttributes,
  type WindowGeometry,
  windowGeometry,
} from './window-geometry.js';
