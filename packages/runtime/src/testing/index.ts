// @quantkit/runtime/testing: the runtime's conformance suite, for backends and kernels of your own. Needs vitest and
// onnxruntime-node (the reference every case is checked against).
export { allCases } from '../conformance/all-cases.js';
export type { ConformanceCase } from '../conformance/conformance-case.js';
export { describeConformance } from '../conformance/describe-conformance.js';
export { int64Tensor, randomFloat } from '../conformance/random-tensors.js';
export {
  type NodeCase,
  type Tolerance,
  nodeCaseModel,
  runBoth,
  tensorMismatch,
} from '../conformance/run-both.js';
