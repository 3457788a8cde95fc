import type { Int64 } from './onnx-schema.js';

const TWO_32 = 4294967296;
const TWO_63 = 2 ** 63;
const INT64_MAX = { low: 0xffffffff | 0, high: 0x7fffffff, unsigned: false };
const INT64_MIN = { low: 0, high: 0x80000000 | 0, unsigned: false };

/**
 * Converts a decoded int64 (number or Long) to a JS number. Values beyond 2^53 round to the nearest double, so
 * INT64_MAX (used by Slice and friends as "to the end") becomes 2^63, which {@link int64ToWire} maps back.
 */
export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  return high * TWO_32 + (value.low >>> 0);
}

/** Converts a decoded int64 to a bigint without losing precision (for int64 tensor data). */
export function int64ToBigInt(value: Int64 | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  return (BigInt(high) << 32n) + BigInt(value.low >>> 0);
}

/**
 * An int64 value for protobufjs to write. Numbers at or beyond ±2^63 saturate to INT64_MAX / INT64_MIN instead
 * of wrapping around (protobufjs would turn 2^63 into INT64_MIN).
 */
export function int64ToWire(value: number): Int64 {
  if (Number.isNaN(value)) return 0;
  if (value >= TWO_63) return INT64_MAX;
  if (value < -TWO_63) return INT64_MIN;
  return Math.trunc(value);
}

const INT64_MAX_BIGINT = 2n ** 63n - 1n;
const INT64_MIN_BIGINT = -(2n ** 63n);

/**
 * A number (an int attribute as decoded) as an int64 bigint, saturating: INT64_MAX decodes to 2^63 as a double,
 * and `BigInt64Array.of(BigInt(2 ** 63))` would wrap it to INT64_MIN, turning "slice to the end" into "nothing".
 */
export function numberToInt64(value: number): bigint {
  if (Number.isNaN(value)) return 0n;
  if (value >= TWO_63) return INT64_MAX_BIGINT;
  if (value < -TWO_63) return INT64_MIN_BIGINT;
  return BigInt(Math.trunc(value));
}
