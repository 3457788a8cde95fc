export {
  ACCEPTED_LAYOUTS,
  type CalibrationLayout,
  countCalibrationSamples,
  detectCalibrationLayout,
} from './calibration-layout.js';
export { calibrationFiles, hashCalibrationDir } from './hash-calibration-dir.js';
export {
  type CalibrationRecord,
  type ReadCalibrationOptions,
  inputFileStem,
  readCalibrationDir,
} from './read-calibration-dir.js';
