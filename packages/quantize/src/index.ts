export { builtinPlugins, createDefaultRegistry } from './builtins.js';
export { type CalibrateOptions, type CalibrationResult, calibrate } from './calibrate.js';
export { type OutputMetrics, compareTensors, createMetricsAccumulator } from './metrics.js';
export {
  type CalibrationSample,
  type OutputFormat,
  type ProgressEvent,
  type QuantizeMode,
  type QuantizeOptions,
  type Recipe,
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  resolveRecipe,
} from './options.js';
export { type BiasUse, type ConstantUse, type NodeDecision, type QuantPlan, planQuantization } from './plan.js';
export { PROVENANCE_KEYS } from './provenance.js';
export { type QuantizeResult, quantizeModel } from './quantize-model.js';
export { type QuantizeSummary, weightBytes } from './summary.js';
export { QUANTKIT_VERSION } from './version.js';
