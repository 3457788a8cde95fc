import type { Tensor } from '@quantkit/core';
import { isDefaultDomain } from './domain.js';
import type { Node } from './graph-node.js';
import { numberToInt64 } from './int64.js';

/**
 * True for an ONNX `Constant` node.
 *
 * @example
 * const constants = graph.nodes.filter(isConstantNode);
 */
export function isConstantNode(node: Node): boolean {
  return node.opType === 'Constant' && isDefaultDomain(node.domain);
}

/**
 * The tensor a Constant node produces, or undefined for sparse/string values.
 *
 * @example
 * const value = isConstantNode(node) ? constantNodeValue(node) : undefined;
 */
export function constantNodeValue(node: Node): Tensor | undefined {
  for (const [name, attribute] of node.attributes) {
    switch (name) {
      case 'value':
        return attribute.type === 'tensor' ? attribute.value : undefined;
      case 'value_float':
        return attribute.type === 'float'
          ? { dtype: 'float32', shape: [], data: Float32Array.of(attribute.value) }
          : undefined;
      case 'value_floats':
        return attribute.type === 'floats'
          ? { dtype: 'float32', shape: [attribute.value.length], data: Float32Array.from(attribute.value) }
          : undefined;
      case 'value_int':
        return attribute.type === 'int'
          ? { dtype: 'int64', shape: [], data: BigInt64Array.of(numberToInt64(attribute.value)) }
          : undefined;
      case 'value_ints':
        return attribute.type === 'ints'
          ? {
              dtype: 'int64',
              shape: [attribute.value.length],
              data: BigInt64Array.from(attribute.value, numberToInt64),
            }
          : undefined;
      default:
    }
  }
  return undefined;
}
