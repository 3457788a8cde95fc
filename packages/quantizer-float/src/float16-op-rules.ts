// Which operators, inputs and outputs float16 conversion treats specially, and why: the op knowledge of
// convertToFloat16 in one place.

/**
 * Operators {@link convertToFloat16} keeps in float32 unless told otherwise, and why:
 * - `Range`, `NonMaxSuppression`: the ONNX spec gives them no float16 type.
 * - `RoiAlign`: box coordinates are pixel positions; float16 loses whole pixels above 2048.
 * - `TopK`: float16 rounding merges near-equal scores, which changes the returned indices.
 * - `CumSum`: a running sum in float16 loses the small terms after a few thousand elements.
 * - `RandomNormal`, `RandomUniform`, `RandomNormalLike`, `RandomUniformLike`, `Bernoulli`, `Multinomial`: their
 *   output type is set by a `dtype` attribute, not by their inputs.
 * - `QuantizeLinear`, `DequantizeLinear`, `DynamicQuantizeLinear`: below opset 19 their scales must be float32, and
 *   calibrated scales are float32 quantities anyway.
 * - `Pow`: onnxruntime's CPU provider has no float16 Pow; the Cast it inserts for one breaks its LayerNorm fusion
 *   (a decomposed LayerNorm, Pow -> ReduceMean -> Sqrt, as PyTorch exports it, then fails to load), and squares
 *   of activations overflow float16 early anyway.
 * Operators outside the default ONNX domain (ai.onnx.ml, com.microsoft, ...) stay float32 too, except the ones in
 * {@link FLOAT16_CUSTOM_OPS}. Nodes with subgraphs (If, Loop, Scan) keep float32 inputs and outputs; their bodies
 * are converted by the same rules.
 */
export const DEFAULT_FLOAT16_BLOCK_LIST: readonly string[] = [
  'Range',
  'NonMaxSuppression',
  'RoiAlign',
  'TopK',
  'CumSum',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'Pow',
];

/**
 * Custom-domain operators (`domain:opType`) that take float16 for all their float inputs: com.microsoft
 * MatMulNBits (its activations, scales and bias share one type T1), so 4-bit weights combine with float16 for
 * everything else (transformers.js "q4f16").
 */
export const FLOAT16_CUSTOM_OPS: readonly string[] = ['com.microsoft:MatMulNBits'];

/**
 * Inputs that stay float32 in converted nodes because the spec allows only float32 there: Resize's `roi` and
 * `scales` (scales is tensor(float) only; roi is kept with it, it is tiny) and Upsample's `scales`.
 */
export const FLOAT32_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [1, 2], Upsample: [1] };

/** Outputs that keep their type in converted nodes: LayerNormalization's Mean and InvStdDev use stash_type. */
export const FIXED_OUTPUTS: Readonly<Record<string, readonly number[]>> = { LayerNormalization: [1, 2] };

/** Ops whose outputs are shape arithmetic when all their inputs are (see `shapeDerivedValues`). */
export const SHAPE_SOURCES: ReadonlySet<string> = new Set(['Shape', 'Size']);
