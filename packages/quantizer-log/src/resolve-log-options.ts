import {
  type Granularity,
  QuantError,
  type QuantizerOptions,
  type Tensor,
  axisLayout,
  listChoices,
  sizeOf,
} from '@quantkit/core';

/** What a log quantizer accepts, for its error messages and checks. */
export interface LogOptionLimits {
  /** Plugin name, to prefix error messages. */
  readonly quantizer: string;
  readonly bits: readonly number[];
  readonly granularities: readonly Granularity[];
}

/** QuantizerOptions after validation against one weight. */
export interface ResolvedLogOptions {
  readonly bits: number;
  readonly granularity: Granularity;
  /** Non-negative channel axis; undefined per tensor. */
  readonly axis: number | undefined;
  /** Number of FSR groups: 1 per tensor, the axis length per channel. */
  readonly groups: number;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function multiIndex(shape: readonly number[], flat: number): string {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  return `[${index.join(', ')}]`;
}

/**
 * Checks the options every log quantizer shares (bits, symmetric, granularity, axis) and the weight itself.
 * Options linear quantizers read (signed, restrictedRange, reduceRange, blockSize) have no meaning for
 * sign-and-exponent codes and are ignored.
 *
 * @example
 * resolveLogOptions({ bits: 4, symmetric: true, granularity: 'channel', axis: -1 }, weight, limits);
 * // { bits: 4, granularity: 'channel', axis: 1, groups: 16 } for a [64, 16] weight
 * @throws QuantError INVALID_ARGUMENT naming the bad option (and its valid values), a weight that is not float32,
 * or a NaN/infinite element (with its index).
 */
export function resolveLogOptions(
  options: QuantizerOptions,
  weight: Tensor<'float32'>,
  limits: LogOptionLimits,
): ResolvedLogOptions {
  const fail = (message: string) =>
    new QuantError('INVALID_ARGUMENT', `${limits.quantizer} quantizer: ${message}`);
  if (typeof options !== 'object' || options === null) {
    throw fail(`options must be an object with bits, symmetric and granularity, got ${show(options)}`);
  }
  const { bits, symmetric, granularity } = options;
  if (!Number.isInteger(bits) || !limits.bits.includes(bits)) {
    throw fail(`options.bits must be ${listChoices(limits.bits.map(String))}, got ${show(bits)}`);
  }
  if (symmetric !== true) {
    throw fail(
      `options.symmetric must be true: log codes are a sign and a magnitude, symmetric about zero; got ${show(symmetric)}`,
    );
  }
  if (!limits.granularities.includes(granularity)) {
    throw fail(`options.granularity must be ${listChoices(limits.granularities)}, got ${show(granularity)}`);
  }
  if (weight?.dtype !== 'float32') {
    throw fail(`weights must be float32 tensors, got ${show(weight?.dtype)}`);
  }
  const { shape, data } = weight;
  if (data.length !== sizeOf(shape)) {
    throw fail(`weight of shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw fail(
        `weight of shape [${shape.join(', ')}] has ${data[i]} at index ${multiIndex(shape, i)}; ` +
          'quantization needs finite weights',
      );
    }
  }
  if (granularity === 'tensor') return { bits, granularity, axis: undefined, groups: 1 };
  const axis = options.axis ?? 0;
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw fail(
      `options.axis ${show(axis)} does not fit a rank-${rank} weight of shape [${shape.join(', ')}]; ` +
        (rank === 0 ? 'a scalar has no axes' : `expected an integer from ${-rank} to ${rank - 1}`),
    );
  }
  const layout = axisLayout(shape, axis);
  return { bits, granularity, axis: layout.axis, groups: layout.axisSize };
}
