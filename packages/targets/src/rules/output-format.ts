import { isDefaultDomain } from '@quantkit/onnx';
import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { label } from '../quant-nodes.js';

/** Ops of the QOperator format: quantized ops that take codes and their parameters directly. */
const QOPERATOR_OPS = new Set([
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
  'DynamicQuantizeLinear',
  'com.microsoft.QGemm',
  'com.microsoft.QLinearAdd',
  'com.microsoft.QLinearMul',
  'com.microsoft.QLinearConcat',
  'com.microsoft.QLinearAveragePool',
  'com.microsoft.QLinearGlobalAveragePool',
  'com.microsoft.QLinearSigmoid',
  'com.microsoft.QLinearLeakyRelu',
  'com.microsoft.QLinearSoftmax',
  'com.microsoft.DynamicQuantizeMatMul',
  'com.microsoft.MatMulIntegerToFloat',
  'com.microsoft.MatMulNBits',
]);

/** QOperator ops in a model for a target that takes QDQ (or packed) models only, such as TensorRT. */
export const outputFormatRule: CompatibilityRule = {
  name: 'output-format',
  description: 'QOperator ops appear only where the target runs the qoperator format',
  check(context) {
    const { target } = context;
    if (target.formats.includes('qoperator')) return [];
    const findings: RuleFinding[] = [];
    for (const { node } of context.nodes) {
      const key = isDefaultDomain(node.domain) ? node.opType : `${node.domain}.${node.opType}`;
      if (!QOPERATOR_OPS.has(key)) continue;
      findings.push({
        severity: context.mismatchSeverity,
        node: node.name,
        message: `${label(node)} is a QOperator-format op; ${target.name} runs ${target.formats.join(', ')} models`,
        fix: [
          're-quantize with ',
          { option: 'target', value: target.name },
          ' ',
          { option: 'format', value: target.formats[0] ?? 'qdq' },
        ],
      });
    }
    return findings;
  },
};
