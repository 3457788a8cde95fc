import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import {
  codeType,
  isConstantDequantize,
  isPerAxis,
  label,
  middleZeroPoint,
  weightConsumers,
  zeroPoints,
} from '../quant-nodes.js';
import { acceptedTypes } from '../target-types.js';

const EIGHT_BIT = new Set(['int8', 'uint8']);

/**
 * Stored weights (DequantizeLinear of constant codes read as the weight of Conv, ConvTranspose, Gemm or MatMul)
 * of a type the target does not run, per channel on a per-tensor target, or asymmetric on a strict symmetric
 * target (onnxruntime runs any zero point, so symmetry is not checked there).
 */
export const weightTypesRule: CompatibilityRule = {
  name: 'weight-types',
  description: 'quantized weights use a type, granularity and symmetry the target runs',
  check(context) {
    const { target } = context;
    const accepted = acceptedTypes(target, 'weight');
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isConstantDequantize(graph, node)) continue;
      const readers = weightConsumers(graph, node);
      if (readers.length === 0) continue;
      const dtype = codeType(graph, node);
      if (dtype === undefined || !EIGHT_BIT.has(dtype)) continue;
      const reader = label(readers[0]!);
      const weight = node.inputs[0];
      if (!(accepted as string[]).includes(dtype)) {
        findings.push({
          severity: context.mismatchSeverity,
          node: node.name,
          message: `${label(node)} stores weight "${weight}" of ${reader} in ${dtype}; ${target.name} runs ${accepted.join(' or ')} weights`,
          fix: [
            're-quantize with ',
            { option: 'target', value: target.name },
            ` (weights become ${target.weight.dtype})`,
          ],
        });
        continue;
      }
      if (!target.weight.perChannel && isPerAxis(graph, node)) {
        findings.push({
          severity: context.mismatchSeverity,
          node: node.name,
          message: `${label(node)} stores weight "${weight}" of ${reader} with per-channel scales; ${target.name} takes one scale per tensor`,
          fix: [
            're-quantize with ',
            { option: 'target', value: target.name },
            ' ',
            { option: 'granularity', value: 'tensor' },
          ],
        });
        continue;
      }
      if (!target.weight.symmetric || target.strict !== true) continue;
      const middle = middleZeroPoint(dtype);
      const off = zeroPoints(graph, node)?.find((value) => value !== middle);
      if (off === undefined) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} stores weight "${weight}" of ${reader} with zero point ${off}; ${target.name} takes symmetric weights only (zero point ${middle})`,
        fix: [
          're-quantize with ',
          { option: 'target', value: target.name },
          ' ',
          { option: 'symmetric', value: true },
        ],
      });
    }
    return findings;
  },
};
