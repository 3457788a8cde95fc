import {
  type KernelAttributeValue,
  type KernelAttributes,
  type KernelSubgraph,
  QuantError,
  type Tensor,
} from '@quantkit/core';
import type { Attribute, Graph, Node } from '@quantkit/onnx';

/**
 * The typed attribute reader a kernel gets for `node`. Graph attributes become the handles `subgraph` makes for
 * them (the executor plans each subgraph once and maps its handle back).
 */
export function kernelAttributes(
  node: Node,
  label: string,
  subgraph: (graph: Graph) => KernelSubgraph,
): KernelAttributes {
  const values = new Map<string, KernelAttributeValue>();
  for (const [name, attribute] of node.attributes) {
    const value = toKernelValue(attribute, subgraph);
    if (value !== undefined) values.set(name, value);
  }

  function read<T extends KernelAttributeValue['type']>(
    name: string,
    type: T,
  ): Extract<KernelAttributeValue, { type: T }> | undefined {
    const value = values.get(name);
    if (value === undefined) return undefined;
    if (value.type !== type) {
      throw new QuantError(
        'INVALID_MODEL',
        `${label} has attribute "${name}" of type ${value.type}; expected ${type}`,
      );
    }
    return value as Extract<KernelAttributeValue, { type: T }>;
  }
  function missing(name: string, type: string): never {
    throw new QuantError('INVALID_MODEL', `${label} lacks its required ${type} attribute "${name}"`);
  }

  return {
    has: (name) => values.has(name),
    get: (name) => values.get(name),
    int: (name, fallback) => read(name, 'int')?.value ?? fallback ?? missing(name, 'int'),
    ints: (name, fallback) => read(name, 'ints')?.value ?? fallback ?? missing(name, 'ints'),
    // A float attribute written as an int by a careless exporter still reads as its value.
    float: (name, fallback) => {
      const value = values.get(name);
      if (value?.type === 'int') return value.value;
      return read(name, 'float')?.value ?? fallback ?? missing(name, 'float');
    },
    floats: (name, fallback) => read(name, 'floats')?.value ?? fallback ?? missing(name, 'floats'),
    string: (name, fallback) => read(name, 'string')?.value ?? fallback ?? missing(name, 'string'),
    tensor: (name) => read(name, 'tensor')?.value ?? missing(name, 'tensor'),
    graph: (name) => read(name, 'graph')?.value ?? missing(name, 'graph'),
  };
}

function toKernelValue(
  attribute: Attribute,
  subgraph: (graph: Graph) => KernelSubgraph,
): KernelAttributeValue | undefined {
  switch (attribute.type) {
    case 'graph':
      return { type: 'graph', value: subgraph(attribute.value) };
    case 'graphs':
    case 'raw':
      return undefined;
    case 'tensors':
      return { type: 'tensors', value: attribute.value as readonly Tensor[] };
    default:
      return attribute;
  }
}
