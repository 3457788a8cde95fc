import {
  GRANULARITIES,
  type Granularity,
  type QuantDType,
  QuantError,
  type QuantizerOptions,
  listChoices,
  roundHalfToEven,
  storageDTypeFor,
} from '@quantkit/core';

/** Narrowest code width the linear quantizers produce. */
export const MIN_LINEAR_BITS = 2;
/** Widest code width the linear quantizers produce (int16/uint16 storage). */
export const MAX_LINEAR_BITS = 16;

/** Every code width the linear quantizers accept, for `QuantizerCapabilities.bits`. */
export const LINEAR_BITS: readonly number[] = Object.freeze(
  Array.from({ length: MAX_LINEAR_BITS - MIN_LINEAR_BITS + 1 }, (_, i) => MIN_LINEAR_BITS + i),
);

/** QuantizerOptions after validation, with defaults filled in and the code range worked out. */
export interface ResolvedLinearOptions {
  /** Requested width; picks the storage dtype. */
  readonly bits: number;
  /** Width of the codes actually used: `bits - 1` with reduceRange, else `bits`. */
  readonly codeBits: number;
  readonly symmetric: boolean;
  /** Storage signedness: options.signed, defaulting to `symmetric`. */
  readonly signed: boolean;
  readonly restrictedRange: boolean;
  readonly reduceRange: boolean;
  readonly dtype: QuantDType;
  readonly qmin: number;
  readonly qmax: number;
  /** The zero point symmetric quantization uses: 0 for signed storage, the middle code for unsigned. */
  readonly symmetricZeroPoint: number;
  readonly granularity: Granularity;
  /** options.axis as given (may be negative), 0 when absent. Normalized later against a shape. */
  readonly axis: number;
  /** Whether options.axis was given at all. */
  readonly axisGiven: boolean;
  /** Elements per block; set only for granularity 'block'. */
  readonly blockSize: number | undefined;
}

function invalid(quantizer: string, message: string): QuantError {
  return new QuantError('INVALID_ARGUMENT', `${quantizer} quantizer: ${message}`);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Checks each option that is present (undefined keys are skipped). Shared by {@link resolveLinearOptions} and the
 * factories, which check their `defaults` once up front so a bad default fails at creation, not at first use.
 * @throws QuantError INVALID_ARGUMENT naming the first bad option and its valid values.
 */
export function checkLinearOptionValues(options: Partial<QuantizerOptions>, quantizer = 'linear'): void {
  const { bits, symmetric, granularity, axis, blockSize, signed, restrictedRange, reduceRange } = options;
  if (bits !== undefined && (!Number.isInteger(bits) || bits < MIN_LINEAR_BITS || bits > MAX_LINEAR_BITS)) {
    throw invalid(
      quantizer,
      `options.bits must be an integer from ${MIN_LINEAR_BITS} to ${MAX_LINEAR_BITS}, got ${show(bits)}`,
    );
  }
  if (symmetric !== undefined && typeof symmetric !== 'boolean') {
    throw invalid(quantizer, `options.symmetric must be true or false, got ${show(symmetric)}`);
  }
  if (granularity !== undefined && !GRANULARITIES.includes(granularity)) {
    throw invalid(
      quantizer,
      `options.granularity must be ${listChoices(GRANULARITIES)}, got ${show(granularity)}`,
    );
  }
  if (axis !== undefined && !Number.isInteger(axis)) {
    throw invalid(
      quantizer,
      `options.axis must be an integer (negative counts from the last axis), got ${show(axis)}`,
    );
  }
  // blockSize only matters for granularity 'block'; elsewhere a stale value is ignored, as callers often reuse
  // one options object across granularities.
  if (granularity === 'block' && (!Number.isInteger(blockSize) || (blockSize as number) < 1)) {
    throw invalid(
      quantizer,
      `options.blockSize must be a positive integer for granularity "block", got ${show(blockSize)}`,
    );
  }
  for (const [key, value] of [
    ['signed', signed],
    ['restrictedRange', restrictedRange],
    ['reduceRange', reduceRange],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') {
      throw invalid(quantizer, `options.${key} must be true, false or absent, got ${show(value)}`);
    }
  }
  if (reduceRange === true && bits !== undefined && bits <= MIN_LINEAR_BITS) {
    throw invalid(
      quantizer,
      `options.reduceRange drops one bit, so it needs bits from ${MIN_LINEAR_BITS + 1} to ${MAX_LINEAR_BITS}, ` +
        `got bits ${bits}`,
    );
  }
}

/**
 * Validates linear quantizer options and derives storage type and code range, following onnxruntime's
 * quantization tool: signed b-bit codes use [-(2^(b-1)), 2^(b-1) - 1] (restrictedRange drops the lowest code),
 * unsigned use [0, 2^b - 1] (restrictedRange drops code 0), and reduceRange uses b - 1 bits in b-bit storage.
 *
 * @example
 * resolveLinearOptions({ bits: 8, symmetric: true, granularity: 'tensor', restrictedRange: true });
 * // { dtype: 'int8', qmin: -127, qmax: 127, symmetricZeroPoint: 0, ... }
 * @throws QuantError INVALID_ARGUMENT naming the bad option and listing its valid values.
 */
export function resolveLinearOptions(options: QuantizerOptions, quantizer = 'linear'): ResolvedLinearOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid(
      quantizer,
      `options must be an object with bits, symmetric and granularity, got ${show(options)}`,
    );
  }
  checkLinearOptionValues(options, quantizer);
  // Required keys: checkLinearOptionValues skips absent ones.
  if (options.bits === undefined)
    throw invalid(quantizer, `options.bits is required (${MIN_LINEAR_BITS} to ${MAX_LINEAR_BITS})`);
  if (options.symmetric === undefined)
    throw invalid(quantizer, 'options.symmetric is required (true or false)');
  if (options.granularity === undefined) {
    throw invalid(quantizer, `options.granularity is required (${listChoices(GRANULARITIES)})`);
  }
  const { bits, symmetric, granularity } = options;
  const signed = options.signed ?? symmetric;
  const restrictedRange = options.restrictedRange ?? false;
  const reduceRange = options.reduceRange ?? false;
  const codeBits = reduceRange ? bits - 1 : bits;
  let qmin = signed ? -(2 ** (codeBits - 1)) : 0;
  const qmax = signed ? 2 ** (codeBits - 1) - 1 : 2 ** codeBits - 1;
  if (restrictedRange) qmin += 1;
  return {
    bits,
    codeBits,
    symmetric,
    signed,
    restrictedRange,
    reduceRange,
    dtype: storageDTypeFor(bits, signed),
    qmin,
    qmax,
    // onnxruntime: round((qmin + qmax) / 2), which is 0 for every signed range and the middle code (128 for
    // uint8) for unsigned ones. `+ 0` turns the -0 that rounding -0.5 can give into 0.
    symmetricZeroPoint: roundHalfToEven((qmin + qmax) / 2) + 0,
    granularity,
    axis: options.axis ?? 0,
    axisGiven: options.axis !== undefined,
    blockSize: granularity === 'block' ? options.blockSize : undefined,
  };
}
