export {
  type LazyOrtExecutorPlugin,
  type LazyOrtExecutorSettings,
  createLazyOrtExecutor,
} from './create-lazy-ort-executor.js';
export { createOrtNodeExecutor } from './create-ort-node-executor.js';
export {
  type OrtExecutorPlugin,
  type OrtExecutorSession,
  type OrtExecutorSettings,
  type OrtValueInfo,
  createOrtExecutor,
} from './create-ort-executor.js';
export type {
  OrtEnv,
  OrtGraphOptimizationLevel,
  OrtModule,
  OrtSession,
  OrtSessionOptions,
  OrtTensor,
  OrtTensorConstructor,
  OrtValueMetadata,
} from './ort-module.js';
export { ORT_DTYPES, fromOrtTensor, toOrtTensor } from './ort-tensor.js';
