import type { DType } from '@quantkit/core';
import { type Graph, type Node, intAttribute, subgraphsOf } from '@quantkit/onnx';

// ONNX TensorProto.DataType numbers for Cast's `to` attribute; only the ones a float model routes through.
const castTargets: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  16: 'bfloat16',
};

const alwaysInt64 = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const alwaysBool = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);

/** The element types of a subgraph's outputs, inferred with the enclosing graph's types in scope. */
function bodyOutputTypes(body: Graph, outer: ReadonlyMap<string, DType>): (DType | undefined)[] {
  const types = inferDTypes(body, outer);
  return body.outputs.map((output) => output.dtype ?? types.get(output.name));
}

function outputDTypes(
  node: Node,
  dtypeOf: (name: string) => DType | undefined,
  scope: ReadonlyMap<string, DType>,
): (DType | undefined)[] {
  const first = node.inputs[0] === undefined || node.inputs[0] === '' ? undefined : dtypeOf(node.inputs[0]);
  const { opType } = node;
  const [body] = subgraphsOf(node);
  if (body !== undefined && (opType === 'If' || opType === 'Scan')) {
    // If: both branches produce the outputs (the first says); Scan: state then scan outputs, as the body's.
    return bodyOutputTypes(body, scope);
  }
  if (body !== undefined && opType === 'Loop') {
    // The body's outputs are (cond, carried..., scanned...); the Loop's are (carried..., scanned...).
    return bodyOutputTypes(body, scope).slice(1);
  }
  if (alwaysInt64.has(opType)) return ['int64' as DType];
  if (alwaysBool.has(opType)) return ['bool'];
  switch (opType) {
    case 'Cast': {
      const to = intAttribute(node, 'to');
      return [to === undefined ? undefined : castTargets[to]];
    }
    case 'Constant': {
      const value = node.attributes.get('value');
      if (value?.type === 'tensor') return [value.value.dtype];
      if (node.attributes.has('value_int') || node.attributes.has('value_ints')) return ['int64'];
      return ['float32'];
    }
    case 'ConstantOfShape': {
      const value = node.attributes.get('value');
      return [value?.type === 'tensor' ? value.value.dtype : 'float32'];
    }
    case 'TopK':
      return [first, 'int64'];
    case 'MaxPool':
      return [first, 'int64'];
    case 'Where':
      return [node.inputs[1] === undefined ? undefined : dtypeOf(node.inputs[1])];
    case 'DequantizeLinear':
      return ['float32'];
    case 'QuantizeLinear':
      return [node.inputs[2] ? dtypeOf(node.inputs[2]) : 'uint8'];
    case 'DynamicQuantizeLinear':
      return ['uint8', 'float32', 'uint8'];
    case 'MatMulInteger':
    case 'ConvInteger':
      return ['int32'];
    case 'Range':
    case 'Gather':
    case 'GatherElements':
    case 'GatherND':
      return [first];
    default:
      // Most operators produce the element type of their first input (arithmetic, shape ops, activations).
      return node.outputs.map(() => first);
  }
}

/**
 * Element type of every value in the graph that can be told without running it: declared types first (inputs,
 * outputs, value_info, initializers), then propagated through the (topologically sorted) nodes by each operator's
 * type rule; If, Loop and Scan take their bodies' output types. `outer` holds the types of enclosing graphs' values,
 * for a subgraph.
 * The planner needs this because shape arithmetic (Shape -> Gather -> Concat -> Reshape) runs through the same
 * op types as float data, and int64 tensors must never get float Q/DQ.
 */
export function inferDTypes(graph: Graph, outer: ReadonlyMap<string, DType> = new Map()): Map<string, DType> {
  const types = new Map<string, DType>(outer);
  for (const [name, tensor] of graph.initializers) types.set(name, tensor.dtype);
  for (const info of [...graph.inputs, ...graph.valueInfo, ...graph.outputs]) {
    if (info.dtype !== undefined) types.set(info.name, info.dtype);
  }
  const dtypeOf = (name: string) => types.get(name);
  for (const node of graph.nodes) {
    const inferred = outputDTypes(node, dtypeOf, types);
    node.outputs.forEach((output, i) => {
      if (output === '' || types.has(output)) return;
      const dtype = inferred[i];
      if (dtype !== undefined) types.set(output, dtype);
    });
  }
  return types;
}
