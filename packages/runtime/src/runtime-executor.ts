import {
  API_VERSION,
  type ExecutorPlugin,
  type ExecutorSession,
  type Plugin,
  QuantError,
  createRegistry,
} from '@quantkit/core';
import { builtinRuntimePlugins } from './builtins.js';
import { type LoadOptions, createRuntime } from './runtime.js';

export interface RuntimeExecutorSettings {
  /** Plugin name (default 'quantkit-runtime'). */
  readonly name?: string;
  /** Backends and kernels to run with (default: the built-ins). Add your own kernels to the list. */
  readonly plugins?: readonly Plugin[];
  /** See {@link LoadOptions}. */
  readonly fuseQdq?: boolean;
}

/**
 * quantkit's runtime as an executor plugin, so calibration, `compare` and verification run on it: in browsers
 * without onnxruntime-web, and for models with ops stock runtimes lack (`ai.quantkit` packed ops). Sessions run on
 * one thread; `threads` is ignored.
 *
 * @example
 * const result = await quantizeModel(bytes, { mode: 'static', executor: createRuntimeExecutor(), calibrationData });
 */
export function createRuntimeExecutor(settings: RuntimeExecutorSettings = {}): ExecutorPlugin {
  const runtime = createRuntime(createRegistry(settings.plugins ?? builtinRuntimePlugins));
  const name = settings.name ?? 'quantkit-runtime';
  return {
    kind: 'executor',
    name,
    apiVersion: API_VERSION,
    description: "quantkit's own kernel runtime (JS and WebAssembly SIMD backends)",
    async createSession(model): Promise<ExecutorSession> {
      let session: Awaited<ReturnType<typeof runtime.load>>;
      try {
        session = await runtime.load(model, { fuseQdq: settings.fuseQdq !== false });
      } catch (error) {
        throw asExecutorError(error, `${name} cannot run the model`);
      }
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        async run(feeds, fetch) {
          try {
            return await session.run(feeds, fetch);
          } catch (error) {
            throw asExecutorError(error, `${name} failed to run the model`);
          }
        },
        dispose: async () => undefined,
      };
    },
  };
}

/** An executor's failures carry code EXECUTOR (what callers of an executor expect), with the runtime's words. */
function asExecutorError(error: unknown, context: string): QuantError {
  const message = error instanceof Error ? error.message : String(error);
  return new QuantError('EXECUTOR', `${context}: ${message}`, { cause: error });
}
