/**
 * The parts of the onnxruntime JS API (onnxruntime-node and onnxruntime-web share it through onnxruntime-common)
 * this package uses. Declared structurally so the package imports neither runtime: the caller passes one in.
 */

/** An ort.Tensor on the CPU. */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export interface OrtTensorConstructor {
  // biome-ignore lint/suspicious/noExplicitAny: ort's constructor is overloaded per element type; any accepts them all.
  new (type: any, data: any, dims?: readonly number[]): OrtTensor;
}

/** Input or output metadata (onnxruntime >= 1.22 reports it; older versions leave it undefined). */
export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadata[];
  readonly outputMetadata?: readonly OrtValueMetadata[];
  /** Always called with the output names to fetch (ort's overload without fetches computes every output). */
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export type OrtGraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OrtSessionOptions {
  graphOptimizationLevel?: OrtGraphOptimizationLevel;
  intraOpNumThreads?: number;
  executionProviders?: readonly string[];
  [option: string]: unknown;
}

/** The `ort.env` settings callers commonly touch before the first session (onnxruntime-common's Env). */
export interface OrtEnv {
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  readonly wasm: {
    /** Worker threads of the wasm backend; 1 where cross-origin isolation (SharedArrayBuffer) is unavailable. */
    numThreads?: number;
    /** Where the .wasm files are served from (browsers); Node finds them in the package's dist folder. */
    wasmPaths?: string | Record<string, string>;
    proxy?: boolean;
    [option: string]: unknown;
  };
  [option: string]: unknown;
}

/** `import * as ort from 'onnxruntime-node'` (or `'onnxruntime-web'`) satisfies this. */
export interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession>;
  };
  readonly Tensor: OrtTensorConstructor;
}
