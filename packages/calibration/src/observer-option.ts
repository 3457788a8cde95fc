import { type ObserverOptions, QuantError } from '@quantkit/core';

/**
 * Reads one numeric, observer-specific option, falling back to a default when it is absent.
 *
 * @example
 * const bins = observerOption('entropy', options, 'bins', 2048, (v) => Number.isInteger(v) && v >= 128, 'an integer >= 128');
 * @throws QuantError INVALID_ARGUMENT naming the observer, the option, what was expected and what was given.
 */
export function observerOption(
  observerName: string,
  options: ObserverOptions,
  name: string,
  fallback: number,
  accept: (value: number) => boolean,
  expected: string,
): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !accept(value)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `observer "${observerName}": option ${name} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}

/** Code widths an observer that models quantization accepts. */
export function bitsOption(observerName: string, options: ObserverOptions, fallback = 8): number {
  return observerOption(
    observerName,
    options,
    'bits',
    fallback,
    (v) => Number.isInteger(v) && v >= 2 && v <= 16,
    'an integer from 2 to 16',
  );
}

/**
 * Rejects per-channel requests for observers that keep one histogram per tensor.
 * @throws QuantError INVALID_ARGUMENT naming the observer and the granularity it supports.
 */
export function requirePerTensor(observerName: string, granularity: 'tensor' | 'channel'): void {
  if (granularity !== 'tensor') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `observer "${observerName}" keeps one histogram per tensor: granularity must be "tensor", got ` +
        `${JSON.stringify(granularity)} (use "minmax" or "moving-average" per channel)`,
    );
  }
}
