import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import {
  codeType,
  isConstantDequantize,
  isDequantizeLinear,
  label,
  weightConsumers,
} from '../quant-nodes.js';
import { acceptedTypes, formatPairs, targetTypePairs } from '../target-types.js';

/**
 * A quantized compute op whose activation and weight types are each accepted but not as a pair (arm64 runs
 * u8 x s8 and s8 x s8, not s8 x u8). Types the target does not run at all are reported by the type rules.
 */
export const typePairsRule: CompatibilityRule = {
  name: 'type-pairs',
  description: 'activation x weight type pairs of quantized compute ops are pairs the target runs',
  check(context) {
    const { target } = context;
    const pairs = targetTypePairs(target);
    const activations = acceptedTypes(target, 'activation') as string[];
    const weights = acceptedTypes(target, 'weight') as string[];
    const findings: RuleFinding[] = [];
    for (const { node: dequantize, graph } of context.nodes) {
      if (!isConstantDequantize(graph, dequantize)) continue;
      const weight = codeType(graph, dequantize);
      if (weight === undefined || !weights.includes(weight)) continue;
      for (const consumer of weightConsumers(graph, dequantize)) {
        const source = graph.producer(consumer.inputs[0] ?? '');
        if (source === undefined || !isDequantizeLinear(source)) continue;
        const activation = codeType(graph, source);
        if (activation === undefined || !activations.includes(activation)) continue;
        if (pairs.some((pair) => pair.activation === activation && pair.weight === weight)) continue;
        findings.push({
          severity: context.mismatchSeverity,
          node: consumer.name,
          message: `${label(consumer)} multiplies ${activation} activations by ${weight} weights; ${target.name} runs ${formatPairs(pairs)}`,
          fix: [
            're-quantize with ',
            { option: 'target', value: target.name },
            ` (${formatPairs(pairs.slice(0, 1))})`,
          ],
        });
      }
    }
    return findings;
  },
};
