import type { Plugin } from '@quantkit/core';
import { jsBackend, jsKernels } from './js/index.js';

/**
 * The runtime's built-in backends and kernels, to put in a registry.
 *
 * @example
 * const runtime = createRuntime(createRegistry([...builtinRuntimePlugins]));
 */
export const builtinRuntimePlugins: readonly Plugin[] = [
  jsBackend as Plugin,
  ...(jsKernels as readonly Plugin[]),
];
