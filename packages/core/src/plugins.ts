import type { DType, QuantDType } from './dtype.js';
import type { Granularity, LinearQuantParams } from './quant-params.js';
import type { Tensor } from './tensor.js';

/** The plugin API version this build of @quantkit/core speaks. A plugin declares the version it was written for. */
export const API_VERSION = 1;

export type PluginKind = 'quantizer' | 'observer' | 'target' | 'kernel' | 'backend' | 'executor';
export const PLUGIN_KINDS: readonly PluginKind[] = [
  'quantizer',
  'observer',
  'target',
  'kernel',
  'backend',
  'executor',
];

interface PluginBase<K extends PluginKind> {
  readonly kind: K;
  /** Unique within its kind; what users type after --quantizer, --calib-method, --target. */
  readonly name: string;
  readonly apiVersion: number;
  /** One line for `quantkit plugins`. */
  readonly description?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Quantizers

/**
 * What a quantizer is asked to do for one tensor. Plugins may read extra keys of their own; unknown keys that a
 * plugin does not understand are ignored.
 */
export interface QuantizerOptions {
  /** Code width in bits. */
  readonly bits: number;
  /** Zero point fixed at 0 (symmetric) or chosen from the range (asymmetric). */
  readonly symmetric: boolean;
  readonly granularity: Granularity;
  /** Channel or block axis (e.g. 0 for Conv weights [M, C, kH, kW], 1 for MatMul weights [K, N]). */
  readonly axis?: number;
  /** Elements per block along axis, for granularity 'block'. */
  readonly blockSize?: number;
  /** Storage signedness; defaults to signed when symmetric, unsigned when asymmetric. */
  readonly signed?: boolean;
  /** Symmetric only: use [-(2^(b-1) - 1), 2^(b-1) - 1], dropping the lowest code so the range is balanced. */
  readonly restrictedRange?: boolean;
  /** Use one bit less than `bits` (x86 without VNNI avoids 16-bit saturation this way). */
  readonly reduceRange?: boolean;
  readonly [option: string]: unknown;
}

/** Observed value range: one min/max per tensor (length 1), or per channel along `axis`. */
export interface ValueRange {
  readonly min: Float32Array;
  readonly max: Float32Array;
  readonly axis?: number | undefined;
}

/** Codes plus the linear parameters that dequantize them: `x' = (code - zeroPoint) * scale`. */
export interface QuantizedTensor {
  readonly codes: Tensor<QuantDType>;
  /**
   * Dequantization parameters: `x' = (code - zeroPoint) * scale`, or with `lookup`, `x' = lookup.table[code] *
   * scale` (zero points unused).
   */
  readonly params: LinearQuantParams;
  /**
   * For codes that do not dequantize linearly (e.g. logarithmic codes with more exponent steps than an int8 power
   * of two can hold): codes are unsigned indices into `table`, and the stock-ONNX form is a Gather over the table.
   */
  readonly lookup?: { readonly table: Float32Array } | undefined;
}

/**
 * A weight in a quantizer's own compact layout (1-bit rows, log codes...), written into `ai.quantkit` custom ops
 * by `--format packed` for quantkit's kernel runtime. `format` names the layout for the kernels that read it.
 */
export interface PackedWeight {
  readonly format: string;
  /** The packed bytes. */
  readonly data: Uint8Array;
  /** The logical shape of the weight the bytes hold. */
  readonly shape: readonly number[];
  /** Per-group scales (per output channel, per tensor...), as the format defines. */
  readonly scale: Float32Array;
  /** Further integer or string facts the kernels need (bits, axis, row stride...). */
  readonly attributes: Readonly<Record<string, number | string>>;
}

/** Optional capability of a quantizer: its own packed storage, lossless with respect to its codes. */
export interface QuantizerPacking {
  pack(quantized: QuantizedTensor): PackedWeight;
  /** Inverse of pack: the same codes and parameters. */
  unpack(packed: PackedWeight): QuantizedTensor;
}

export interface QuantizerCapabilities {
  readonly bits: readonly number[];
  readonly granularities: readonly Granularity[];
  /** Which values of QuantizerOptions.symmetric the quantizer accepts. */
  readonly symmetric: readonly boolean[];
  /** Whether paramsForRange is implemented, so activations can use this quantizer. */
  readonly activations: boolean;
}

/**
 * Turns float weights (and, for activation-capable quantizers, calibrated ranges) into codes and parameters.
 *
 * @example
 * const int8 = registry.get('quantizer', 'linear');
 * const { codes, params } = int8.quantizeWeight(weight, { bits: 8, symmetric: true, granularity: 'channel', axis: 0 });
 */
export interface QuantizerPlugin extends PluginBase<'quantizer'> {
  readonly capabilities: QuantizerCapabilities;
  /**
   * Parameters for values that lie in `range` (activations after calibration).
   * @throws QuantError INVALID_ARGUMENT for options outside capabilities.
   */
  paramsForRange?(range: ValueRange, options: QuantizerOptions): LinearQuantParams;
  /**
   * Quantizes a float weight tensor.
   * @throws QuantError INVALID_ARGUMENT for options outside capabilities.
   */
  quantizeWeight(weight: Tensor<'float32'>, options: QuantizerOptions): QuantizedTensor;
  /** Packed storage for `--format packed` (ai.quantkit custom ops run by quantkit's kernel runtime). */
  readonly packing?: QuantizerPacking;
  /**
   * Layers this quantizer should leave at 8 bits by default, e.g. binary networks keep the first and last layers
   * in int8; 'first-last' means the first and last weight layers in graph order.
   */
  readonly keepHigherPrecision?: 'first-last';
}

// ---------------------------------------------------------------------------------------------------------------
// Observers (calibration strategies)

export interface ObserverOptions {
  /** 'tensor' (default) or 'channel' along axis. */
  readonly granularity?: 'tensor' | 'channel';
  readonly axis?: number;
  /** Symmetric ranges are widened to [-m, m]. */
  readonly symmetric?: boolean;
  readonly [option: string]: unknown;
}

/**
 * The bounded state of an observer as plain, JSON-friendly data, so calibration can be cached, resumed and split
 * across workers. `arrays` holds the observer's running statistics (min/max, histogram bins...); they may contain
 * non-finite numbers (running extremes start at +-Infinity), which a serializer must encode.
 */
export interface ObserverState {
  /** Name of the observer plugin that wrote the state. */
  readonly observer: string;
  /** Format version of that observer's state (1 for every built-in observer today). */
  readonly version: number;
  /** The options the observer was created with, so `restore` and `merge` can rebuild and compare them. */
  readonly options: {
    readonly granularity: 'tensor' | 'channel';
    readonly axis?: number | undefined;
    readonly symmetric: boolean;
    /** Observer-specific options (bins, percentile, ...), JSON values only. */
    readonly [option: string]: string | number | boolean | undefined;
  };
  readonly batches: number;
  readonly arrays: Readonly<Record<string, readonly number[]>>;
}

/** A histogram an observer keeps, for reports: `counts[i]` values fell in `[min + i * w, min + (i + 1) * w)`. */
export interface ObserverHistogram {
  readonly min: number;
  readonly max: number;
  readonly counts: readonly number[];
}

/**
 * Folds batches of one tensor into bounded state and reports a range. Never keeps raw values.
 *
 * The optional members are capabilities: an observer that implements `saveState` (and whose plugin implements
 * `restore`) can be cached and resumed; one that implements `merge` can be split across workers.
 */
export interface Observer {
  observe(values: ArrayLike<number>, shape: readonly number[]): void;
  /** Number of batches observed. */
  readonly batches: number;
  /**
   * The range chosen from everything observed so far.
   * @throws QuantError CALIBRATION_DATA when nothing was observed.
   */
  range(): ValueRange;
  /** A plain copy of the observer's bounded state; `plugin.restore(state)` continues from it. */
  saveState?(): ObserverState;
  /**
   * Folds in the state of another observer of the same plugin and options (e.g. one that ran on another worker
   * over other samples). The result has the range one observer would have reached over all batches (up to
   * histogram re-binning); order-dependent observers treat the merged batches as coming after their own.
   * @throws QuantError CALIBRATION_DATA when the state comes from another plugin, other options or another layout.
   */
  merge?(state: ObserverState): void;
  /** The histogram behind the range, for reports; undefined when the observer keeps none (or is per channel). */
  histogram?(): ObserverHistogram | undefined;
}

export interface ObserverPlugin extends PluginBase<'observer'> {
  create(options?: ObserverOptions): Observer;
  /**
   * Rebuilds an observer from `saveState()` output.
   * @throws QuantError CALIBRATION_DATA when the state was written by another plugin or is malformed.
   */
  restore?(state: ObserverState): Observer;
}

// ---------------------------------------------------------------------------------------------------------------
// Target profiles

export type QuantFormat = 'qdq' | 'qoperator' | 'packed';

/** An activation x weight element-type pair a target's integer kernels take (e.g. u8 x s8). */
export interface TargetTypePair {
  readonly activation: QuantDType;
  readonly weight: QuantDType;
}

/**
 * Precisions beyond the 8-bit activation/weight pair that a target runs correctly (not necessarily faster):
 * - 'int4-weight': 4-bit weights (int4/uint4 DequantizeLinear at opset 21, com.microsoft MatMulNBits);
 * - 'int16-activation': int16/uint16 activation Q/DQ;
 * - 'fp16' / 'bf16': 16-bit float weights and compute;
 * - 'fp8e4m3fn' / 'fp8e5m2': float8 Q/DQ (opset 19+).
 */
export type TargetPrecision = 'int4-weight' | 'int16-activation' | 'fp16' | 'bf16' | 'fp8e4m3fn' | 'fp8e5m2';

/**
 * What a detector found out about the machine (or browser) quantkit runs on; `TargetPlugin.detect` reads it.
 * Gathered by `detectTarget` (browser-safe) or `detectHostTarget` (Node, reads /proc/cpuinfo) in @quantkit/targets.
 */
export interface TargetHost {
  /** Where quantkit runs: Node.js, a browser (or worker), or something else. */
  readonly environment: 'node' | 'browser' | 'unknown';
  /** CPU architecture as Node's process.arch names it ('x64', 'arm64', 'ia32', ...); undefined in a browser. */
  readonly arch?: string | undefined;
  /** CPU feature flags, lower case as Linux /proc/cpuinfo spells them (avx2, avx512_vnni, asimddp, ...). */
  readonly cpuFlags: ReadonlySet<string>;
  /** Whether the WebAssembly engine validates SIMD (v128) code; undefined when not probed. */
  readonly wasmSimd?: boolean | undefined;
}

/**
 * What a hardware target runs, so the planner can choose types and formats it executes fast, and the
 * compatibility check can reject what it cannot run.
 *
 * @example
 * const plan = {
 *   activationDtype: target.activation.dtype,          // 'uint8'
 *   weightBits: target.weight.reduceRange ? 7 : 8,      // x86 without VNNI
 *   format: target.formats[0],                          // 'qdq'
 * };
 */
export interface TargetPlugin extends PluginBase<'target'> {
  /**
   * Activation codes the planner should emit: element type, whether the zero point is fixed in the middle of the
   * range (0 for signed types, 2^(bits-1) for unsigned) and the code width (8 when omitted; 16 needs the
   * 'int16-activation' precision).
   */
  readonly activation: { readonly dtype: QuantDType; readonly symmetric: boolean; readonly bits?: number };
  /**
   * Weight codes the planner should emit: element type, symmetry (as for activations), whether scales may vary
   * per output channel, and reduceRange: use one bit less than the type holds (7-bit codes in int8), which x86
   * CPUs without VNNI need so the u8 x s8 pair products of VPMADDUBSW cannot saturate 16 bits.
   */
  readonly weight: {
    readonly dtype: QuantDType;
    readonly symmetric: boolean;
    readonly perChannel: boolean;
    readonly reduceRange: boolean;
  };
  /** Output formats the target runs, preferred first. */
  readonly formats: readonly QuantFormat[];
  /** Op types (default ONNX domain) the target runs quantized; others stay float. */
  readonly quantizedOps: readonly string[];
  /**
   * Activation x weight type pairs the target's integer kernels take, preferred first; the first is
   * { activation.dtype, weight.dtype }. Undefined means only that pair.
   */
  readonly typePairs?: readonly TargetTypePair[];
  /**
   * The runtime that executes the models: 'onnxruntime-cpu', 'onnxruntime-web', 'tensorrt', 'nnie' or another
   * name. Rules that know a runtime's kernels (e.g. onnxruntime has no int8 ConvInteger) key on it.
   */
  readonly runtime?: string;
  /**
   * True when the target has no fallback for what lies outside its profile (TensorRT, NPUs): other types,
   * asymmetric codes where symmetric ones are wanted, precisions not listed are errors. False or absent for
   * runtimes that fall back to slower kernels or float (onnxruntime): those are warnings.
   */
  readonly strict?: boolean;
  /**
   * True when every consumer of a quantized activation needs its own QuantizeLinear/DequantizeLinear pair
   * (TensorRT explicit quantization fuses a pair into one consumer only).
   */
  readonly qdqPerConsumer?: boolean;
  /** How values map to codes: 'linear' (scale and zero point, the default) or 'log' (sign + power-of-two exponent). */
  readonly method?: 'linear' | 'log';
  /** Precisions beyond the 8-bit pair that the target runs; none when omitted. */
  readonly precisions?: readonly TargetPrecision[];
  /** Lowest default-domain opset the target's quantized models need (e.g. 13 for TensorRT per-channel Q/DQ). */
  readonly minOpset?: number;
  /**
   * Runtime kernels the quantized ops map to, as op types ('QLinearConv') or 'domain.OpType'
   * ('com.microsoft.QGemm'); for listings and for planners that look for one (e.g. MatMulNBits).
   */
  readonly kernels?: readonly string[];
  /**
   * Whether the host looks like this target (e.g. CPU flags include avx512_vnni). Targets that cannot be
   * recognised from the host (a GPU behind TensorRT, an NPU) omit it and are only chosen by name.
   */
  detect?(host: TargetHost): boolean | Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------------------------
// Kernels and backends (runtime)

/**
 * A node attribute as a kernel reads it. A graph attribute (If branches, Loop bodies) is an opaque handle that only
 * {@link KernelContext.runSubgraph} understands.
 */
export type KernelAttributeValue =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'tensor'; readonly value: Tensor }
  | { readonly type: 'tensors'; readonly value: readonly Tensor[] }
  | { readonly type: 'graph'; readonly value: KernelSubgraph };

/** A subgraph held by an attribute, run through {@link KernelContext.runSubgraph}. */
export interface KernelSubgraph {
  /** Names of the subgraph's inputs (a Loop body's iteration count, condition and carried values). */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The subgraph's declared outputs (element type and shape where the model gives them). */
  readonly outputs: readonly KernelValueInfo[];
}

/**
 * Typed reads of a node's attributes. A read without a fallback of an attribute the node lacks, or of one of another
 * type, throws QuantError INVALID_MODEL naming the node and the attribute.
 */
export interface KernelAttributes {
  has(name: string): boolean;
  get(name: string): KernelAttributeValue | undefined;
  int(name: string, fallback?: number): number;
  ints(name: string, fallback?: readonly number[]): readonly number[];
  float(name: string, fallback?: number): number;
  floats(name: string, fallback?: readonly number[]): readonly number[];
  string(name: string, fallback?: string): string;
  tensor(name: string): Tensor;
  graph(name: string): KernelSubgraph;
}

/** What the runtime knows of a value before running: its type, its shape where fixed, its data for initializers. */
export interface KernelValueInfo {
  readonly name: string;
  readonly dtype?: DType;
  /** Dimensions; undefined where symbolic or unknown. Absent when the rank is unknown. */
  readonly shape?: readonly (number | undefined)[];
  /** The value's data when it is an initializer or a Constant's output: prepare may pack it once. */
  readonly constant?: Tensor;
}

/** A node as its kernel sees it when the runtime plans a model (once, before any run). */
export interface KernelNode {
  readonly name: string;
  readonly opType: string;
  /** '' for the default ONNX domain. */
  readonly domain: string;
  /** The opset version the model imports for the node's domain. */
  readonly opset: number;
  readonly attributes: KernelAttributes;
  /** One entry per input slot; undefined for an omitted optional input. */
  readonly inputs: readonly (KernelValueInfo | undefined)[];
  readonly outputs: readonly KernelValueInfo[];
  /** 'Conv node "conv1"', for error messages. */
  readonly label: string;
}

/** What a kernel may ask of the runtime while it runs. */
export interface KernelContext {
  /** Runs a subgraph with its inputs in order; outer-scope values it reads come from the running graph. */
  runSubgraph(graph: KernelSubgraph, inputs: readonly Tensor[]): Promise<Tensor[]>;
}

/**
 * A compute backend: plain JavaScript, WebAssembly SIMD, or a user's own. The runtime initialises each backend once,
 * the first time a model is planned, and remembers a failure (a browser without WASM SIMD) so it is not retried;
 * kernels of a backend that failed are never chosen.
 *
 * @example
 * const jsBackend: BackendPlugin<void> = { kind: 'backend', name: 'js', apiVersion: 1, priority: 0, init: async () => {} };
 */
export interface BackendPlugin<Handle = unknown> extends PluginBase<'backend'> {
  /** Among the backends whose init succeeded and that have a kernel for a node, the highest priority wins. */
  readonly priority: number;
  /**
   * Starts the backend (compiles modules, checks and verifies features) and returns the handle its kernels get in
   * prepare.
   * @throws anything: the backend is then unavailable, and the runtime says why when asked.
   */
  init(): Promise<Handle>;
}

/**
 * A kernel: one op (of one domain) on one backend. The runtime prepares it once per node when it plans a model
 * (pack weights, pick a code path from the input types and attributes) and runs the prepared state on each run.
 *
 * @example
 * const relu: KernelPlugin<void> = {
 *   kind: 'kernel', name: 'js/Relu', apiVersion: 1, opType: 'Relu', domain: '', backend: 'js',
 *   prepare: () => undefined,
 *   run: (_state, [x]) => [{ ...x!, data: x!.data.map((v) => Math.max(0, v)) }],
 * };
 */
export interface KernelPlugin<State = unknown, Handle = unknown> extends PluginBase<'kernel'> {
  readonly opType: string;
  /** '' for the default ONNX domain, 'com.microsoft', 'ai.quantkit', ... */
  readonly domain: string;
  /** The name of the backend plugin whose handle prepare receives. */
  readonly backend: string;
  /** Opset versions of the domain the kernel implements (all when omitted). */
  readonly opsets?: { readonly min?: number; readonly max?: number };
  /**
   * Whether this kernel handles the node (its input types, attributes); when false the runtime tries the kernels
   * of lower-priority backends. A reason string instead of false is shown when no kernel is left.
   */
  supports?(node: KernelNode): true | false | string;
  /** Once per node, when the model is planned. */
  prepare(node: KernelNode, backend: Handle): State | Promise<State>;
  /**
   * Computes the outputs (one per node output; a trailing optional output may be left out) from the inputs (one
   * per input slot, undefined for an omitted optional input).
   */
  run(
    state: State,
    inputs: readonly (Tensor | undefined)[],
    context: KernelContext,
  ): readonly Tensor[] | Promise<readonly Tensor[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Executors (run float or quantized models for calibration and evaluation)

export interface ExecutorSessionOptions {
  /** Intra-op threads; executors choose a default. */
  readonly threads?: number;
}

export interface ExecutorSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model. `fetch` limits which outputs are computed (all when omitted).
   * @throws QuantError EXECUTOR naming the model input or output at fault.
   */
  run(feeds: Readonly<Record<string, Tensor>>, fetch?: readonly string[]): Promise<Record<string, Tensor>>;
  dispose(): Promise<void>;
}

export interface ExecutorPlugin extends PluginBase<'executor'> {
  /**
   * Opens a session on a serialized ONNX model.
   * @throws QuantError EXECUTOR when the runtime refuses the model.
   */
  createSession(model: Uint8Array, options?: ExecutorSessionOptions): Promise<ExecutorSession>;
}

export type Plugin =
  | QuantizerPlugin
  | ObserverPlugin
  | TargetPlugin
  | KernelPlugin
  | BackendPlugin
  | ExecutorPlugin;
export type PluginOfKind<K extends PluginKind> = Extract<Plugin, { kind: K }>;
