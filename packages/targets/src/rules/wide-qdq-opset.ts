import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { codeType, isOnnxDomain, isQdq, label } from '../quant-nodes.js';

const WIDE = new Set(['int4', 'uint4', 'int16', 'uint16']);

/** ONNX QuantizeLinear/DequantizeLinear take 4- and 16-bit codes from opset 21; onnxruntime rejects them before. */
export const wideQdqOpsetRule: CompatibilityRule = {
  name: 'wide-qdq-opset',
  description: '4- and 16-bit ONNX QuantizeLinear/DequantizeLinear need opset 21 (com.microsoft forms work earlier)',
  check(context) {
    if (context.opset >= 21) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isQdq(node) || !isOnnxDomain(node)) continue;
      const dtype = codeType(graph, node);
      if (dtype === undefined || !WIDE.has(dtype)) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} uses ${dtype} codes, which ONNX QuantizeLinear/DequantizeLinear accept from opset 21; the model imports opset ${context.opset}`,
        fix: 'raise the model to opset 21, or move the node to the com.microsoft domain (its QuantizeLinear/DequantizeLinear take int4, uint4, int16 and uint16 at any opset)',
      });
    }
    return findings;
  },
};
