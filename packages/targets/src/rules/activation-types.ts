import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { codeType, isQuantizeLinear, label, middleZeroPoint, zeroPoints } from '../quant-nodes.js';
import { acceptedTypes } from '../target-types.js';

const EIGHT_BIT = new Set(['int8', 'uint8']);

/**
 * Activations quantized (QuantizeLinear) to a type the target does not run, or with a zero point off the middle
 * where the target wants symmetric activations. Symmetry is checked on strict targets only: onnxruntime runs any
 * zero point. Other widths (16-bit, float8) are the precisions rule's business.
 */
export const activationTypesRule: CompatibilityRule = {
  name: 'activation-types',
  description: 'quantized activations use a type (and symmetry) the target runs',
  check(context) {
    const { target } = context;
    const accepted = acceptedTypes(target, 'activation');
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isQuantizeLinear(node) || graph.getConstant(node.inputs[0] ?? '') !== undefined) continue;
      const dtype = codeType(graph, node);
      if (dtype === undefined || !EIGHT_BIT.has(dtype)) continue;
      if (!(accepted as string[]).includes(dtype)) {
        findings.push({
          severity: context.mismatchSeverity,
          node: node.name,
          message: `${label(node)} quantizes activation "${node.inputs[0]}" to ${dtype}; ${target.name} runs ${accepted.join(' or ')} activations`,
          fix: [
            're-quantize with ',
            { option: 'target', value: target.name },
            ` (activations become ${target.activation.dtype})`,
          ],
        });
        continue;
      }
      if (!target.activation.symmetric || target.strict !== true) continue;
      const middle = middleZeroPoint(dtype);
      const off = zeroPoints(graph, node)?.find((value) => value !== middle);
      if (off === undefined) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} quantizes activation "${node.inputs[0]}" with zero point ${off}; ${target.name} takes symmetric activations only (zero point ${middle})`,
        fix: [
          're-quantize with ',
          { option: 'target', value: target.name },
          ', which plans symmetric activations',
        ],
      });
    }
    return findings;
  },
};
