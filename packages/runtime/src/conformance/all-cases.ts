import type { ConformanceCase } from './conformance-case.js';
import { convolutionCases } from './cases/convolution.js';
import { elementwiseCases } from './cases/elementwise.js';
import { gemmCases } from './cases/gemm.js';
import { integerGemmCases } from './cases/integer-gemm.js';
import { nnCases } from './cases/nn.js';
import { quantizedCases } from './cases/quantized.js';
import { tensorCases } from './cases/tensor.js';

/** Every conformance case; each backend's suite runs them all. */
export const allCases: readonly ConformanceCase[] = [
  ...elementwiseCases,
  ...tensorCases,
  ...nnCases,
  ...gemmCases,
  ...quantizedCases,
  ...integerGemmCases,
  ...convolutionCases,
];
