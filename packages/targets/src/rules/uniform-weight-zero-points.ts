import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isOnnxRuntime } from '../onnxruntime-kernels.js';
import { isConstantDequantize, label, weightConsumers, zeroPoints } from '../quant-nodes.js';

/**
 * onnxruntime's QLinearConv (what it fuses DQ -> Conv -> Q into) takes per-channel weight scales but one zero
 * point: a per-channel weight whose zero points differ loads, then fails when the Conv runs.
 */
export const uniformWeightZeroPointsRule: CompatibilityRule = {
  name: 'uniform-weight-zero-points',
  description: 'per-channel Conv weights have one zero point for all channels (onnxruntime QLinearConv)',
  check(context) {
    if (!isOnnxRuntime(context.target.runtime)) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isConstantDequantize(graph, node)) continue;
      const convs = weightConsumers(graph, node).filter((reader) => reader.opType === 'Conv');
      if (convs.length === 0) continue;
      const values = zeroPoints(graph, node) ?? [];
      const first = values[0];
      if (first === undefined || values.every((value) => value === first)) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} gives weight "${node.inputs[0]}" of ${label(convs[0]!)} different zero points per channel (${first}, ${values.find((v) => v !== first)}, ...); onnxruntime's QLinearConv fails at run time ("zero point of per-channel filter must be same")`,
        fix: 'quantize the weights symmetrically (one zero point: 0 for int8, 128 for uint8), or per tensor',
      });
    }
    return findings;
  },
};
