export { DEFAULT_TARGET, builtinPlugins, createDefaultRegistry } from './builtins.js';
export { type ActivationRanges, activationRanges } from './activation-ranges.js';
export {
  type CalibrateOptions,
  type CalibrationResult,
  type ObservationRequest,
  type CalibrationRunner,
  calibrate,
  feedInputs,
  samplesIn,
} from './calibrate.js';
export {
  type CachedRange,
  type CalibrationCache,
  modelFingerprint,
  parseCalibrationCache,
} from './calibration-cache.js';
export { type OutputMetrics, compareTensors, createMetricsAccumulator } from './metrics.js';
export {
  type CalibrationSample,
  type CalibrationSource,
  type FloatPrecision,
  FLOAT_PRECISIONS,
  type OutputFormat,
  type ProgressEvent,
  type QuantizeMode,
  type KeptFloat,
  type QuantizeOptions,
  type Recipe,
  type WeightOnlyForm,
  type WeightRange,
  type EmitForm,
  EMIT_FORMS,
  OUTPUT_FORMATS,
  WEIGHT_ONLY_FORMS,
  WEIGHT_RANGES,
  QUANTIZE_MODES,
  type DataFreeSettings,
  quantizesActivations,
} from './options.js';
export { resolveRecipe } from './resolve-recipe.js';
export { type KeptQuantization, type KeptWeight, importQuantization } from './import-quantization.js';
export { type KeptPoints, keptPoints } from './plan-kept.js';
export {
  type LatencyGuardOptions,
  type LatencyGuardResult,
  type LatencyTrial,
  type QuantizedRegion,
  type SearchTrial,
  nodeCount,
  quantizedRegions,
} from './latency-guard.js';
export type { FidelityResult, RegionSensitivity } from './min-sqnr.js';
export { AUTO_CALIBRATION, type CalibrationChoice } from './measured-runs.js';
export type { BiasCorrectionResult } from './bias-correction.js';
// Data-free quantization (mode 'data-free'): its steps, usable on their own.
export {
  type BatchNormStatistics,
  type ChannelStatistics,
  captureBatchNormStatistics,
} from './batch-norm-statistics.js';
export {
  type EqualizationResult,
  type LayerPair,
  equalizationScales,
  equalizeCrossLayer,
  findLayerPairs,
} from './cross-layer-equalization.js';
export { type AbsorptionResult, absorbHighBias } from './high-bias-absorption.js';
export {
  type AnalyticCorrection,
  analyticBiasCorrection,
  clippedNormalMean,
  expectedChannelMeans,
} from './analytic-bias-correction.js';
export {
  DEFAULT_RANGE_DEVIATIONS,
  type DataFreeRanges,
  type RangeSource,
  dataFreeRanges,
} from './data-free-ranges.js';
export {
  type DataFreePreparation,
  type DataFreeResult,
  dataFreePreparation,
} from './data-free-preparation.js';
export {
  type AdaRoundSettings,
  type RoundingProblem,
  type RoundingResult,
  DEFAULT_ADAROUND_SETTINGS,
  optimizeRounding,
} from './adaround.js';
export {
  type AdaRoundTransform,
  type FinetuneResult,
  type FinetunedLayer,
  createAdaRoundTransform,
} from './adaround-transform.js';
export {
  type AdaRoundOptions,
  type AdaRoundRecipe,
  type FinetuneMethod,
  FINETUNE_METHODS,
  resolveFinetune,
} from './finetune-options.js';
export {
  type BiasUse,
  type ConstantUse,
  type NodeDecision,
  type QuantPlan,
  planQuantization,
} from './plan.js';
export {
  type NodeOverride,
  type QuantOverrides,
  type TensorOverride,
  createOverrideLookup,
  parseOverrides,
} from './overrides.js';
export { PROVENANCE_KEYS, type Provenance, readProvenance } from './provenance.js';
export {
  type InspectInitializer,
  type InspectOpCount,
  type InspectReport,
  type InspectValue,
  type InspectWeightOp,
  inspectModel,
  isQuantizedOp,
} from './inspect-model.js';
export {
  type ActivationRange,
  type Histogram,
  type LayerReport,
  type LayerSuggestion,
  type QuantizeReport,
  type WeightError,
  parseReportHtml,
} from './report.js';
export {
  type LatencyComparison,
  type MeasureLatencyOptions,
  measureLatency,
} from './measure-latency.js';
export { type PlannedModel, type QuantizeResult, planModel, quantizeModel } from './quantize-model.js';
export {
  BUILTIN_TRANSFORMS,
  type ModelTransform,
  type QuantizationContext,
  type QuantizationTransform,
  applyQuantizationTransforms,
  applyTransforms,
  batchNormFolding,
  divisionAsMultiplication,
} from './model-transforms.js';
export {
  type ComputedQuantization,
  type WeightQuantization,
  type WeightRecord,
  computeStaticQuantization,
  computeWeightQuantization,
  weightRecords,
} from './compute-quantization.js';
export {
  type QOperatorConversion,
  type QOperatorKept,
  type QOperatorResult,
  qdqToQOperator,
} from './qoperator.js';
// The page lives in @quantkit/report; these stay here so code written against @quantkit/quantize keeps working.
export { type RenderReportHtmlOptions, formatSuggestion, renderReportHtml } from '@quantkit/report';
export { batchSamples } from './batch-samples.js';
export { buildQuantizeReport, type ReportInputs } from './build-report.js';
export {
  COMPARE_FLAG_RULE,
  type FlagLayersOptions,
  type FlagRule,
  type MeasuredLayer,
  REPORT_FLAG_RULE,
  flagLayers,
  keepFloatSuggestion,
  suggestionFor,
  worstFirst,
} from './flag-layers.js';
export {
  type CompareLayersOptions,
  type LayerComparison,
  type LayerProbe,
  commonValues,
  compareLayers,
} from './compare-layers.js';
export {
  type ComparedModel,
  type CompareModelsOptions,
  type ModelComparison,
  type OutputComparison,
  type ValueComparison,
  compareModels,
} from './compare-models.js';
export { type CompareReport, buildCompareReport } from './compare-report.js';
export { type QuantizeSummary, weightBytes, weightTensors } from './summary.js';
export { QUANTKIT_VERSION } from './version.js';
export {
  DEFAULT_RANDOM_SAMPLES,
  DEFAULT_SEED,
  RANDOM_DATA_TEXT,
  type RandomInput,
  SYMBOLIC_DIM,
  concreteShape,
  createPrng,
  type SampleFactory,
  randomSampleSource,
  randomSamples,
} from './random-samples.js';
export { storedCodes } from './packed-codes.js';
export { optionsFromRecipe } from './recipe-options.js';
export {
  AUTO_CANDIDATES,
  AUTO_CANDIDATE_NAMES,
  type AutoCandidate,
  type AutoCandidateName,
  UNMIXED_FORMATS,
  autoCandidates,
} from './auto/auto-candidates.js';
export { type AutoAssignment, assignmentOptions } from './auto/auto-assignment.js';
export { type LayerOption, type LayerOptions, type PathStep, greedyPath } from './auto/greedy-path.js';
