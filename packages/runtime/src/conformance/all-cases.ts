import type { ConformanceCase } from './conformance-case.js';
import { convolutionCases } from './cases/convolution.js';
import { elementwiseCases } from './cases/elementwise.js';
import { gemmCases } from './cases/gemm.js';
import { halfFloatCases } from './cases/half-float.js';
import { integerGemmCases } from './cases/integer-gemm.js';
import { nnCases } from './cases/nn.js';
import { quantizedCases } from './cases/quantized.js';
import { shapeOpCases } from './cases/shape.js';
import { tensorCases } from './cases/tensor.js';

/** Every conformance case; each backend's suite runs them all. */
export const allCases: readonly ConformanceCase[] = [
  ...elementwiseCases,
  ...shapeOpCases,
  ...tensorCases,
  ...nnCases,
  ...gemmCases,
  ...quantizedCases,
  ...integerGemmCases,
  ...halfFloatCases,
  ...convolutionCases,
];
