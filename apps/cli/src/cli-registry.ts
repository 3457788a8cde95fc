import type { ExecutorPlugin, Registry } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { createDefaultRegistry } from '@quantkit/quantize';
import { builtinRuntimePlugins } from '@quantkit/runtime';
import { type LoadedPlugin, loadPlugins } from './load-plugins.js';

/** The registry the CLI works with, and where each extra plugin came from. */
export interface CliRegistry {
  readonly registry: Registry;
  readonly loaded: readonly LoadedPlugin[];
  /** The executor static calibration and `compare` run models on. */
  readonly executor: ExecutorPlugin;
}

/**
 * Builds the CLI's registry: the pipeline's built-ins, the onnxruntime-node executor (the CLI always runs on Node),
 * the runtime's backends and kernels, and the plugins from each --plugin spec.
 *
 * @example const { registry } = await createCliRegistry(['./my-quantizer.mjs'], process.cwd());
 * @throws QuantError PLUGIN_INVALID for a module that fails to load or exports no valid plugin, PLUGIN_CONFLICT for
 * a plugin whose kind and name clash with one already registered.
 */
export async function createCliRegistry(pluginSpecs: readonly string[], cwd: string): Promise<CliRegistry> {
  const loaded = await loadPlugins(pluginSpecs, cwd);
  const nodeExecutor = createOrtNodeExecutor();
  const registry = createDefaultRegistry([
    nodeExecutor,
    ...builtinRuntimePlugins,
    ...loaded.map((entry) => entry.plugin),
  ]);
  return { registry, loaded, executor: nodeExecutor };
}
