export {
  type CalibrationInput,
  type CalibrationSample,
  checkSample,
  formatModelShape,
  quoteNames,
  splitBatch,
  splitSampleBatches,
} from './calibration-sample.js';
export { encodeNpy } from './encode-npy.js';
export {
  type MinMaxObserver,
  type MinMaxObserverPlugin,
  createMinMaxObserver,
  minMaxObserver,
  toValueRange,
} from './min-max-observer.js';
export { naturalCompare } from './natural-compare.js';
export {
  type ObserverState,
  type StatefulObserver,
  type StatefulObserverPlugin,
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
export { parseNpy } from './parse-npy.js';
