import { type Attribute, type Node, intAttribute, intsAttribute } from '@quantkit/onnx';
import { MS_DOMAIN } from './emitter.js';
import type { QuantizedValue } from './qoperator-operands.js';
import {
  type Rule,
  type RuleContext,
  activations,
  copyAttributes,
  makeNode,
  operand,
  quantizedResult,
  sameType,
} from './qoperator-rule.js';

/**
 * QLinearAdd / QLinearMul: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point.
 *
 * @example
 * const add = binaryRule('QLinearAdd');
 */
export function binaryRule(opType: 'QLinearAdd' | 'QLinearMul'): Rule {
  return ({ graph }, node) => {
    const inputs = activations(graph, [node.inputs[0], node.inputs[1]]);
    if (typeof inputs === 'string') return inputs;
    const y = quantizedResult(graph, node);
    if (typeof y === 'string') return y;
    const mixed = sameType([...inputs, y], 'inputs and output');
    if (mixed !== undefined) return mixed;
    const [a, b] = inputs as [QuantizedValue, QuantizedValue];
    return {
      to: opType,
      remove: [node, y.node],
      add: [
        makeNode(node, opType, MS_DOMAIN, [...operand(a), ...operand(b), y.scale, y.zeroPoint], [y.codes]),
      ],
      initializers: [],
    };
  };
}

/**
 * The one-input QLinear forms: X, X_scale, X_zero_point, Y_scale, Y_zero_point.
 *
 * @example
 * const sigmoid = unaryRule('QLinearSigmoid', () => new Map());
 */
export function unaryRule(
  opType: string,
  attributes: (node: Node, context: RuleContext) => Map<string, Attribute> | string,
  check?: (input: QuantizedValue, output: QuantizedValue) => string | undefined,
): Rule {
  return (context, node) => {
    const { graph } = context;
    const input = activations(graph, [node.inputs[0]]);
    if (typeof input === 'string') return input;
    const x = input[0]!;
    const y = quantizedResult(graph, node);
    if (typeof y === 'string') return y;
    const problem = sameType([x, y], 'input and output') ?? check?.(x, y);
    if (problem !== undefined) return problem;
    const attributeMap = attributes(node, context);
    if (typeof attributeMap === 'string') return attributeMap;
    return {
      to: opType,
      remove: [node, y.node],
      add: [
        makeNode(node, opType, MS_DOMAIN, [...operand(x), y.scale, y.zeroPoint], [y.codes], attributeMap),
      ],
      initializers: [],
    };
  };
}

/** AveragePool -> QLinearAveragePool (com.microsoft), which has no dilations. */
export const averagePoolRule = unaryRule('QLinearAveragePool', (node) => {
  if (intsAttribute(node, 'dilations')?.some((d) => d !== 1)) {
    return 'AveragePool with dilations has no QLinearAveragePool form';
  }
  const attributes = copyAttributes(node, [
    'auto_pad',
    'ceil_mode',
    'count_include_pad',
    'kernel_shape',
    'pads',
    'strides',
  ]);
  attributes.set('channels_last', { type: 'int', value: 0 });
  return attributes;
});
/** Softmax -> QLinearSoftmax (com.microsoft), uint8 output only. */
export const softmaxRule = unaryRule(
  'QLinearSoftmax',
  (node, { opset }) => {
    // Softmax's default axis changed from 1 to -1 at opset 13, and before 13 it coerced to 2-D; QLinearSoftmax's
    // required `opset` attribute picks which meaning its `axis` has.
    const axis = intAttribute(node, 'axis', opset < 13 ? 1 : -1);
    return new Map<string, Attribute>([
      ['axis', { type: 'int', value: axis }],
      ['opset', { type: 'int', value: opset }],
    ]);
  },
  // The int8 kernel wraps codes above 127 instead of saturating (qlinear_softmax.cc); uint8 saturates at 255.
  (_, output) =>
    output.dtype === 'uint8' ? undefined : 'onnxruntime QLinearSoftmax does not saturate int8 output',
);

/** Concat -> QLinearConcat (com.microsoft). */
export const concatRule: Rule = ({ graph }, node) => {
  const inputs = activations(graph, node.inputs);
  if (typeof inputs === 'string') return inputs;
  const y = quantizedResult(graph, node);
  if (typeof y === 'string') return y;
  const mixed = sameType([...inputs, y], 'inputs and output');
  if (mixed !== undefined) return mixed;
  const axis = intAttribute(node, 'axis');
  if (axis === undefined) return 'Concat has no axis attribute';
  // QLinearConcat: Y_scale, Y_zero_point, then (tensor, scale, zero point) for each input.
  return {
    to: 'QLinearConcat',
    remove: [node, y.node],
    add: [
      makeNode(
        node,
        'QLinearConcat',
        MS_DOMAIN,
        [y.scale, y.zeroPoint, ...inputs.flatMap(operand)],
        [y.codes],
        new Map([['axis', { type: 'int', value: axis }]]),
      ),
    ],
    initializers: [],
  };
};
