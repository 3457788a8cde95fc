import { QuantError, listChoices } from '@quantkit/core';

/**
 * Parses a flag value that must be an integer in [min, max].
 *
 * @example parseIntegerFlag('--bits', '4', { min: 2, max: 16 }) // 4
 * @throws QuantError INVALID_ARGUMENT naming the flag and the accepted range.
 */
export function parseIntegerFlag(
  flag: string,
  value: string | undefined,
  range: { readonly min: number; readonly max?: number },
): number | undefined {
  if (value === undefined) return undefined;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  // Number('') is 0 and Number('1e3') is 1000; only plain decimal digits are an integer a user meant to type.
  const number = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < range.min || number > max) {
    const accepted =
      range.max === undefined ? `an integer >= ${range.min}` : `an integer from ${range.min} to ${max}`;
    throw new QuantError('INVALID_ARGUMENT', `${flag} must be ${accepted}, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * Parses a flag value that must be a finite decimal number.
 *
 * @example parseNumberFlag('--min-sqnr', '32.5') // 32.5
 * @throws QuantError INVALID_ARGUMENT naming the flag and what it got.
 */
export function parseNumberFlag(flag: string, value: string | undefined, unit: string): number | undefined {
  if (value === undefined) return undefined;
  // Number('') is 0 and Number('0x10') is 16; only a plain decimal is a number a user meant to type.
  const number = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${flag} must be a number of ${unit}, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

/**
 * Parses a flag value that must be one of a fixed set.
 *
 * @example parseChoiceFlag('--mode', 'dynamic', ['static', 'dynamic']) // 'dynamic'
 * @throws QuantError INVALID_ARGUMENT naming the flag and listing the valid values.
 */
export function parseChoiceFlag<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${flag} must be ${listChoices(choices)}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/**
 * Commander collector for repeatable, comma-separated flags: `--exclude a,b --exclude c` gives `['a', 'b', 'c']`.
 * Empty items (from `a,,b` or a trailing comma) are dropped.
 */
export function collectList(value: string, previous: readonly string[] = []): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return [...previous, ...items];
}

/** Commander collector for repeatable flags whose values may contain commas (paths). */
export function collectRepeated(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}
