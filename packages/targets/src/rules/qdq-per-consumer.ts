import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isDequantizeLinear, label } from '../quant-nodes.js';

/**
 * TensorRT explicit quantization fuses a QuantizeLinear/DequantizeLinear pair into the one layer behind it; a
 * pair shared by several consumers leaves the others reading a float tensor (or breaks the fusion). Weights are
 * exempt: a constant's DequantizeLinear is folded into each reader.
 */
export const qdqPerConsumerRule: CompatibilityRule = {
  name: 'qdq-per-consumer',
  description: 'each consumer of a quantized activation has its own Q/DQ pair (TensorRT)',
  check(context) {
    if (context.target.qdqPerConsumer !== true) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      const input = node.inputs[0];
      const output = node.outputs[0];
      if (!isDequantizeLinear(node) || !input || !output || graph.getConstant(input) !== undefined) continue;
      const consumers = graph.consumers(output);
      if (consumers.length < 2) continue;
      findings.push({
        severity: 'warning',
        node: node.name,
        message: `${label(node)} feeds ${consumers.length} consumers (${consumers.map(label).join(', ')}); ${context.target.name} wants a dedicated Q/DQ pair per consumer`,
        fix: [
          're-quantize with ',
          { option: 'target', value: context.target.name },
          ' so each consumer gets its own pair',
        ],
      });
    }
    return findings;
  },
};
