// One rule per float op: how a DequantizeLinear -> op -> QuantizeLinear group becomes a QLinear op. Input orders
// and attribute names follow the ONNX operator spec (QLinearConv-10, QLinearMatMul-10, MatMulInteger-10) and
// onnxruntime's contrib schemas (onnxruntime/core/graph/contrib_ops/quantization_defs.cc and
// nhwc_schema_defs.cc); type pairs follow the CPU kernels' registrations (qlinearconv.cc, quant_gemm.cc).
import { stringAttribute } from '@quantkit/onnx';
import {
  averagePoolRule,
  binaryRule,
  concatRule,
  softmaxRule,
  unaryRule,
} from './qoperator-activation-rules.js';
import { onCodes } from './qoperator-on-codes.js';
import { type Rule, copyAttributes } from './qoperator-rule.js';
import { convRule, gemmRule, matMulRule } from './qoperator-weighted-rules.js';

export type { Rewrite, Rule, RuleContext } from './qoperator-rule.js';

/**
 * The rule of each float op type the QOperator rewrite converts, by op type (default ONNX domain).
 *
 * @example
 * const rule = RULES[node.opType];
 * const rewrite = rule?.({ graph, opset }, node); // a Rewrite, or why the node stays QDQ
 */
export const RULES: Readonly<Record<string, Rule>> = {
  Conv: convRule,
  MatMul: matMulRule,
  Gemm: gemmRule,
  Add: binaryRule('QLinearAdd'),
  Mul: binaryRule('QLinearMul'),
  Concat: concatRule,
  GlobalAveragePool: unaryRule(
    'QLinearGlobalAveragePool',
    () => new Map([['channels_last', { type: 'int', value: 0 }]]),
  ),
  AveragePool: averagePoolRule,
  Sigmoid: unaryRule('QLinearSigmoid', () => new Map()),
  LeakyRelu: unaryRule('QLinearLeakyRelu', (node) => copyAttributes(node, ['alpha'])),
  Softmax: softmaxRule,
  // MaxPool takes int8/uint8 from opset 12 on.
  MaxPool: onCodes((_, { opset }) =>
    opset < 12 ? `MaxPool takes 8-bit input from opset 12; the model has opset ${opset}` : undefined,
  ),
  Reshape: onCodes(),
  Transpose: onCodes(),
  Flatten: onCodes(),
  Squeeze: onCodes(),
  Unsqueeze: onCodes(),
  // Nearest-neighbour picks input values; linear or cubic modes would average codes with their own rounding.
  Resize: onCodes((node) =>
    stringAttribute(node, 'mode', 'nearest') === 'nearest'
      ? undefined
      : `Resize mode "${stringAttribute(node, 'mode', '')}" interpolates; only nearest runs on codes`,
  ),
};
