import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isOnnxDomain, isQdq, label } from '../quant-nodes.js';

/** ONNX QuantizeLinear/DequantizeLinear exist from opset 10; below it no runtime knows them. */
export const qdqOpsetRule: CompatibilityRule = {
  name: 'qdq-opset',
  description: 'ONNX QuantizeLinear/DequantizeLinear need opset 10',
  check(context) {
    if (context.opset >= 10) return [];
    const findings: RuleFinding[] = [];
    for (const { node } of context.nodes) {
      if (!isQdq(node) || !isOnnxDomain(node)) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} is an ONNX-domain op that exists from opset 10; the model imports opset ${context.opset}`,
        fix: 'upgrade the model to opset 10 or later (quantkit quantize does so in static mode), or use the com.microsoft QuantizeLinear/DequantizeLinear',
      });
    }
    return findings;
  },
};
