export {
  type BinarizedActivations,
  binarizeActivations,
} from './binarize-activations.js';
export {
  type BinaryCodeDType,
  MIN_BINARY_SCALE,
  binarizeWeight,
  signCode,
} from './binarize-weight.js';
export {
  BINARY_1BIT_FORMAT,
  binaryPacking,
  packBinaryWeight,
  unpackBinaryWeight,
} from './binary-packing.js';
export {
  type BinaryQuantizerSettings,
  binaryQuantizer,
  createBinaryQuantizer,
} from './binary-quantizer.js';
export { type PackedBinaryRows, packBinary, unpackBinary } from './pack-binary.js';
export { BINARY_GRANULARITIES, type BinaryLayout, resolveBinaryOptions } from './resolve-binary-options.js';
export { xnorPopcountDot } from './xnor-popcount-dot.js';
