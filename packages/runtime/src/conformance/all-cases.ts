import type { ConformanceCase } from './conformance-case.js';
import { elementwiseCases } from './cases/elementwise.js';
import { quantizedCases } from './cases/quantized.js';

/** Every conformance case; each backend's suite runs them all. */
export const allCases: readonly ConformanceCase[] = [...elementwiseCases, ...quantizedCases];
