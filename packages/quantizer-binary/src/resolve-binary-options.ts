import { QuantError, type QuantizerOptions, axisLayout, listChoices } from '@quantkit/core';

/** The granularities the binary quantizer offers: one alpha per tensor, or one per output channel. */
export const BINARY_GRANULARITIES = Object.freeze(['tensor', 'channel'] as const);

/** Which elements share one alpha, after validation against a weight's shape. */
export interface BinaryLayout {
  readonly granularity: (typeof BINARY_GRANULARITIES)[number];
  /** The channel axis, non-negative; undefined per tensor. */
  readonly axis: number | undefined;
}

function invalid(quantizer: string, message: string): QuantError {
  return new QuantError('INVALID_ARGUMENT', `${quantizer} quantizer: ${message}`);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Checks QuantizerOptions for binary quantization of a weight of `shape` and returns the scale layout.
 * Options that only shape linear code ranges are refused when they ask for something sign codes cannot do
 * (unsigned storage, a reduced range), so a wrong recipe fails loudly instead of being silently ignored.
 * @throws QuantError INVALID_ARGUMENT naming the first bad option and its valid values.
 */
export function resolveBinaryOptions(
  options: QuantizerOptions,
  shape: readonly number[],
  quantizer: string,
): BinaryLayout {
  if (typeof options !== 'object' || options === null) {
    throw invalid(quantizer, `options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const { bits, symmetric, granularity, axis, signed, reduceRange } = options;
  if (bits !== 1) {
    throw invalid(quantizer, `options.bits must be 1 (one sign bit per weight), got ${show(bits)}`);
  }
  if (symmetric !== true) {
    throw invalid(
      quantizer,
      `options.symmetric must be true (codes are +-1 around a zero point of 0), got ${show(symmetric)}`,
    );
  }
  if (signed === false) {
    throw invalid(quantizer, 'options.signed must be true or absent: sign codes -1/+1 need signed storage');
  }
  if (reduceRange === true) {
    throw invalid(quantizer, 'options.reduceRange does not apply to 1-bit codes; leave it false or absent');
  }
  if (!(BINARY_GRANULARITIES as readonly unknown[]).includes(granularity)) {
    throw invalid(
      quantizer,
      `options.granularity must be ${listChoices(BINARY_GRANULARITIES)}, got ${show(granularity)}`,
    );
  }
  if (granularity === 'tensor') return { granularity, axis: undefined };
  const rank = shape.length;
  const requested = axis ?? 0;
  if (!Number.isInteger(requested) || requested < -rank || requested >= rank) {
    const valid = rank === 0 ? 'none: a scalar has no axes' : `an integer from ${-rank} to ${rank - 1}`;
    throw invalid(
      quantizer,
      `options.axis ${show(requested)} does not fit a rank-${rank} weight of shape [${shape.join(', ')}]; ` +
        `expected ${valid}`,
    );
  }
  return { granularity: 'channel', axis: axisLayout(shape, requested).axis };
}
