import type { ExecutorPlugin, Registry } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { createOrtWebExecutor } from '@quantkit/executor-ort/web';
import { createRuntimeExecutor } from '@quantkit/runtime';

/** The runtimes `quantkit run` and `quantkit bench` run models on. */
export const RUNTIMES = ['quantkit', 'ort-node', 'ort-web'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/**
 * The executor for a runtime name: quantkit's own kernel runtime over the registry's backends and kernels (the
 * built-ins and any from --plugin), onnxruntime-node (graph optimizations at level all, as deployed), or
 * onnxruntime-web's wasm backend with `threads` threads.
 */
export function executorFor(runtime: RuntimeName, threads: number, registry: Registry): ExecutorPlugin {
  switch (runtime) {
    case 'quantkit':
      return createRuntimeExecutor({
        plugins: registry.plugins.filter((plugin) => plugin.kind === 'kernel' || plugin.kind === 'backend'),
      });
    case 'ort-node':
      return createOrtNodeExecutor();
    case 'ort-web':
      return createOrtWebExecutor({
        configure: (ort) => {
          ort.env.wasm.numThreads = threads;
        },
      });
  }
}
