// The one place that knows which flag sets each pipeline option and which flag names each file a run uses. The
// library words its errors as message parts (text, options, files); here they are worded again in flags, so a
// user reads `--mode float`, not `mode "float"`, and no message text is parsed.
import { type FileRef, type MessageNames, type OptionRef, QuantError, renderMessage } from '@quantkit/core';

/** QuantizeOptions keys (and the few options of other calls the commands make) and the flags that set them. */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  mode: '--mode',
  bits: '--bits',
  granularity: '--granularity',
  blockSize: '--block-size',
  format: '--format',
  symmetric: '--symmetric',
  activationSymmetric: '--activation-symmetric',
  activationBits: '--activation-bits',
  target: '--target',
  quantizer: '--quantizer',
  calibrationData: '--calib',
  calibrationMethod: '--calib-method',
  calibrationLimit: '--calib-samples',
  calibrationBatch: '--calib-batch',
  weightRange: '--weight-range',
  weightOnlyForm: '--weight-only-form',
  emit: '--emit',
  floatPrecision: '--float',
  accuracyLevel: '--accuracy-level',
  minSqnr: '--min-sqnr',
  biasCorrection: '--bias-correction',
  finetune: '--finetune',
  'finetune.iterations': '--iters',
  'finetune.samples': '--finetune-samples',
  'finetune.learningRate': '--finetune-lr',
  exclude: '--exclude',
  overrides: '--overrides',
  force: '--force',
  // quantkit auto's budgets and choices.
  maxSize: '--max-size',
  bitsPerWeight: '--bits-per-weight',
  maxDrop: '--max-drop',
  metric: '--metric',
  maxLatencyRatio: '--max-latency-ratio',
  candidates: '--candidates',
  workers: '--workers',
  // compare's folder of inputs, which a sample source asks for when random data cannot be made.
  dataDir: '--data',
};

/** Boolean options set to false by a flag of their own. */
export const NEGATED_FLAGS: Readonly<Record<string, string>> = {
  symmetric: '--asymmetric',
  keepHigherPrecision: '--no-keep-first-last',
  verify: '--no-verify',
  measureLatency: '--no-latency',
  latencyGuard: '--no-latency-guard',
};

/** The roles quantizeFile gives the files it reads and writes, and how the command line names each. */
export const FILE_FLAGS: Readonly<Record<string, string>> = {
  output: '--output',
  report: '--report',
  'calibration cache': '--save-calib',
  'external data of the output': 'external data of --output',
  'loaded calibration cache': '--load-calib file',
  'overrides file': '--overrides file',
  'calibration file': '--calib file',
  'recipe file': '--recipe file',
};

/** Options and files as the command line names them: `--mode static or --mode dynamic`, `--force`. */
export const FLAG_NAMES: MessageNames = {
  option: ({ option, value }: OptionRef) => {
    if (value === false) return NEGATED_FLAGS[option] ?? `${OPTION_FLAGS[option] ?? option} false`;
    const flag = OPTION_FLAGS[option] ?? option;
    if (value === undefined || value === true) return flag;
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => `${flag} ${v}`).join(' or ');
  },
  file: ({ file, path }: FileRef) => {
    const label = FILE_FLAGS[file] ?? file;
    return path === undefined ? label : `${label} "${path}"`;
  },
};

/**
 * An error as the command line words it: a QuantError whose message names options or files is worded again with
 * their flags (keeping its code and details, the original as cause); anything else passes through unchanged.
 *
 * @example inFlagTerms(new QuantError('INVALID_ARGUMENT', [{ option: 'mode', value: 'float' }])).message // '--mode float'
 */
export function inFlagTerms(error: unknown): unknown {
  if (!QuantError.is(error) || error.parts === undefined) return error;
  const message = renderMessage(error.parts, FLAG_NAMES);
  if (message === error.message) return error;
  return new QuantError(error.code, message, {
    cause: error,
    ...(error.details && { details: error.details }),
  });
}
