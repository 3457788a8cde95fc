import type { TargetPrecision } from '@quantkit/core';
import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { codeType, isOnnxDomain, isQdq, label } from '../quant-nodes.js';

const PRECISION_OF_CODE: Readonly<Record<string, TargetPrecision>> = {
  int4: 'int4-weight',
  uint4: 'int4-weight',
  int16: 'int16-activation',
  uint16: 'int16-activation',
  float8e4m3fn: 'fp8e4m3fn',
  float8e5m2: 'fp8e5m2',
};

/**
 * Precisions beyond 8 bit (4-bit weights, 16-bit activations, float8, fp16 weights, MatMulNBits) on a target
 * that does not list them.
 */
export const precisionsRule: CompatibilityRule = {
  name: 'precisions',
  description: '4-bit, 16-bit, float8 and fp16 parts of the model are precisions the target runs',
  check(context) {
    const { target } = context;
    const supported = new Set(target.precisions ?? []);
    const findings: RuleFinding[] = [];
    const report = (nodeName: string, what: string, precision: TargetPrecision) => {
      findings.push({
        severity: context.mismatchSeverity,
        node: nodeName,
        message: `${what}; ${target.name} does not run ${precision} (it runs ${[...supported].join(', ') || 'only its 8-bit types'})`,
        fix: [
          're-quantize with ',
          { option: 'target', value: target.name },
          ' at ',
          { option: 'bits', value: 8 },
          `, or choose a target that runs ${precision}`,
        ],
      });
    };
    for (const { node, graph } of context.nodes) {
      if (isQdq(node)) {
        const dtype = codeType(graph, node);
        const precision = dtype === undefined ? undefined : PRECISION_OF_CODE[dtype];
        if (precision !== undefined && !supported.has(precision)) {
          report(node.name, `${label(node)} uses ${dtype} codes`, precision);
        }
      } else if (node.opType === 'MatMulNBits' && !isOnnxDomain(node) && !supported.has('int4-weight')) {
        report(node.name, `${label(node)} holds 4-bit block-quantized weights`, 'int4-weight');
      } else if (!supported.has('fp16')) {
        const half = node.inputs.find(
          (input) => input !== '' && graph.getConstant(input)?.dtype === 'float16',
        );
        if (half !== undefined) report(node.name, `${label(node)} reads fp16 constant "${half}"`, 'fp16');
      }
    }
    return findings;
  },
};
