import { type MessagePart, type TargetPlugin, QuantError, listChoices } from '@quantkit/core';
import { DEFAULT_RANGE_DEVIATIONS } from './data-free-ranges.js';
import {
  type DataFreeSettings,
  type KeptFloat,
  type OutputFormat,
  type QuantizeMode,
  type QuantizeOptions,
  type Recipe,
  FLOAT_PRECISIONS,
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  EMIT_FORMS,
  WEIGHT_ONLY_FORMS,
  WEIGHT_RANGES,
} from './options.js';
import { resolveFinetune } from './finetune-options.js';
import { type QuantOverrides, parseOverrides } from './overrides.js';

function choice<T extends string>(option: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [{ option }, ` must be ${listChoices(choices)}, got ${JSON.stringify(value)}`],
      { details: { option, value, allowed: choices } },
    );
  }
  return value as T;
}

function accuracyLevelOf(value: unknown): 0 | 1 | 2 | 3 | 4 {
  if (value === undefined) return 4;
  if (value === 0 || value === 1 || value === 2 || value === 3 || value === 4) return value;
  throw new QuantError(
    'INVALID_ARGUMENT',
    `accuracy level must be 0, 1, 2, 3 or 4, got ${JSON.stringify(value)}`,
  );
}

function activationBitsOf(value: unknown): 8 | 16 {
  if (value === undefined || value === 8 || value === 16) return value ?? 8;
  throw new QuantError('INVALID_ARGUMENT', `activation bits must be 8 or 16, got ${JSON.stringify(value)}`);
}

/** An option that only some modes take, named with the modes that do. */
function needsMode(mode: string, option: MessagePart, what: string, allowed: QuantizeMode[]): QuantError {
  return new QuantError(
    'INVALID_ARGUMENT',
    [option, `${what}: use `, { option: 'mode', value: allowed.length === 1 ? allowed[0]! : allowed }],
    { details: { option: 'mode', value: mode, allowed } },
  );
}

/**
 * Applies defaults and checks every option, so later stages can trust them. The target's profile supplies the
 * defaults it has (per-channel weights, symmetry, reduce-range, format, quantized ops); explicit options win.
 *
 * @example
 * const recipe = resolveRecipe({ mode: 'weight-only', bits: 4, granularity: 'block' });
 * recipe.blockSize; // 32
 * @throws QuantError INVALID_ARGUMENT naming the option and the accepted values; UNSUPPORTED for combinations
 *   quantkit cannot write (block granularity outside 4-bit weight-only, a target whose formats or codes it cannot
 *   produce).
 */
export function resolveRecipe(options: QuantizeOptions, target?: TargetPlugin): Recipe {
  const mode = choice('mode', options.mode, QUANTIZE_MODES, 'static');
  const bits = options.bits ?? 8;
  // 1 bit is for binary quantizers; each quantizer's capabilities say which widths it takes.
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `bits must be an integer from 1 to 16, got ${JSON.stringify(options.bits)}`,
    );
  }
  const granularity = choice(
    'granularity',
    options.granularity,
    ['tensor', 'channel', 'block'] as const,
    target?.weight.perChannel === false ? 'tensor' : 'channel',
  );
  if (granularity === 'block') {
    // Block-wise weights are what com.microsoft MatMulNBits runs: 4-bit codes in blocks of 16..256 along K.
    if (mode !== 'weight-only' || bits !== 4) {
      throw new QuantError(
        'UNSUPPORTED',
        [
          { option: 'granularity', value: 'block' },
          ' is for 4-bit weight-only quantization (MatMulNBits); got ',
          { option: 'mode', value: mode },
          ' with ',
          { option: 'bits', value: bits },
        ],
        { details: { option: 'granularity', value: 'block' } },
      );
    }
    if (options.weightRange === 'mse') {
      throw new QuantError(
        'INVALID_ARGUMENT',
        [
          { option: 'weightRange', value: 'mse' },
          ' chooses per-channel ranges; it does not apply to ',
          { option: 'granularity', value: 'block' },
        ],
        { details: { option: 'weightRange', value: 'mse' } },
      );
    }
    const blockSize = options.blockSize ?? 32;
    if (
      !Number.isInteger(blockSize) ||
      blockSize < 16 ||
      blockSize > 256 ||
      (blockSize & (blockSize - 1)) !== 0
    ) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `block size must be a power of two from 16 to 256 (MatMulNBits), got ${JSON.stringify(options.blockSize)}`,
      );
    }
  } else if (mode === 'dynamic' && bits !== 8) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'mode', value: 'dynamic' },
        ' quantizes weights to 8 bits; got ',
        { option: 'bits', value: bits },
      ],
      { details: { option: 'bits', value: bits, allowed: [8] } },
    );
  }
  const preferred = target?.formats.find((format): format is OutputFormat =>
    (OUTPUT_FORMATS as readonly string[]).includes(format),
  );
  if (target !== undefined && preferred === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` runs ${listChoices(target.formats)} models, which quantkit cannot write yet`,
      ],
      { details: { option: 'target', value: target.name } },
    );
  }
  if (
    target?.method !== undefined &&
    target.method !== 'linear' &&
    (options.quantizer ?? 'linear') === 'linear'
  ) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` runs ${target.method}-domain codes; the linear quantizer cannot produce them`,
      ],
      { details: { option: 'quantizer', value: 'linear' } },
    );
  }
  const format = choice('format', options.format, OUTPUT_FORMATS, preferred ?? 'qdq');
  if (mode === 'dynamic' && target !== undefined && !target.formats.includes('qoperator')) {
    // Dynamic quantization writes integer operators (DynamicQuantizeMatMul, ConvInteger), not QDQ.
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` runs ${listChoices(target.formats)} models only; use `,
        { option: 'mode', value: 'static' },
        ' for it, not "dynamic"',
      ],
      { details: { option: 'mode', value: 'dynamic', allowed: ['static'] } },
    );
  }
  const floatPrecision =
    options.floatPrecision === undefined && mode === 'float'
      ? 'fp16'
      : options.floatPrecision === undefined
        ? undefined
        : choice('floatPrecision', options.floatPrecision, FLOAT_PRECISIONS, 'fp16');
  if (floatPrecision?.startsWith('fp8') && mode !== 'float') {
    throw needsMode(mode, { option: 'floatPrecision', value: floatPrecision }, ' stores weights in fp8', [
      'float',
    ]);
  }
  if (format === 'qoperator' && (mode === 'float' || mode === 'weight-only')) {
    throw needsMode(mode, { option: 'format', value: 'qoperator' }, ' needs integer compute', [
      'static',
      'dynamic',
    ]);
  }
  const weightOnlyForm = choice('weightOnlyForm', options.weightOnlyForm, WEIGHT_ONLY_FORMS, 'dequantize');
  if (weightOnlyForm === 'fold' && mode !== 'weight-only') {
    throw needsMode(mode, { option: 'weightOnlyForm', value: 'fold' }, ' is a form of weight-only codes', [
      'weight-only',
    ]);
  }
  if (format === 'packed' && mode !== 'weight-only') {
    throw needsMode(mode, { option: 'format', value: 'packed' }, ' stores weights only', ['weight-only']);
  }
  const emit = choice('emit', options.emit, EMIT_FORMS, 'quantized');
  if (emit === 'fake-quant') checkFakeQuant(mode, format, floatPrecision, weightOnlyForm, granularity);
  const exclude = options.exclude ?? [];
  for (const pattern of exclude) {
    if (typeof pattern !== 'string' || pattern.length === 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `exclude patterns must be non-empty strings, got ${JSON.stringify(pattern)}`,
      );
    }
  }
  const keepFloat = keptFloatOf(options.keepFloat);
  const finetune = resolveFinetune(options, format);
  return {
    mode,
    target: target?.name ?? 'none',
    // Only where onnxruntime multiplies the codes in integers: weight-only codes become float before their op.
    reduceRange: (target?.weight.reduceRange ?? false) && mode !== 'weight-only' && mode !== 'float',
    qdqPerConsumer: target?.qdqPerConsumer ?? false,
    quantizedOps: target?.quantizedOps ?? [],
    quantizer: options.quantizer ?? 'linear',
    bits,
    granularity,
    blockSize: granularity === 'block' ? (options.blockSize ?? 32) : undefined,
    weightRange: choice('weightRange', options.weightRange, WEIGHT_RANGES, 'minmax'),
    ...(weightOnlyForm === 'fold' && { weightOnlyForm }),
    accuracyLevel: accuracyLevelOf(options.accuracyLevel),
    keepHigherPrecision: options.keepHigherPrecision ?? true,
    symmetric: options.symmetric ?? target?.weight.symmetric ?? true,
    activationSymmetric: options.activationSymmetric ?? target?.activation.symmetric ?? false,
    activationBits: activationBitsOf(options.activationBits),
    floatPrecision,
    calibrationMethod: options.calibrationMethod ?? 'minmax',
    format,
    ...(emit === 'fake-quant' && { emit }),
    exclude: [...exclude],
    overrides: checkBlockOverrides(parseOverrides(options.overrides ?? {}), mode, bits),
    ...((options.biasCorrection === true || options.finetune === 'bias-correction') && {
      biasCorrection: true as const,
    }),
    ...(finetune !== undefined && { finetune }),
    ...(mode === 'data-free' && { dataFree: dataFreeSettingsOf(options.dataFree) }),
    ...(keepFloat.length > 0 && { keepFloat }),
  };
}

/**
 * Fake quantization writes Q -> DQ pairs over float values: static runs (activations and weights) and weight-only
 * runs (weights) have such points; dynamic mode quantizes activations at run time and float mode has no integer
 * grid, so neither has a fake-quant form. Only the QDQ format is a float model.
 */
function checkFakeQuant(
  mode: QuantizeMode,
  format: OutputFormat,
  floatPrecision: string | undefined,
  weightOnlyForm: string,
  granularity: string,
): void {
  if (mode !== 'static' && mode !== 'weight-only') {
    throw needsMode(
      mode,
      { option: 'emit', value: 'fake-quant' },
      ' writes Q/DQ pairs at calibrated points (dynamic mode computes scales at run time; float mode has none)',
      ['static', 'weight-only'],
    );
  }
  const conflict =
    format !== 'qdq'
      ? { option: 'format', value: format }
      : floatPrecision !== undefined
        ? { option: 'floatPrecision', value: floatPrecision }
        : weightOnlyForm === 'fold'
          ? { option: 'weightOnlyForm', value: 'fold' }
          : granularity === 'block'
            ? { option: 'granularity', value: 'block' }
            : undefined;
  if (conflict !== undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'emit', value: 'fake-quant' },
        ' writes a float32 model with QuantizeLinear/DequantizeLinear pairs; it cannot be combined with ',
        conflict,
      ],
      { details: { option: conflict.option, value: conflict.value } },
    );
  }
}

function dataFreeSettingsOf(settings: QuantizeOptions['dataFree']): DataFreeSettings {
  const deviations = settings?.deviations ?? DEFAULT_RANGE_DEVIATIONS;
  if (typeof deviations !== 'number' || !Number.isFinite(deviations) || deviations <= 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'dataFree.deviations', value: String(deviations) },
        ' must be a positive number of standard deviations',
      ],
      { details: { option: 'dataFree.deviations', value: deviations } },
    );
  }
  const step = (name: 'equalize' | 'absorbHighBias' | 'correctBias'): boolean => {
    const value = settings?.[name] ?? true;
    if (typeof value !== 'boolean') {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `dataFree.${name} must be true or false, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  return {
    equalize: step('equalize'),
    absorbHighBias: step('absorbHighBias'),
    correctBias: step('correctBias'),
    deviations,
  };
}

/**
 * Node overrides may ask for 4-bit blocks (MatMulNBits) one layer at a time, as the recipe can for all: only in
 * weight-only mode and at 4 bits.
 */
function checkBlockOverrides(overrides: QuantOverrides, mode: QuantizeMode, bits: number): QuantOverrides {
  for (const [pattern, settings] of Object.entries(overrides.nodes ?? {})) {
    if (settings.granularity !== 'block') continue;
    const width = settings.bits ?? bits;
    if (mode !== 'weight-only' || width !== 4) {
      throw new QuantError(
        'UNSUPPORTED',
        [
          `override for "${pattern}": granularity "block" is for 4-bit weight-only quantization (MatMulNBits); got `,
          { option: 'mode', value: mode },
          ` with ${width}-bit weights`,
        ],
        { details: { option: 'overrides', value: pattern } },
      );
    }
  }
  return overrides;
}

function keptFloatOf(entries: QuantizeOptions['keepFloat']): KeptFloat[] {
  const kept: KeptFloat[] = [];
  for (const entry of entries ?? []) {
    const valid =
      typeof entry === 'object' &&
      entry !== null &&
      typeof entry.node === 'string' &&
      entry.node.length > 0 &&
      typeof entry.reason === 'string';
    if (!valid) {
      throw new QuantError('INVALID_ARGUMENT', [
        { option: 'keepFloat' },
        ` entries must be { node, reason } with a node name, got ${JSON.stringify(entry)}`,
      ]);
    }
    kept.push({ node: entry.node, reason: entry.reason });
  }
  return kept;
}
