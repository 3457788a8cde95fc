import { QuantError } from '@quantkit/core';
import { type AdaRoundSettings, DEFAULT_ADAROUND_SETTINGS } from './adaround.js';
import type { OutputFormat, QuantizeOptions } from './options.js';

/** AdaRound's settings as QuantizeOptions.finetune takes them; every field but method has a default. */
export interface AdaRoundOptions extends Partial<AdaRoundSettings> {
  readonly method: 'adaround';
  /** Calibration samples the layers' float inputs are taken from (default 32). */
  readonly samples?: number;
  /** Input vectors (im2col patches, rows) kept per layer, a uniform random subset of all (default 2048). */
  readonly columns?: number;
}

/** AdaRound's settings resolved, as the recipe records them. */
export interface AdaRoundRecipe extends AdaRoundSettings {
  readonly method: 'adaround';
  readonly samples: number;
  readonly columns: number;
}

/** The finetuning methods (QuantizeOptions.finetune). */
export const FINETUNE_METHODS = ['adaround', 'bias-correction'] as const;
export type FinetuneMethod = (typeof FINETUNE_METHODS)[number];

const DEFAULT_SAMPLES = 32;
const DEFAULT_COLUMNS = 2048;
/** Modes with integer weight codes to round. */
const FINETUNED_MODES = new Set<QuantizeOptions['mode']>(['static', 'dynamic', 'weight-only']);

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < 1) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: `finetune.${name}` },
      ` must be a positive integer, got ${JSON.stringify(value)}`,
    ]);
  }
  return chosen;
}

function number(
  name: string,
  value: number | undefined,
  fallback: number,
  valid: (value: number) => boolean,
  what: string,
): number {
  const chosen = value ?? fallback;
  if (typeof chosen !== 'number' || !Number.isFinite(chosen) || !valid(chosen)) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: `finetune.${name}` },
      ` must be ${what}, got ${JSON.stringify(value)}`,
    ]);
  }
  return chosen;
}

/**
 * The AdaRound recipe options.finetune asks for, or undefined (no finetuning, or bias correction, which
 * options.biasCorrection carries).
 * @throws QuantError INVALID_ARGUMENT for an unknown method, a setting out of range, a mode without integer weights,
 * a quantizer other than 'linear' or the packed format.
 */
export function resolveFinetune(options: QuantizeOptions, format: OutputFormat): AdaRoundRecipe | undefined {
  const { finetune } = options;
  if (finetune === undefined || finetune === 'bias-correction') return undefined;
  const given: AdaRoundOptions = finetune === 'adaround' ? { method: 'adaround' } : finetune;
  if (typeof given !== 'object' || given === null || given.method !== 'adaround') {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'finetune' },
      ` must be one of ${FINETUNE_METHODS.map((method) => `"${method}"`).join(', ')} or { method: 'adaround', ... }, got ${JSON.stringify(finetune)}`,
    ]);
  }
  if (!FINETUNED_MODES.has(options.mode)) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'finetune', value: 'adaround' },
      ` rounds integer weight codes; mode "${options.mode}" has none (use static, dynamic or weight-only)`,
    ]);
  }
  const quantizer = options.quantizer ?? 'linear';
  if (quantizer !== 'linear') {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'finetune', value: 'adaround' },
      ` chooses between the linear quantizer's neighbouring codes; quantizer "${quantizer}" is not linear (use linear)`,
    ]);
  }
  if (format === 'packed') {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'finetune', value: 'adaround' },
      ' works on QDQ and QOperator codes; format "packed" is not supported (use qdq)',
    ]);
  }
  const defaults = DEFAULT_ADAROUND_SETTINGS;
  const betaStart = number('betaStart', given.betaStart, defaults.betaStart, (v) => v >= 1, 'at least 1');
  return {
    method: 'adaround',
    iterations: positiveInteger('iterations', given.iterations, defaults.iterations),
    samples: positiveInteger('samples', given.samples, DEFAULT_SAMPLES),
    columns: positiveInteger('columns', given.columns, DEFAULT_COLUMNS),
    batchColumns: positiveInteger('batchColumns', given.batchColumns, defaults.batchColumns),
    learningRate: number(
      'learningRate',
      given.learningRate,
      defaults.learningRate,
      (v) => v > 0,
      'a positive number',
    ),
    regularization: number(
      'regularization',
      given.regularization,
      defaults.regularization,
      (v) => v >= 0,
      'at least 0',
    ),
    betaStart,
    betaEnd: number(
      'betaEnd',
      given.betaEnd,
      defaults.betaEnd,
      (v) => v >= 1 && v <= betaStart,
      `in [1, betaStart = ${betaStart}]`,
    ),
    warmup: number('warmup', given.warmup, defaults.warmup, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    seed: number('seed', given.seed, defaults.seed, (v) => Number.isInteger(v), 'an integer'),
  };
}
