import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isDequantizeLinear, isOnnxDomain, isQdq, label } from '../quant-nodes.js';

/**
 * A node fed by DequantizeLinear whose op the target does not run quantized: it computes in float after all, so
 * the Q/DQ around it costs time and accuracy for nothing.
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
      const fed = node.inputs.find((input) => {
        const producer = input === '' ? undefined : graph.producer(input);
        return producer !== undefined && isDequantizeLinear(producer);
      });
      if (fed === undefined) continue;
      findings.push({
        severity: 'warning',
        node: node.name,
        message: `${label(node)} reads dequantized "${fed}", but ${target.name} does not run ${key} quantized; it computes in float behind the Q/DQ`,
        fix: `keep it float (--exclude "${node.name || key}"), or choose a target that runs ${key} quantized`,
      });
    }
    return findings;
  },
};
