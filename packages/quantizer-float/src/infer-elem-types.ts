import type { DType } from '@quantkit/core';
import {
  type Graph,
  type Node,
  constantNodeValue,
  dtypeFromOnnx,
  intAttribute,
  isConstantNode,
  isDefaultDomain,
  isSupportedOnnxDataType,
} from '@quantkit/onnx';

export { isDefaultDomain };

/** The dtype an attribute holding a TensorProto.DataType number names, if quantkit models it. */
function dtypeAttribute(node: Node, name: string): DType | undefined {
  const code = intAttribute(node, name);
  return code !== undefined && isSupportedOnnxDataType(code) ? dtypeFromOnnx(code) : undefined;
}

function graphAttribute(node: Node, name: string): Graph | undefined {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'graph' ? attribute.value : undefined;
}

const BOOL_OPS = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
]);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
/** Ops producing sequences or optionals, which have no tensor element type. */
const NON_TENSOR_OPS = new Set([
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceErase',
  'SequenceMap',
  'SplitToSequence',
  'Optional',
]);
/** Ops whose second output holds int64 indices while the first follows the data type. */
const INDEX_SECOND_OUTPUT_OPS = new Set(['TopK', 'MaxPool']);

/**
 * Element types of the outputs of a default-domain node, from the operator's type rules; undefined where the rule
 * is not known. `typeOf` gives the types of its inputs.
 */
function outputTypes(node: Node, typeOf: (name: string) => DType | undefined): (DType | undefined)[] {
  const input = (i: number): DType | undefined => {
    const name = node.inputs[i];
    return name === undefined || name === '' ? undefined : typeOf(name);
  };
  const all = (dtype: DType | undefined): (DType | undefined)[] => node.outputs.map(() => dtype);
  const op = node.opType;
  if (BOOL_OPS.has(op)) return all('bool');
  if (INT64_OPS.has(op)) return all('int64');
  if (NON_TENSOR_OPS.has(op)) return all(undefined);
  if (INDEX_SECOND_OUTPUT_OPS.has(op)) return node.outputs.map((_, i) => (i === 0 ? input(0) : 'int64'));
  switch (op) {
    case 'Constant':
      return all(constantNodeValue(node)?.dtype);
    case 'Cast':
      return all(dtypeAttribute(node, 'to'));
    case 'CastLike':
      return all(input(1));
    case 'ConstantOfShape': {
      const value = node.attributes.get('value');
      return all(value?.type === 'tensor' ? value.value.dtype : value === undefined ? 'float32' : undefined);
    }
    case 'EyeLike':
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'Bernoulli':
      return all(node.attributes.has('dtype') ? dtypeAttribute(node, 'dtype') : input(0));
    case 'RandomNormal':
    case 'RandomUniform':
      return all(node.attributes.has('dtype') ? dtypeAttribute(node, 'dtype') : 'float32');
    case 'Multinomial':
      return all(node.attributes.has('dtype') ? dtypeAttribute(node, 'dtype') : 'int32');
    case 'Dropout':
      return node.outputs.map((_, i) => (i === 0 ? input(0) : 'bool'));
    case 'Unique':
      return node.outputs.map((_, i) => (i === 0 ? input(0) : 'int64'));
    case 'DequantizeLinear':
      return all(input(1));
    case 'QuantizeLinear':
      return all(
        input(2) ?? (node.attributes.has('output_dtype') ? dtypeAttribute(node, 'output_dtype') : 'uint8'),
      );
    case 'DynamicQuantizeLinear':
      return ['uint8', 'float32', 'uint8'];
    case 'Where':
      return all(input(1));
    case 'OneHot':
      return all(input(2));
    case 'If': {
      const branch = graphAttribute(node, 'then_branch');
      return node.outputs.map((_, i) => branch?.outputs[i]?.dtype);
    }
    case 'Loop': {
      // Body outputs are (condition, loop-carried..., scan outputs...), the node's outputs skip the condition.
      const body = graphAttribute(node, 'body');
      return node.outputs.map((_, i) => body?.outputs[i + 1]?.dtype);
    }
    case 'Scan': {
      const body = graphAttribute(node, 'body');
      return node.outputs.map((_, i) => body?.outputs[i]?.dtype);
    }
    default: {
      // Most operators have one type variable T shared by the first input and the outputs.
      const first = node.inputs.find((name) => name !== '');
      return all(first === undefined ? undefined : typeOf(first));
    }
  }
}

/** Custom-domain operators whose outputs follow the type of their first input, keyed `domain:opType`. */
const FIRST_INPUT_CUSTOM_OPS = new Set(['com.microsoft:MatMulNBits']);

/**
 * Element type of every value of `graph` (not of its subgraphs) that can be known: graph inputs, initializers and
 * value_info declarations, then node outputs by the operators' type rules, in node order (sort the graph first).
 * Declarations win over inference. Values of unknown type are absent from the map. For a subgraph, `outer` holds the
 * types of the enclosing graphs' values it may read.
 */
export function inferElemTypes(
  graph: Graph,
  outer: ReadonlyMap<string, DType> = new Map(),
): Map<string, DType> {
  const types = new Map<string, DType>(outer);
  const declared = new Map<string, DType>();
  for (const list of [graph.inputs, graph.outputs, graph.valueInfo]) {
    for (const info of list)
      if (info.dtype !== undefined && !declared.has(info.name)) declared.set(info.name, info.dtype);
  }
  for (const input of graph.inputs) if (input.dtype !== undefined) types.set(input.name, input.dtype);
  for (const [name, tensor] of graph.initializers) if (!types.has(name)) types.set(name, tensor.dtype);
  const typeOf = (name: string): DType | undefined => types.get(name) ?? declared.get(name);
  for (const node of graph.nodes) {
    let inferred: (DType | undefined)[];
    if (isDefaultDomain(node.domain)) inferred = outputTypes(node, typeOf);
    else if (FIRST_INPUT_CUSTOM_OPS.has(`${node.domain}:${node.opType}`)) {
      const first = node.inputs[0];
      inferred = node.outputs.map(() => (first ? typeOf(first) : undefined));
    } else inferred = [];
    node.outputs.forEach((output, i) => {
      if (output === '') return;
      const dtype = declared.get(output) ?? inferred[i];
      if (dtype !== undefined) types.set(output, dtype);
    });
  }
  // Constant nodes are looked up directly too, in case the graph was not sorted.
  for (const node of graph.nodes) {
    if (!isConstantNode(node)) continue;
    const dtype = constantNodeValue(node)?.dtype;
    const output = node.outputs[0];
    if (dtype !== undefined && output) types.set(output, dtype);
  }
  return types;
}
