export { type ConvertToFloat16Options, convertToFloat16 } from './convert-to-float16.js';
export { DEFAULT_FLOAT16_BLOCK_LIST, FLOAT16_CUSTOM_OPS } from './float16-op-rules.js';
export { type Float8QuantParams, float8ActivationParams, float8Scale } from './float8-activation-params.js';
export {
  bfloat16BitsOf,
  bfloat16BitsToFloat32,
  float32ToBfloat16Bits,
} from './float32-to-bfloat16-bits.js';
export {
  type Float8ConversionOptions,
  type Float8Format,
  FLOAT8_DTYPES,
  FLOAT8_FORMATS,
  FLOAT8_MAX,
  float8BitsOf,
  float8E4M3FNToFloat32,
  float8E5M2ToFloat32,
  float8ToFloat32,
  float8Value,
  float32ToFloat8,
  float32ToFloat8E4M3FN,
  float32ToFloat8E5M2,
} from './float32-to-float8.js';
export {
  type QuantizeWeightsFloat8Options,
  FLOAT8_WEIGHT_OPS,
  quantizeWeightsFloat8,
} from './quantize-weights-float8.js';
export { FLOAT16_MAX, fromFloat16Bits, toFloat16Bits } from './to-float16-bits.js';
