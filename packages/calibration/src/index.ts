export {
  type CalibrationInput,
  type CalibrationSample,
  checkSample,
  formatModelShape,
  quoteNames,
  splitBatch,
  splitSampleBatches,
} from './calibration-sample.js';
export { builtinObservers } from './builtin-observers.js';
export {
  type CollectActivationsOptions,
  type CollectedActivations,
  type EncodedModel,
  type ObservedModel,
  type ObservedValues,
  type SampleSource,
  collectActivations,
  feedInputs,
  samplesIn,
} from './collect-activations.js';
export { encodeNpy } from './encode-npy.js';
export {
  type EntropyObserverOptions,
  createEntropyObserver,
  entropyObserver,
  entropyThresholdBins,
} from './entropy-observer.js';
export { type HistogramArrays, type HistogramDomain, Histogram } from './histogram.js';
export {
  type HistogramObserver,
  type HistogramObserverPlugin,
  type HistogramObserverSpec,
  createHistogramObserverPlugin,
} from './histogram-observer.js';
export {
  type MinMaxObserver,
  type MinMaxObserverPlugin,
  createMinMaxObserver,
  minMaxObserver,
  toValueRange,
} from './min-max-observer.js';
export {
  type MovingAverageObserverOptions,
  type MovingAverageObserverPlugin,
  createMovingAverageObserver,
  movingAverageObserver,
} from './moving-average-observer.js';
export {
  type ClipObserverOptions,
  type MseChoice,
  type MseObserverOptions,
  clipObserver,
  createClipObserver,
  createMseObserver,
  mseAsymmetricChoice,
  mseAsymmetricRange,
  mseObserver,
  mseSymmetricChoice,
  mseSymmetricThreshold,
} from './mse-observer.js';
export { type MseWeightRangeOptions, mseWeightRange } from './mse-weight-range.js';
export { naturalCompare } from './natural-compare.js';
export {
  type ObserverState,
  type StatefulObserver,
  type StatefulObserverPlugin,
  checkMergeable,
  checkObserverState,
  restoreObserverState,
  serializeObserverState,
} from './observer-state.js';
export {
  type BatchLayout,
  type ObserverSettings,
  batchLayout,
  resolveObserverSettings,
} from './observer-layout.js';
export { bitsOption, observerOption, requirePerTensor } from './observer-option.js';
export { parseNpy } from './parse-npy.js';
export {
  type PercentileObserverOptions,
  createPercentileObserver,
  percentileObserver,
} from './percentile-observer.js';
