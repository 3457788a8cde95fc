import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isOnnxDomain, isPerAxis, isQdq, label, scaleCount } from '../quant-nodes.js';

/**
 * ONNX QuantizeLinear/DequantizeLinear take a per-axis scale (and the `axis` attribute) from opset 13. Before it,
 * onnxruntime rejects the `axis` attribute as unknown, and a 1-D scale without it is outside the spec (onnxruntime
 * then applies it along axis 1, or fails when the sizes differ).
 */
export const perAxisQdqOpsetRule: CompatibilityRule = {
  name: 'per-axis-qdq-opset',
  description: 'per-channel ONNX QuantizeLinear/DequantizeLinear need opset 13',
  check(context) {
    if (context.opset >= 13) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isQdq(node) || !isOnnxDomain(node)) continue;
      const hasAxis = node.attributes.has('axis');
      if (!hasAxis && !isPerAxis(graph, node)) continue;
      const what = hasAxis
        ? 'has an axis attribute, which it gains only at opset 13 (onnxruntime rejects the model)'
        : `has ${scaleCount(graph, node)} scales; before opset 13 its scale must be a scalar`;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} ${what}; the model imports opset ${context.opset}`,
        fix: 'raise the model to opset 13, or use the com.microsoft QuantizeLinear/DequantizeLinear, which take an axis at every opset (quantkit writes those below 13)',
      });
    }
    return findings;
  },
};
