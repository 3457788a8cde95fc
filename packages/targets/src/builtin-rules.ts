import type { CompatibilityRule } from './compatibility-rule.js';
import { activationTypesRule } from './rules/activation-types.js';
import { float8OpsetRule } from './rules/float8-opset.js';
import { floatConsumersRule } from './rules/float-consumers.js';
import { int32ZeroPointRule } from './rules/int32-zero-point.js';
import { minOpsetRule } from './rules/min-opset.js';
import { ortIntegerKernelsRule } from './rules/ort-integer-kernels.js';
import { outputFormatRule } from './rules/output-format.js';
import { perAxisQdqOpsetRule } from './rules/per-axis-qdq-opset.js';
import { precisionsRule } from './rules/precisions.js';
import { qdqOpsetRule } from './rules/qdq-opset.js';
import { qdqPerConsumerRule } from './rules/qdq-per-consumer.js';
import { quantizationMethodRule } from './rules/quantization-method.js';
import { reduceRangeRule } from './rules/reduce-range.js';
import { typePairsRule } from './rules/type-pairs.js';
import { uniformWeightZeroPointsRule } from './rules/uniform-weight-zero-points.js';
import { weightTypesRule } from './rules/weight-types.js';
import { wideQdqOpsetRule } from './rules/wide-qdq-opset.js';

/**
 * Every built-in compatibility rule: format and opset rules first (what makes a model fail to load), then
 * kernels and types, then what only costs speed. Extend with `[...builtinRules, myRule]`.
 *
 * @example
 * checkModel(model, target, { rules: [...builtinRules, myRule] });
 */
export const builtinRules: readonly CompatibilityRule[] = [
  qdqOpsetRule,
  perAxisQdqOpsetRule,
  wideQdqOpsetRule,
  float8OpsetRule,
  minOpsetRule,
  int32ZeroPointRule,
  ortIntegerKernelsRule,
  uniformWeightZeroPointsRule,
  outputFormatRule,
  quantizationMethodRule,
  activationTypesRule,
  weightTypesRule,
  typePairsRule,
  reduceRangeRule,
  precisionsRule,
  qdqPerConsumerRule,
  floatConsumersRule,
];
