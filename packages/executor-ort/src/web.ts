import { type LazyOrtExecutorPlugin, type LazyOrtExecutorSettings, createLazyOrtExecutor } from './create-lazy-ort-executor.js';

export type { LazyOrtExecutorPlugin, LazyOrtExecutorSettings } from './create-lazy-ort-executor.js';

/**
 * The executor for browsers (and Node without native addons): imports `onnxruntime-web` on first use. Configure
 * its wasm backend with `settings.configure`, e.g. `(ort) => { ort.env.wasm.numThreads = 1; }` where
 * cross-origin isolation is unavailable.
 *
 * @example
 * import { createOrtWebExecutor } from '@quantkit/executor-ort/web';
 * const executor = createOrtWebExecutor({ configure: (ort) => { ort.env.wasm.wasmPaths = '/ort/'; } });
 * @throws QuantError EXECUTOR from `createSession` with install advice when onnxruntime-web is not installed.
 */
export function createOrtWebExecutor(settings: LazyOrtExecutorSettings = {}): LazyOrtExecutorPlugin {
  return createLazyOrtExecutor('ort-web', () => import('onnxruntime-web'), 'onnxruntime-web', settings);
}
