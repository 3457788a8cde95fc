import { type LazyOrtExecutorPlugin, type LazyOrtExecutorSettings, createLazyOrtExecutor } from './create-lazy-ort-executor.js';

// A specifier in a variable keeps browser bundlers from trying to resolve the native addon package when they bundle
// the main entry (which browsers use for createOrtExecutor with onnxruntime-web passed in).
const NODE_PACKAGE = 'onnxruntime-node';

/**
 * The executor for Node: imports `onnxruntime-node` on first use (it is an optional peer dependency).
 *
 * @example
 * const registry = createRegistry([createOrtNodeExecutor()]);
 * const session = await registry.get('executor', 'ort-node').createSession(modelBytes, { threads: 2 });
 * @throws QuantError EXECUTOR from `createSession` with install advice when onnxruntime-node is not installed.
 */
export function createOrtNodeExecutor(settings: LazyOrtExecutorSettings = {}): LazyOrtExecutorPlugin {
  return createLazyOrtExecutor('ort-node', () => import(/* @vite-ignore */ NODE_PACKAGE), NODE_PACKAGE, settings);
}
