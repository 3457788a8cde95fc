import type { CompatibilityRule } from '../compatibility-rule.js';
import { isQdq } from '../quant-nodes.js';

/** A quantized model below the opset the target needs (TensorRT: 13, for per-channel Q/DQ). */
export const minOpsetRule: CompatibilityRule = {
  name: 'min-opset',
  description: "the model's opset is at least the target's minimum",
  check(context) {
    const { target, opset } = context;
    if (target.minOpset === undefined || opset >= target.minOpset) return [];
    if (!context.nodes.some(({ node }) => isQdq(node))) return [];
    return [
      {
        severity: context.mismatchSeverity,
        message: `the model imports opset ${opset}; ${target.name} needs opset ${target.minOpset} or later for its quantized models`,
        fix: [
          're-quantize with ',
          { option: 'target', value: target.name },
          `, which raises the opset to ${target.minOpset}`,
        ],
      },
    ];
  },
};
