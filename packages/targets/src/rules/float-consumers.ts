import type { Node } from '@quantkit/onnx';
import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isDequantizeLinear, isOnnxDomain, isQdq, isQuantizeLinear, label } from '../quant-nodes.js';

/**
 * A node fed by DequantizeLinear whose op the target does not run quantized, where that Q/DQ serves nothing else:
 * the value comes from a float op and goes only to float ops, so the pair costs time and accuracy for nothing.
 * A DequantizeLinear at the edge of a quantized region (its Q quantizes an integer op's output, or another reader
 * runs quantized) is how a float op reads an integer result, and is not flagged.
 */
export const floatConsumersRule: CompatibilityRule = {
  name: 'float-consumers',
  description: 'ops fed by DequantizeLinear are ops the target runs quantized',
  check(context) {
    const { target } = context;
    const quantized = new Set(target.quantizedOps);
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (isQdq(node)) continue;
      const key = isOnnxDomain(node) ? node.opType : `${node.domain}.${node.opType}`;
      if (quantized.has(key)) continue;
      const runsQuantized = (other: Node) =>
        quantized.has(isOnnxDomain(other) ? other.opType : `${other.domain}.${other.opType}`);
      const fed = node.inputs.find((input) => {
        const dequantize = input === '' ? undefined : graph.producer(input);
        if (dequantize === undefined || !isDequantizeLinear(dequantize)) return false;
        if (graph.consumers(input).some((reader) => reader !== node && runsQuantized(reader))) return false;
        // Codes computed from constants (a weight unpacked from bytes) are a weight, not an activation's Q/DQ.
        const quantize = graph.producer(dequantize.inputs[0] ?? '');
        if (quantize === undefined || !isQuantizeLinear(quantize)) return false;
        const source = graph.producer(quantize.inputs[0] ?? '');
        return source !== undefined && !isQdq(source) && !runsQuantized(source);
      });
      if (fed === undefined) continue;
      findings.push({
        severity: 'warning',
        node: node.name,
        message: `${label(node)} reads dequantized "${fed}", but ${target.name} does not run ${key} quantized; it computes in float behind the Q/DQ`,
        fix: [
          'keep it float (',
          { option: 'exclude', value: node.name || key },
          `), or choose a target that runs ${key} quantized`,
        ],
      });
    }
    return findings;
  },
};
