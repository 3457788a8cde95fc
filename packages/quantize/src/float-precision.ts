import { QuantError } from '@quantkit/core';
import type { Model, Node } from '@quantkit/onnx';
import {
  DEFAULT_FLOAT16_BLOCK_LIST,
  FLOAT8_WEIGHT_OPS,
  convertToFloat16,
  quantizeWeightsFloat8,
} from '@quantkit/quantizer-float';
import type { FloatPrecision, Recipe } from './options.js';

/** Why a node keeps fp32 when the rest of the model goes to `precision`, or undefined when it converts. */
export function floatBlocker(node: Node, precision: FloatPrecision): string | undefined {
  if (precision.startsWith('fp8')) {
    return FLOAT8_WEIGHT_OPS.includes(node.opType)
      ? undefined
      : `${node.opType} has no weight to store in fp8`;
  }
  if (DEFAULT_FLOAT16_BLOCK_LIST.includes(node.opType))
    return `${node.opType} is kept fp32 (its ${precision} form is unsafe)`;
  return undefined;
}

/**
 * Converts what stays float to the recipe's float precision: fp16 or bf16 for ops and weights (with Casts at
 * fp32 boundaries and float32 graph inputs and outputs), or fp8 weights behind DequantizeLinear.
 * `keepFp32` names nodes that must stay fp32 (excluded or overridden).
 */
export function applyFloatPrecision(model: Model, recipe: Recipe, keepFp32: readonly string[]): Model {
  const precision = recipe.floatPrecision;
  if (precision === undefined) return model;
  try {
    return convert(model, recipe, precision, keepFp32);
  } catch (error) {
    // The conversion's own words ("float8 DequantizeLinear needs opset 19") say what; the option says why.
    if (!QuantError.is(error)) throw error;
    throw new QuantError(error.code, [{ option: 'floatPrecision', value: precision }, `: ${error.message}`], {
      cause: error,
      details: { ...error.details, option: 'floatPrecision', value: precision },
    });
  }
}

function convert(
  model: Model,
  recipe: Recipe,
  precision: FloatPrecision,
  keepFp32: readonly string[],
): Model {
  if (precision === 'fp8-e4m3fn' || precision === 'fp8-e5m2') {
    return quantizeWeightsFloat8(model, {
      format: precision === 'fp8-e4m3fn' ? 'e4m3fn' : 'e5m2',
      perChannel: recipe.granularity !== 'tensor',
      // The plan decides: every op whose fp8 form it planned, except the nodes it keeps float.
      ops: FLOAT8_WEIGHT_OPS,
      keepNodes: keepFp32,
    });
  }
  return convertToFloat16(model, {
    dtype: precision === 'fp16' ? 'float16' : 'bfloat16',
    keepIoTypes: true,
    nodeBlockList: keepFp32,
  });
}
