import type { AttributeProto, StringStringEntryProto } from './onnx-schema.js';
import type { Tensor } from '@quantkit/core';
import type { Graph } from './graph.js';

/**
 * A node attribute. `raw` keeps attributes quantkit does not model (sparse tensors, type protos, references to
 * function attributes, tensors of unsupported dtypes, non-UTF-8 strings) as the decoded AttributeProto, written
 * back unchanged.
 */
export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  | { type: 'raw'; value: AttributeProto };

export type AttributeType = Attribute['type'];

/** One operator application. Edit nodes that are in a graph through the Graph methods so its indexes stay right. */
export interface Node {
  name: string;
  opType: string;
  /** Operator set domain; '' is the default ONNX domain. */
  domain: string;
  /** Value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
  docString?: string | undefined;
  /** NodeProto.overload (calls of overloaded model-local functions). */
  overload?: string | undefined;
  metadataProps?: StringStringEntryProto[] | undefined;
}

/**
 * The subgraphs held by a node's attributes (If branches, Loop/Scan bodies).
 *
 * @example
 * for (const body of subgraphsOf(loopNode)) body.topologicalSort();
 */
export function subgraphsOf(node: Node): Graph[] {
  const graphs: Graph[] = [];
  for (const attribute of node.attributes.values()) {
    if (attribute.type === 'graph') graphs.push(attribute.value);
    else if (attribute.type === 'graphs') graphs.push(...attribute.value);
  }
  return graphs;
}

/**
 * A readable label for a node in error messages.
 *
 * @example
 * describeNode(node); // 'Conv node "conv1" (outputs "y")'
 */
export function describeNode(node: Node): string {
  const name = node.name ? ` "${node.name}"` : '';
  return `${node.opType} node${name} (outputs ${node.outputs.map((o) => `"${o}"`).join(', ') || 'none'})`;
}

/**
 * A deep copy of a node (tensors shared, subgraphs cloned).
 *
 * @example
 * const copy = cloneNode(node);
 * copy.inputs[0] = 'x_dq'; // node.inputs is unchanged
 */
export function cloneNode(node: Node): Node {
  const attributes = new Map<string, Attribute>();
  for (const [name, attribute] of node.attributes) {
    switch (attribute.type) {
      case 'graph':
        attributes.set(name, { type: 'graph', value: attribute.value.clone() });
        break;
      case 'graphs':
        attributes.set(name, { type: 'graphs', value: attribute.value.map((g) => g.clone()) });
        break;
      case 'floats':
      case 'ints':
      case 'strings':
        attributes.set(name, { type: attribute.type, value: [...attribute.value] } as Attribute);
        break;
      case 'tensors':
        attributes.set(name, { type: 'tensors', value: [...attribute.value] });
        break;
      default:
        attributes.set(name, { ...attribute });
    }
  }
  return { ...node, inputs: [...node.inputs], outputs: [...node.outputs], attributes };
}
