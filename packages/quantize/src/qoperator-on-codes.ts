import type { Node } from '@quantkit/onnx';
import { sameQuantization } from './qoperator-operands.js';
import { type Rule, type RuleContext, activations, makeNode, quantizedResult } from './qoperator-rule.js';

/**
 * Ops that only move or select values: on codes with the input's scale and zero point they compute exactly
 * what DQ -> op -> Q computes, so the pair is dropped and the op runs on the 8-bit tensor.
 *
 * @example
 * const reshape = onCodes();
 * const maxPool = onCodes((_, { opset }) => (opset < 12 ? 'MaxPool takes 8-bit input from opset 12' : undefined));
 */
export function onCodes(check?: (node: Node, context: RuleContext) => string | undefined): Rule {
  return (context, node) => {
    const { graph } = context;
    const problem = check?.(node, context);
    if (problem !== undefined) return problem;
    const input = activations(graph, [node.inputs[0]]);
    if (typeof input === 'string') return input;
    const x = input[0]!;
    const y = quantizedResult(graph, node);
    if (typeof y === 'string') return y;
    if (!sameQuantization(x, y)) {
      return `input and output quantization differ (scale ${x.scales[0]} / ${y.scales[0]}, zero point ${x.zeroPoints[0]} / ${y.zeroPoints[0]})`;
    }
    const inputs = [x.codes, ...node.inputs.slice(1)];
    return {
      to: `${node.opType} on ${x.dtype}`,
      remove: [node, y.node],
      add: [
        makeNode(
          node,
          node.opType,
          node.domain,
          inputs,
          [y.codes, ...node.outputs.slice(1)],
          new Map(node.attributes),
        ),
      ],
      initializers: [],
    };
  };
}
