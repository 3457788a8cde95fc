import type { Plugin } from '@quantkit/core';
import { jsBackend, jsKernels } from './js/index.js';
import { wasmSimdBackend, wasmSimdKernels } from './wasm/index.js';

/** The JS backend and its kernels alone: every op, everywhere (the reference the other backends are held to). */
export const jsRuntimePlugins: readonly Plugin[] = [jsBackend as Plugin, ...(jsKernels as readonly Plugin[])];

/**
 * The runtime's built-in backends and kernels, to put in a registry: WebAssembly SIMD where the engine has it
 * (checked when the runtime starts it), the JS kernels for every op it lacks or declines.
 *
 * @example
 * const runtime = createRuntime(createRegistry([...builtinRuntimePlugins]));
 */
export const builtinRuntimePlugins: readonly Plugin[] = [
  ...jsRuntimePlugins,
  wasmSimdBackend as Plugin,
  ...(wasmSimdKernels as readonly Plugin[]),
];
