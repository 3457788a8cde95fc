import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { isQdq, label } from '../quant-nodes.js';

/** Linear Q/DQ codes on a log-domain target (HiSilicon NNIE style), which runs power-of-two codes only. */
export const quantizationMethodRule: CompatibilityRule = {
  name: 'quantization-method',
  description: 'linear codes appear only on targets that run linear quantization',
  check(context) {
    const { target } = context;
    if ((target.method ?? 'linear') === 'linear') return [];
    const findings: RuleFinding[] = [];
    for (const { node } of context.nodes) {
      if (!isQdq(node)) continue;
      findings.push({
        severity: 'error',
        node: node.name,
        message: `${label(node)} holds linear (scale and zero point) codes; ${target.name} runs ${target.method}-domain codes only`,
        fix: [
          're-quantize with ',
          { option: 'target', value: target.name },
          ` and a ${target.method} quantizer`,
        ],
      });
    }
    return findings;
  },
};
