import { API_VERSION, QuantError } from '@quantkit/core';
import {
  type OrtExecutorPlugin,
  type OrtExecutorSettings,
  createOrtExecutor,
  openOrtSession,
} from './create-ort-executor.js';
import type { OrtEnv, OrtModule } from './ort-module.js';

export interface LazyOrtExecutorSettings extends OrtExecutorSettings {
  /**
   * Runs once on the loaded module before the first session, e.g. to set `ort.env.wasm.numThreads` or
   * `ort.env.wasm.wasmPaths`.
   */
  readonly configure?: (ort: OrtModule & { readonly env: OrtEnv }) => void | Promise<void>;
}

/** An executor that loads its onnxruntime module on first use. */
export interface LazyOrtExecutorPlugin extends OrtExecutorPlugin {
  /**
   * Loads (once) and returns the runtime module; a failure is remembered and rethrown.
   * @throws QuantError EXECUTOR with install advice when the module cannot be loaded.
   */
  load(): Promise<OrtModule>;
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(message)) &&
    message.includes(packageName)
  );
}

/**
 * Builds an executor plugin whose runtime module is imported on first use, so importing quantkit never loads a
 * native addon or a wasm binary the caller does not use.
 *
 * @param importModule imports the runtime, e.g. `() => import('onnxruntime-web')`.
 * @param packageName the npm package `importModule` loads, for the install advice.
 * @example
 * const executor = createLazyOrtExecutor('ort-node', () => import('onnxruntime-node'), 'onnxruntime-node');
 * @throws QuantError EXECUTOR from `load`/`createSession` when the package is missing (saying how to install it) or
 *   fails to load.
 */
export function createLazyOrtExecutor(
  defaultName: string,
  importModule: () => Promise<unknown>,
  packageName: string,
  settings: LazyOrtExecutorSettings = {},
): LazyOrtExecutorPlugin {
  const name = settings.name ?? defaultName;
  let loading: Promise<OrtModule> | undefined;

  function load(): Promise<OrtModule> {
    // One attempt per plugin: a failed import is remembered rather than retried on every session.
    loading ??= (async () => {
      let imported: unknown;
      try {
        imported = await importModule();
      } catch (error) {
        if (isModuleNotFound(error, packageName)) {
          throw new QuantError(
            'EXECUTOR',
            `executor "${name}" needs ${packageName}, which is not installed; run "npm install ${packageName}" ` +
              '(it is an optional peer dependency of @quantkit/executor-ort)',
            { cause: error },
          );
        }
        throw new QuantError(
          'EXECUTOR',
          `executor "${name}" could not load ${packageName}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const namespace = imported as Partial<OrtModule> & { default?: OrtModule };
      const ort = (typeof namespace.InferenceSession === 'function' || typeof namespace.InferenceSession === 'object'
        ? namespace
        : namespace.default) as OrtModule | undefined;
      // Validates the shape of the module, so a wrong package fails here and not inside a run.
      createOrtExecutor(ort as OrtModule, settings);
      await settings.configure?.(ort as OrtModule & { readonly env: OrtEnv });
      return ort as OrtModule;
    })();
    return loading;
  }

  return {
    kind: 'executor',
    name,
    apiVersion: API_VERSION,
    description: `runs models on ${packageName}`,
    load,
    async createSession(model, options = {}) {
      return openOrtSession(await load(), name, model, settings, options);
    },
  };
}
