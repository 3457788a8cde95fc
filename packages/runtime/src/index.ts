export { type BackendStatus, Backends, type ChosenKernel, KernelIndex } from './kernel-choice.js';
export type { KernelAssignment } from './planned-graph.js';
export { type LoadOptions, type Runtime, type RuntimeSession, createRuntime } from './runtime.js';
export { jsBackend, jsKernel, jsKernels, type JsKernelDefinition } from './js/index.js';
export { builtinRuntimePlugins, jsRuntimePlugins } from './builtins.js';
export { type FuseQdqResult, fuseQdq } from './fuse-qdq.js';
export { type WasmSimdHandle, wasmSimdBackend, wasmSimdKernels } from './wasm/index.js';
export { type RuntimeExecutorSettings, createRuntimeExecutor } from './runtime-executor.js';
