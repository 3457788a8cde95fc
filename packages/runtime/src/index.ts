export { type BackendStatus, Backends, type ChosenKernel, KernelIndex } from './kernel-choice.js';
export type { KernelAssignment } from './planned-graph.js';
export { type Runtime, type RuntimeSession, createRuntime } from './runtime.js';
export { jsBackend, jsKernel, jsKernels, type JsKernelDefinition } from './js/index.js';
export { builtinRuntimePlugins } from './builtins.js';
export { type RuntimeExecutorSettings, createRuntimeExecutor } from './runtime-executor.js';
