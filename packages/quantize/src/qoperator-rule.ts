import type { Tensor } from '@quantkit/core';
import type { Attribute, Graph, Node } from '@quantkit/onnx';
import {
  type QuantizedValue,
  dequantizedInput,
  perTensorInt8,
  quantizedOutput,
} from './qoperator-operands.js';

/** What a rule asks the driver to do: remove the float op (and its output's Q), add the QLinear form. */
export interface Rewrite {
  /** The op type written, for the report ("QLinearConv", "MaxPool on int8 codes", ...). */
  readonly to: string;
  readonly remove: readonly Node[];
  readonly add: readonly Node[];
  readonly initializers: readonly {
    readonly base: string;
    readonly tensor: Tensor;
    readonly slot: [node: number, input: number];
  }[];
}

export interface RuleContext {
  readonly graph: Graph;
  /** The model's ai.onnx opset. */
  readonly opset: number;
}

/** A rule returns the rewrite, or the reason the node has to stay in QDQ form. */
export type Rule = (context: RuleContext, node: Node) => Rewrite | string;

/**
 * The QLinear node that replaces `template`: its name, with the given op type, domain, inputs, outputs and
 * attributes.
 *
 * @example
 * makeNode(node, 'QLinearMatMul', '', [...operand(a), ...operand(b), y.scale, y.zeroPoint], [y.codes]);
 */
export function makeNode(
  template: Node,
  opType: string,
  domain: string,
  inputs: string[],
  outputs: string[],
  attributes: Map<string, Attribute> = new Map(),
): Node {
  return { name: template.name, opType, domain, inputs, outputs, attributes };
}

/**
 * A quantized value as the three inputs QLinear ops take for it: codes, scale, zero point.
 *
 * @example
 * const inputs = [...operand(x), ...operand(w)];
 */
export function operand(value: QuantizedValue): string[] {
  return [value.codes, value.scale, value.zeroPoint];
}

/**
 * Reads every listed input as a per-tensor 8-bit DQ output; the first failure's reason otherwise.
 *
 * @example
 * const inputs = activations(graph, [node.inputs[0], node.inputs[1]]);
 * if (typeof inputs === 'string') return inputs; // the rule's reason to keep the node in QDQ form
 */
export function activations(graph: Graph, names: readonly (string | undefined)[]): QuantizedValue[] | string {
  const values: QuantizedValue[] = [];
  for (const name of names) {
    const value = dequantizedInput(graph, name);
    if (typeof value === 'string') return value;
    const problem = perTensorInt8(value, 'input');
    if (problem !== undefined) return problem;
    values.push(value);
  }
  return values;
}

/**
 * The node's first output as a per-tensor 8-bit QuantizeLinear output; the reason it is not otherwise.
 *
 * @example
 * const y = quantizedResult(graph, node);
 * if (typeof y === 'string') return y;
 */
export function quantizedResult(graph: Graph, node: Node): QuantizedValue | string {
  const output = quantizedOutput(graph, node.outputs[0]);
  if (typeof output === 'string') return output;
  return perTensorInt8(output, 'output') ?? output;
}

/**
 * The reason the values do not share one 8-bit type, which the kernels need; undefined when they do.
 *
 * @example
 * const mixed = sameType([...inputs, y], 'inputs and output');
 */
export function sameType(values: readonly QuantizedValue[], what: string): string | undefined {
  const types = new Set(values.map((value) => value.dtype));
  return types.size > 1
    ? `${what} mix ${[...types].join(' and ')}; the kernel needs one 8-bit type`
    : undefined;
}

/**
 * The listed attributes of `node` that it has, for a QLinear form that takes the same ones.
 *
 * @example
 * copyAttributes(node, ['alpha']); // QLinearLeakyRelu
 */
export function copyAttributes(node: Node, names: readonly string[]): Map<string, Attribute> {
  const attributes = new Map<string, Attribute>();
  for (const name of names) {
    const attribute = node.attributes.get(name);
    if (attribute !== undefined) attributes.set(name, attribute);
  }
  return attributes;
}
