export { dequantizeQuantized } from './dequantize-quantized.js';
export {
  ceilLog2,
  exactPow2,
  exponentOfPowerOfTwo,
  floorLog2,
  floorLogIndex,
  nearestLinearExponent,
  roundLogIndex,
} from './exact-log2.js';
export { logFsrForRange, nnieFsrForRange } from './log-fsr-for-range.js';
export {
  LOG_BITS,
  type LogFsrRule,
  type LogRounding,
  MAX_LOG_BITS,
  MAX_LOG_FSR,
  MIN_LOG_BITS,
  MIN_LOG_EXPONENT,
  MIN_LOG_FSR,
  encodeLogValue,
  logFsr,
  logInt8Shift,
  logLevel,
  logLookupTable,
  logMagnitudes,
  smallestLogExponent,
} from './log-levels.js';
export { LOG_PACKED_FORMAT, createLogPacking, signedLogIndex, storedLogCode } from './log-packing.js';
export {
  type LogQuantizerSettings,
  computeLogCodes,
  createLogQuantizer,
  logQuantizer,
} from './log-quantizer.js';
export {
  type LogCodes,
  type LogForm,
  buildLogTensor,
  fitsInt8Form,
  readLogTensor,
} from './log-tensor-form.js';
export {
  MAX_NNIE_FSR,
  MIN_NNIE_FSR,
  NNIE_STEPS_PER_OCTAVE,
  NNIE_ZERO_CODE,
  encodeNnieValue,
  nnieCodeOfIndex,
  nnieFsr,
  nnieLookupIndex,
  nnieLookupTable,
  nnieScale,
} from './nnie-levels.js';
export { NNIE_PACKED_FORMAT, createNnieLogPacking } from './nnie-log-packing.js';
export {
  type NnieLogQuantizerSettings,
  createNnieLogQuantizer,
  nnieLogQuantizer,
} from './nnie-log-quantizer.js';
export { type NnieCodes, buildNnieTensor, computeNnieCodes } from './nnie-tensor-form.js';
export { type LogOptionLimits, type ResolvedLogOptions, resolveLogOptions } from './resolve-log-options.js';
