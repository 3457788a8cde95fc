import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { codeType, isConstantDequantize, label, weightConsumers } from '../quant-nodes.js';

// 7-bit signed codes: u8 x s8 pair sums stay within int16 (2 x 255 x 64 = 32640).
const REDUCED_MIN = -64;
const REDUCED_MAX = 63;

/**
 * On targets that want reduce_range (x86 without VNNI), int8 weight codes outside [-64, 63] let VPMADDUBSW's
 * int16 pair sums saturate, which silently changes results.
 */
export const reduceRangeRule: CompatibilityRule = {
  name: 'reduce-range',
  description: 'int8 weights stay within 7 bits ([-64, 63]) where the target needs reduce_range',
  check(context) {
    if (!context.target.weight.reduceRange) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      if (!isConstantDequantize(graph, node) || codeType(graph, node) !== 'int8') continue;
      const readers = weightConsumers(graph, node);
      if (readers.length === 0) continue;
      const codes = graph.getConstant(node.inputs[0]!)!.data as Int8Array;
      let outside = 0;
      let extreme = 0;
      for (const code of codes) {
        if (code < REDUCED_MIN || code > REDUCED_MAX) {
          outside++;
          if (Math.abs(code) > Math.abs(extreme)) extreme = code;
        }
      }
      if (outside === 0) continue;
      findings.push({
        severity: 'warning',
        node: node.name,
        message:
          `${label(node)} stores weight "${node.inputs[0]}" of ${label(readers[0]!)} with ${outside} of ${codes.length} codes outside ` +
          `[${REDUCED_MIN}, ${REDUCED_MAX}] (e.g. ${extreme}); ${context.target.name} multiplies u8 x s8 with VPMADDUBSW, whose 16-bit pair sums can saturate`,
        fix: [
          're-quantize with ',
          { option: 'target', value: context.target.name },
          ' (7-bit weights, reduce_range), or use uint8 weights (u8 x u8)',
        ],
      });
    }
    return findings;
  },
};
