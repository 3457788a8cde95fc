import type { DType } from '@quantkit/core';
import { intAttribute } from './attributes.js';
import { isDefaultDomain } from './domain.js';
import { constantNodeValue, isConstantNode } from './constant-node.js';
import type { Graph } from './graph.js';
import type { Node } from './graph-node.js';
import { dtypeFromOnnx, isSupportedOnnxDataType } from './onnx-data-types.js';

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

/** Custom-domain operators whose outputs follow the type of their first input, keyed `domain:opType`. */
const FIRST_INPUT_CUSTOM_OPS = new Set(['com.microsoft:MatMulNBits']);
/** Custom-domain operators with fixed output types (quantkit's own dynamic and integer forms). */
const FIXED_CUSTOM_OPS: Readonly<Record<string, readonly DType[]>> = {
  'com.microsoft:DynamicQuantizeMatMul': ['float32'],
  'com.microsoft:MatMulIntegerToFloat': ['float32'],
};

/**
 * The element types of a body's outputs: declared, or else inferred with the enclosing graphs' types in scope.
 */
function bodyOutputTypes(body: Graph, scope: ReadonlyMap<string, DType>): (DType | undefined)[] {
  const inner = inferElementTypes(body, scope);
  return body.outputs.map((output) => output.dtype ?? inner.get(output.name));
}

/**
 * Element types of the outputs of a default-domain node, from the operator's type rules; undefined where the rule
 * is not known. `typeOf` gives the types of its inputs, `scope` every type known so far (for bodies).
 */
function outputTypes(
  node: Node,
  typeOf: (name: string) => DType | undefined,
  scope: ReadonlyMap<string, DType>,
): (DType | undefined)[] {
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
      // float32 unless the scale says otherwise (fp16 scales at opset 19+).
      return all(input(1) ?? 'float32');
    case 'QuantizeLinear':
      return all(
        input(2) ?? (node.attributes.has('output_dtype') ? dtypeAttribute(node, 'output_dtype') : 'uint8'),
      );
    case 'DynamicQuantizeLinear':
      return ['uint8', 'float32', 'uint8'];
    case 'MatMulInteger':
    case 'ConvInteger':
      return all('int32');
    case 'Where':
      return all(input(1));
    case 'OneHot':
      return all(input(2));
    case 'If': {
      // Both branches produce the outputs; the then branch says which types.
      const branch = graphAttribute(node, 'then_branch');
      return branch === undefined ? all(undefined) : bodyOutputTypes(branch, scope);
    }
    case 'Loop': {
      // Body outputs are (condition, loop-carried..., scan outputs...); the node's outputs skip the condition.
      const body = graphAttribute(node, 'body');
      return body === undefined ? all(undefined) : bodyOutputTypes(body, scope).slice(1);
    }
    case 'Scan': {
      // State outputs, then scan outputs, as the body's.
      const body = graphAttribute(node, 'body');
      return body === undefined ? all(undefined) : bodyOutputTypes(body, scope);
    }
    default: {
      // Most operators have one type variable T shared by the first input and the outputs.
      const first = node.inputs.find((name) => name !== '');
      return all(first === undefined ? undefined : typeOf(first));
    }
  }
}

/**
 * Element type of every value of `graph` (not of values inside its subgraphs) that can be known without running
 * it: graph inputs, initializers and value_info declarations, then node outputs by the operators' type rules, in
 * node order (sort the graph first); If, Loop and Scan take their bodies' output types, inferred inside the body
 * where not declared. Declarations win over inference. Values of unknown type (a custom operator's outputs) are
 * absent from the map. For a subgraph, `outer` holds the types of the enclosing graphs' values it may read.
 *
 * The planner needs this because shape arithmetic (Shape -> Gather -> Concat -> Reshape) runs through the same op
 * types as float data, and int64 tensors must never get float Q/DQ; the fp16 converter, to cast only float values.
 *
 * @example
 * const types = inferElementTypes(model.graph);
 * types.get('shape_out'); // 'int64'
 */
export function inferElementTypes(
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
    const key = `${node.domain}:${node.opType}`;
    let inferred: readonly (DType | undefined)[];
    if (isDefaultDomain(node.domain)) inferred = outputTypes(node, typeOf, types);
    else if (FIRST_INPUT_CUSTOM_OPS.has(key)) {
      const first = node.inputs[0];
      inferred = node.outputs.map(() => (first ? typeOf(first) : undefined));
    } else inferred = FIXED_CUSTOM_OPS[key] ?? [];
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
