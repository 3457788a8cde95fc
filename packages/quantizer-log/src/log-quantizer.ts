import {
  API_VERSION,
  QuantError,
  type QuantizedTensor,
  type QuantizerOptions,
  type QuantizerPlugin,
  type Tensor,
  forEachParamRun,
  listChoices,
} from '@quantkit/core';
import { LOG_BITS, type LogFsrRule, type LogRounding, encodeLogValue, logFsr } from './log-levels.js';
import { createLogPacking } from './log-packing.js';
import { type LogCodes, type LogForm, buildLogTensor, fitsInt8Form } from './log-tensor-form.js';
import { resolveLogOptions } from './resolve-log-options.js';

/** Settings of {@link createLogQuantizer}. */
export interface LogQuantizerSettings {
  /** Registry name; defaults to 'log'. Set it to register a second, differently configured copy. */
  readonly name?: string;
  /** One line for `quantkit plugins`. */
  readonly description?: string;
  /** 'log' (default, the paper's round(log2|x|)) or 'linear' (nearest level in the linear domain). */
  readonly rounding?: LogRounding;
  /** How FSR follows from a group's max|w|: 'round' (default) or 'ceil'. */
  readonly fsr?: LogFsrRule;
  /**
   * Stock-ONNX form of the codes: 'auto' (default) takes the int8 power-of-two form when every group fits it
   * (always for 3 and 4 bits) and the lookup form otherwise; 'int8' insists on the former (quantizeWeight throws
   * when the weight does not fit), 'lookup' always uses the Gather table.
   */
  readonly form?: 'auto' | LogForm;
}

const ROUNDINGS: readonly LogRounding[] = ['log', 'linear'];
const FSR_RULES: readonly LogFsrRule[] = ['round', 'ceil'];
const FORMS: readonly ('auto' | LogForm)[] = ['auto', 'int8', 'lookup'];

function checkSetting<T extends string>(
  name: string,
  key: string,
  value: T | undefined,
  valid: readonly T[],
): T {
  if (value === undefined) return valid[0]!;
  if (!valid.includes(value)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${name} quantizer: settings.${key} must be ${listChoices(valid)}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Computes log codes for a weight: FSR per group from the group's largest magnitude, then each value's signed
 * magnitude index under the rounding rule.
 */
export function computeLogCodes(
  weight: Tensor<'float32'>,
  options: { bits: number; granularity: 'tensor' | 'channel'; axis: number | undefined },
  rules: { rounding: LogRounding; fsr: LogFsrRule },
): LogCodes {
  const { shape, data } = weight;
  const runs = { granularity: options.granularity, axis: options.axis };
  const groups = options.granularity === 'tensor' ? 1 : shape[options.axis!]!;
  const maxAbs = new Float64Array(groups);
  forEachParamRun(shape, runs, (start, end, g, stride) => {
    let high = maxAbs[g]!;
    for (let i = start; i < end; i += stride) high = Math.max(high, Math.abs(data[i]!));
    maxAbs[g] = high;
  });
  const fsr = Int32Array.from(maxAbs, (high) => logFsr(high, rules.rounding, rules.fsr));
  const indices = new Int8Array(data.length);
  forEachParamRun(shape, runs, (start, end, g, stride) => {
    const top = fsr[g]!;
    for (let i = start; i < end; i += stride)
      indices[i] = encodeLogValue(data[i]!, top, options.bits, rules.rounding);
  });
  return {
    indices,
    shape: [...shape],
    fsr,
    bits: options.bits,
    granularity: options.granularity,
    axis: options.axis,
  };
}

/**
 * Creates the logarithmic quantizer ('log', Miyashita et al. 2016): x ~ sign(x) * 2^e with
 * e = clip(round(log2|x|), FSR - 2^(b-1) + 1, FSR), where the lowest exponent of that clip means 0. A b-bit code is
 * a sign bit and a (b-1)-bit magnitude index whose value 0 is zero, so there are 2^(b-1) - 1 exponents
 * (FSR - 2^(b-1) + 2 .. FSR) per sign and 2^b - 1 distinct values; bits 3 to 8. FSR is chosen per tensor or per
 * output channel from the weights: round(log2 max|w|) by default (settings.fsr 'ceil' for ceil), clamped to
 * [-126, 127].
 *
 * The stock-ONNX form of the codes (see LogForm): int8 powers of two with scale 2^(FSR - min(M - 1, 6)) when every
 * exponent of each group lies within 7 steps of its FSR (always for 3 and 4 bits), else uint8 indices into a table of
 * the 2^b - 1 signed levels relative to 2^FSR, with scale 2^FSR per group and `lookup: { table }`. Either way every
 * dequantized value is exactly +-2^e in float32.
 *
 * paramsForRange is not implemented: log activations cannot be written as a QuantizeLinear (its codes are linear),
 * so capabilities.activations is false; for activations, logFsrForRange gives the FSR of a calibrated range.
 * The packed form (`packing`, format "log") stores sign + magnitude index per code, see createLogPacking.
 *
 * @example
 * const registry = createRegistry([createLogQuantizer()]);
 * const { codes, params, lookup } = registry.get('quantizer', 'log')
 *   .quantizeWeight(weight, { bits: 4, symmetric: true, granularity: 'channel', axis: 0 });
 * // codes: int8 in {0, +-1, ..., +-64}; params.scale[c] = 2^(FSR_c - 6); lookup undefined
 * @throws QuantError INVALID_ARGUMENT for an empty name or invalid settings. quantizeWeight throws INVALID_ARGUMENT
 * for bits outside 3..8, symmetric false, granularity other than tensor/channel, a bad axis, non-finite weights, or
 * (form 'int8') a weight whose exponents do not fit the int8 form.
 */
export function createLogQuantizer(settings: LogQuantizerSettings = {}): QuantizerPlugin {
  const name = settings.name ?? 'log';
  if (typeof name !== 'string' || name.length === 0) {
    throw new QuantError('INVALID_ARGUMENT', 'log quantizer: settings.name must be a non-empty string');
  }
  const rules = {
    rounding: checkSetting(name, 'rounding', settings.rounding, ROUNDINGS),
    fsr: checkSetting(name, 'fsr', settings.fsr, FSR_RULES),
  };
  const form = checkSetting(name, 'form', settings.form, FORMS);
  const limits = { quantizer: name, bits: LOG_BITS, granularities: ['tensor', 'channel'] as const };

  const plugin: QuantizerPlugin = {
    kind: 'quantizer',
    name,
    apiVersion: API_VERSION,
    description:
      settings.description ??
      'Logarithmic (power-of-two) codes, sign + exponent index, 3-8 bits, per tensor/channel (Miyashita 2016)',
    capabilities: Object.freeze({
      bits: LOG_BITS,
      granularities: Object.freeze(['tensor', 'channel'] as const),
      symmetric: Object.freeze([true]),
      activations: false,
    }),
    quantizeWeight(weight: Tensor<'float32'>, options: QuantizerOptions): QuantizedTensor {
      const { bits, granularity, axis } = resolveLogOptions(options, weight, limits);
      // limits admit only 'tensor' and 'channel'.
      const codes = computeLogCodes(
        weight,
        { bits, granularity: granularity === 'channel' ? 'channel' : 'tensor', axis },
        rules,
      );
      const chosen: LogForm = form === 'auto' ? (fitsInt8Form(codes) ? 'int8' : 'lookup') : form;
      return buildLogTensor(codes, chosen);
    },
    packing: createLogPacking(name),
  };
  return Object.freeze(plugin);
}

/** The default log quantizer ('log'): log-domain rounding, FSR = round(log2 max|w|), form 'auto'. */
export const logQuantizer: QuantizerPlugin = createLogQuantizer();
