import {
  API_VERSION,
  type DType,
  type ExecutorPlugin,
  type ExecutorSession,
  type ExecutorSessionOptions,
  QuantError,
  type Tensor,
} from '@quantkit/core';
import type { OrtGraphOptimizationLevel, OrtModule, OrtSession, OrtSessionOptions, OrtTensor } from './ort-module.js';
import { fromOrtTensor, toOrtTensor } from './ort-tensor.js';

export interface OrtExecutorSettings {
  /** Plugin name: 'ort-node' or 'ort-web' by convention. Default 'onnxruntime'. */
  readonly name?: string;
  /** Default 'all'. Calibration exposes intermediate outputs as graph outputs, which every level preserves. */
  readonly graphOptimizationLevel?: OrtGraphOptimizationLevel;
  /** e.g. ['cpu'] for onnxruntime-node, ['wasm'] for onnxruntime-web. Default: the runtime's own default. */
  readonly executionProviders?: readonly string[];
  /** Further ort session options, passed through unchanged (they win over the ones above). */
  readonly sessionOptions?: Readonly<Record<string, unknown>>;
}

/** A model input or output as onnxruntime reports it; `dtype` is undefined for types quantkit has no name for. */
export interface OrtValueInfo {
  readonly name: string;
  readonly dtype?: DType | undefined;
  readonly shape?: readonly (number | string)[] | undefined;
}

/** An executor session that also reports the model's inputs and outputs (empty before onnxruntime 1.22). */
export interface OrtExecutorSession extends ExecutorSession {
  readonly inputs: readonly OrtValueInfo[];
  readonly outputs: readonly OrtValueInfo[];
}

export interface OrtExecutorPlugin extends ExecutorPlugin {
  createSession(model: Uint8Array, options?: ExecutorSessionOptions): Promise<OrtExecutorSession>;
}

const KNOWN_TYPES = new Set<string>(['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'uint16', 'int8', 'uint8', 'bool']);

function quoted(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.map((name) => JSON.stringify(name)).join(', ');
}

function describeFeed(name: string, tensor: Tensor): string {
  return `"${name}" ${tensor.dtype}[${tensor.shape.join(', ')}]`;
}

function valueInfos(metadata: OrtSession['inputMetadata']): OrtValueInfo[] {
  return (metadata ?? []).map((value) => ({
    name: value.name,
    dtype: value.isTensor && value.type !== undefined && KNOWN_TYPES.has(value.type) ? (value.type as DType) : undefined,
    shape: value.isTensor ? value.shape?.slice() : undefined,
  }));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function wrapSession(ort: OrtModule, session: OrtSession, runtimeName: string): OrtExecutorSession {
  const inputNames = [...session.inputNames];
  const outputNames = [...session.outputNames];
  const inputs = valueInfos(session.inputMetadata);
  const outputs = valueInfos(session.outputMetadata);
  let disposed = false;

  function checkFeeds(feeds: Readonly<Record<string, Tensor>>, fetch: readonly string[] | undefined): void {
    const given = Object.keys(feeds);
    const missing = inputNames.filter((name) => !given.includes(name));
    const unknown = given.filter((name) => !inputNames.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      const parts = [
        missing.length > 0 ? `missing input(s) ${quoted(missing)}` : '',
        unknown.length > 0 ? `unknown input(s) ${quoted(unknown)}` : '',
      ].filter(Boolean);
      throw new QuantError('EXECUTOR', `${parts.join(' and ')}; the model's inputs are ${quoted(inputNames)}`);
    }
    for (const info of inputs) {
      const tensor = feeds[info.name]!;
      // Checked here because onnxruntime's own message does not always name the input.
      if (info.dtype !== undefined && tensor.dtype !== info.dtype) {
        throw new QuantError(
          'EXECUTOR',
          `input "${info.name}" expects ${info.dtype} data, got ${describeFeed(info.name, tensor)}`,
        );
      }
    }
    const unknownOutputs = (fetch ?? []).filter((name) => !outputNames.includes(name));
    if (unknownOutputs.length > 0) {
      throw new QuantError(
        'EXECUTOR',
        `unknown output(s) ${quoted(unknownOutputs)} requested; the model's outputs are ${quoted(outputNames)}`,
      );
    }
  }

  return {
    inputNames,
    outputNames,
    inputs,
    outputs,
    async run(feeds, fetch) {
      if (disposed) throw new QuantError('EXECUTOR', `this ${runtimeName} session was disposed; create a new one`);
      checkFeeds(feeds, fetch);
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const name of inputNames) {
        try {
          ortFeeds[name] = toOrtTensor(ort, feeds[name]!, `input "${name}"`);
        } catch (error) {
          throw new QuantError('EXECUTOR', errorText(error), { cause: error });
        }
      }
      const wanted = fetch === undefined ? outputNames : [...new Set(fetch)];
      // Nothing to fetch: onnxruntime would compute every output instead, so skip the run.
      if (wanted.length === 0) return {};
      let results: Record<string, OrtTensor>;
      try {
        // onnxruntime-node 1.23 labels the results of a fetch list by position in the session's output list, so
        // fetching ['c', 'a'] returns c's data under the name 'a'. Fetch every output and pick by name instead.
        results = await session.run(ortFeeds);
      } catch (error) {
        const fed = inputNames.map((name) => describeFeed(name, feeds[name]!)).join(', ');
        throw new QuantError(
          'EXECUTOR',
          `${runtimeName} failed to run the model with inputs ${fed} fetching ${quoted(wanted)}: ${errorText(error)}`,
          { cause: error },
        );
      }
      const tensors: Record<string, Tensor> = {};
      for (const name of wanted) {
        const value = results[name];
        if (value === undefined) {
          throw new QuantError('EXECUTOR', `${runtimeName} returned no value for output "${name}"`);
        }
        try {
          tensors[name] = fromOrtTensor(value, `output "${name}"`);
        } catch (error) {
          throw new QuantError('EXECUTOR', errorText(error), { cause: error });
        }
      }
      return tensors;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}

function sessionOptions(settings: OrtExecutorSettings, options: ExecutorSessionOptions): OrtSessionOptions {
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) {
    throw new QuantError('INVALID_ARGUMENT', `threads must be a non-negative integer (0 = runtime default), got ${threads}`);
  }
  return {
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    ...(threads !== undefined && threads > 0 ? { intraOpNumThreads: threads } : {}),
    ...(settings.executionProviders !== undefined ? { executionProviders: [...settings.executionProviders] } : {}),
    ...settings.sessionOptions,
  };
}

/**
 * Opens an onnxruntime session, resolving the runtime module first; shared by the eager and lazy factories.
 * @internal
 */
export async function openOrtSession(
  ort: OrtModule,
  name: string,
  model: Uint8Array,
  settings: OrtExecutorSettings,
  options: ExecutorSessionOptions,
): Promise<OrtExecutorSession> {
  const ortOptions = sessionOptions(settings, options);
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(model, ortOptions);
  } catch (error) {
    throw new QuantError(
      'EXECUTOR',
      `${name} could not load the model (${model.byteLength} bytes): ${errorText(error)}`,
      { cause: error },
    );
  }
  return wrapSession(ort, session, name);
}

/**
 * Creates an executor plugin on an onnxruntime module you pass in, so this package never imports a runtime itself:
 * `onnxruntime-node` in Node, `onnxruntime-web` in browsers (or Node, on its wasm backend).
 *
 * @example
 * import * as ort from 'onnxruntime-node';
 * const executor = createOrtExecutor(ort, { name: 'ort-node' });
 * const session = await executor.createSession(modelBytes, { threads: 2 });
 * const { y } = await session.run({ x: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(1, 2) } });
 * @throws QuantError from `createSession`: EXECUTOR when onnxruntime refuses the model; from `run`: EXECUTOR
 *   naming missing or unknown inputs (listing the expected ones), a wrong dtype, an unknown output, or the inputs
 *   and outputs of a run onnxruntime failed (with its error as `cause`).
 */
export function createOrtExecutor(ort: OrtModule, settings: OrtExecutorSettings = {}): OrtExecutorPlugin {
  if (typeof ort?.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'createOrtExecutor needs the onnxruntime module (import * as ort from "onnxruntime-node" or "onnxruntime-web")',
    );
  }
  const name = settings.name ?? 'onnxruntime';
  return {
    kind: 'executor',
    name,
    apiVersion: API_VERSION,
    description: 'runs models on onnxruntime',
    createSession(model, options = {}) {
      return openOrtSession(ort, name, model, settings, options);
    },
  };
}
