export {
  type DType,
  type DTypeInfo,
  type DTypeStorage,
  type QuantDType,
  type TypedArray,
  DTYPES,
  QUANT_DTYPES,
  allocate,
  dtypeInfo,
  isDType,
  isQuantDType,
  storageDTypeFor,
} from './dtype.js';
export {
  type QuantErrorCode,
  type QuantErrorOptions,
  QUANT_ERROR_CODES,
  QuantError,
  invariant,
  listChoices,
} from './errors.js';
export { packNibbles, unpackNibbles } from './pack.js';
export {
  API_VERSION,
  PLUGIN_KINDS,
  type ExecutorPlugin,
  type ExecutorSession,
  type ExecutorSessionOptions,
  type KernelPlugin,
  type Observer,
  type ObserverHistogram,
  type ObserverOptions,
  type ObserverPlugin,
  type ObserverState,
  type Plugin,
  type PluginKind,
  type PluginOfKind,
  type PackedWeight,
  type QuantizerPacking,
  type QuantFormat,
  type QuantizedTensor,
  type QuantizerCapabilities,
  type QuantizerOptions,
  type QuantizerPlugin,
  type TargetHost,
  type TargetPlugin,
  type TargetPrecision,
  type TargetTypePair,
  type ValueRange,
} from './plugins.js';
export {
  type Granularity,
  type LinearQuantParams,
  GRANULARITIES,
  paramShape,
  validateParams,
} from './quant-params.js';
export {
  dequantizeLinear,
  dequantizeQuantized,
  dequantizeValue,
  fakeQuantize,
  forEachParamRun,
  quantizeLinear,
  quantizeValue,
  roundHalfToEven,
} from './quantize-linear.js';
export { type Registry, createRegistry, validatePlugin } from './registry.js';
export { type Tensor, axisLayout, createTensor, sameShape, sizeOf } from './tensor.js';
export { createSeededRandom } from './seeded-random.js';
