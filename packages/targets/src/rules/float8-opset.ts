import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { codeType, isOnnxDomain, isQdq, label } from '../quant-nodes.js';

/** float8 codes in QuantizeLinear/DequantizeLinear (and float8 types at all) arrive with opset 19. */
export const float8OpsetRule: CompatibilityRule = {
  name: 'float8-opset',
  description: 'float8 QuantizeLinear/DequantizeLinear need opset 19',
  check(context) {
    if (context.opset >= 19) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isQdq(node) || !isOnnxDomain(node)) continue;
      const dtype = codeType(graph, node);
      if (dtype !== 'float8e4m3fn' && dtype !== 'float8e5m2') continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} uses ${dtype} codes, which ONNX accepts from opset 19; the model imports opset ${context.opset}`,
        fix: 'raise the model to opset 19, or quantize to int8 instead of float8',
      });
    }
    return findings;
  },
};
