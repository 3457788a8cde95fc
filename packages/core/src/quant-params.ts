import { type QuantDType, dtypeInfo } from './dtype.js';
import { QuantError } from './errors.js';
import { axisLayout } from './tensor.js';

/** How many values share one scale: the whole tensor, one slice along an axis, or a block along an axis. */
export type Granularity = 'tensor' | 'channel' | 'block';
export const GRANULARITIES: readonly Granularity[] = ['tensor', 'channel', 'block'];

/**
 * Linear quantization parameters, as ONNX QuantizeLinear / DequantizeLinear use them:
 * `code = saturate(roundHalfToEven(x / scale) + zeroPoint)`, `x' = (code - zeroPoint) * scale`.
 *
 * Binary, ternary and logarithmic codes dequantize linearly too (codes +-1, or +-2^k, times a scale), so this one
 * shape describes every method's stock-ONNX form.
 */
export interface LinearQuantParams {
  /** One scale per tensor, per channel, or per block (row-major over the blocked shape). */
  readonly scale: Float32Array;
  /** Same length as scale; 0 for signed symmetric quantization (the middle code for unsigned symmetric). */
  readonly zeroPoint: Int32Array;
  readonly granularity: Granularity;
  /** The channel or block axis (non-negative); undefined per tensor. */
  readonly axis?: number | undefined;
  /** Elements per block along axis; only for granularity 'block'. */
  readonly blockSize?: number | undefined;
  /** Code width in bits (2..16, or 32 for biases). */
  readonly bits: number;
  /** Storage type of the codes. */
  readonly dtype: QuantDType;
  /** Smallest and largest code used (narrower than the dtype for restricted ranges or sub-width bits). */
  readonly qmin: number;
  readonly qmax: number;
}

/**
 * Shape of the scale/zero-point tensor for a tensor of `shape` quantized with `params`, as ONNX expects:
 * `[]` per tensor, `[D]` per channel, the input shape with `ceil(D / blockSize)` along axis per block.
 */
export function paramShape(shape: readonly number[], params: LinearQuantParams): number[] {
  if (params.granularity === 'tensor') return [];
  const { axis, axisSize } = axisLayout(shape, params.axis ?? 0);
  if (params.granularity === 'channel') return [axisSize];
  const blocked = [...shape];
  blocked[axis] = Math.ceil(axisSize / blockSizeOf(params));
  return blocked;
}

function blockSizeOf(params: LinearQuantParams): number {
  const blockSize = params.blockSize ?? 0;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new QuantError('INVALID_ARGUMENT', `block quantization needs a positive blockSize, got ${params.blockSize}`);
  }
  return blockSize;
}

/**
 * Checks that params fit a tensor of `shape`: scale count, zero points inside the code range, qmin/qmax inside dtype.
 * @throws QuantError INVALID_ARGUMENT describing the first mismatch.
 */
export function validateParams(shape: readonly number[], params: LinearQuantParams): void {
  const expected = paramShape(shape, params).reduce((a, b) => a * b, 1);
  if (params.scale.length !== expected || params.zeroPoint.length !== expected) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${params.granularity} quantization of shape [${shape.join(', ')}] needs ${expected} scales and zero points, ` +
        `got ${params.scale.length} and ${params.zeroPoint.length}`,
    );
  }
  const info = dtypeInfo(params.dtype);
  if (params.qmin < info.min || params.qmax > info.max || params.qmin >= params.qmax) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `code range [${params.qmin}, ${params.qmax}] does not fit ${params.dtype} [${info.min}, ${info.max}]`,
    );
  }
  for (let i = 0; i < expected; i++) {
    const scale = params.scale[i]!;
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new QuantError('INVALID_ARGUMENT', `scale ${i} is ${scale}; scales must be finite and positive`);
    }
    const zeroPoint = params.zeroPoint[i]!;
    if (zeroPoint < params.qmin || zeroPoint > params.qmax) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `zero point ${i} is ${zeroPoint}, outside the code range [${params.qmin}, ${params.qmax}]`,
      );
    }
  }
}
