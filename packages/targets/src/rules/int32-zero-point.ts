import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { codeType, isDequantizeLinear, label, zeroPoints } from '../quant-nodes.js';

/**
 * An int32 DequantizeLinear (a bias) must have zero point 0: the spec says so. onnxruntime loads such a model,
 * then fails when it runs the node on its own, and ignores the zero point (wrong results, no error) when it fuses
 * the node into QLinearConv.
 */
export const int32ZeroPointRule: CompatibilityRule = {
  name: 'int32-zero-point',
  description: 'int32 DequantizeLinear (biases) must have zero point 0',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isDequantizeLinear(node) || codeType(graph, node) !== 'int32') continue;
      const values = zeroPoints(graph, node);
      const nonZero = values?.filter((value) => value !== 0) ?? [];
      if (nonZero.length === 0) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} dequantizes int32 codes with zero point ${nonZero[0]} (${nonZero.length} of ${values!.length} non-zero); int32 DequantizeLinear must have zero point 0 (onnxruntime fails on it, or ignores it inside QLinearConv)`,
        fix: 'fold the zero point into the codes (code - zero point) and store zero point 0, or drop the zero-point input',
      });
    }
    return findings;
  },
};
