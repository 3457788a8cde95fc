/**
 * Every failure quantkit reports on purpose carries one of these codes. The CLI maps each code to an exit status,
 * so callers can tell a bad flag from a broken model without parsing messages.
 */
export type QuantErrorCode =
  /** A flag, option or plugin parameter has a value outside what is accepted. */
  | 'INVALID_ARGUMENT'
  /** The model file is not a valid ONNX model (truncated, not protobuf, inconsistent graph). */
  | 'INVALID_MODEL'
  /** The model or request uses something quantkit cannot handle (an op, opset, dtype, layout). */
  | 'UNSUPPORTED'
  /** A file or folder named by the user does not exist. */
  | 'NOT_FOUND'
  /** Reading or writing a file failed. */
  | 'IO_ERROR'
  /** Calibration data is missing or does not fit the model's inputs. */
  | 'CALIBRATION_DATA'
  /** The output would overwrite the input or an existing file without --force. */
  | 'OUTPUT_CONFLICT'
  /** A plugin was asked for by a name no registered plugin has. */
  | 'PLUGIN_NOT_FOUND'
  /** A plugin module failed to load, is malformed, or has an API version this quantkit does not speak. */
  | 'PLUGIN_INVALID'
  /** Two plugins of the same kind were registered under one name. */
  | 'PLUGIN_CONFLICT'
  /** The executor (e.g. onnxruntime) failed to load or run a model. */
  | 'EXECUTOR'
  /** A bug in quantkit: an invariant did not hold. */
  | 'INTERNAL';

export const QUANT_ERROR_CODES: readonly QuantErrorCode[] = [
  'INVALID_ARGUMENT',
  'INVALID_MODEL',
  'UNSUPPORTED',
  'NOT_FOUND',
  'IO_ERROR',
  'CALIBRATION_DATA',
  'OUTPUT_CONFLICT',
  'PLUGIN_NOT_FOUND',
  'PLUGIN_INVALID',
  'PLUGIN_CONFLICT',
  'EXECUTOR',
  'INTERNAL',
];

// A symbol from the global registry, so `QuantError.is` recognises errors thrown by another copy of this package
// (two versions of @quantkit/core in one node_modules tree is common with plugins).
const marker = Symbol.for('@quantkit/core/QuantError');

export interface QuantErrorOptions {
  cause?: unknown;
  /** Structured details for machines (the CLI prints them with --json). */
  details?: Record<string, unknown>;
}

/** An option of the API named in a message, with the value given or asked for (several: "a" or "b"). */
export interface OptionRef {
  readonly option: string;
  readonly value?: string | number | boolean | readonly (string | number)[];
}

/** A file named in a message by the role it plays in the run ('output', 'report', 'overrides file'), with its path. */
export interface FileRef {
  readonly file: string;
  readonly path?: string;
}

/**
 * A message as text with the options and files it names kept apart, so that a caller who names them its own way
 * (the CLI names options by flag) can word it again without parsing text.
 */
export type MessagePart = string | OptionRef | FileRef;

/** How a message names options and files. */
export interface MessageNames {
  option(ref: OptionRef): string;
  file(ref: FileRef): string;
}

/** The API's own words: `mode "static" or "dynamic"`, `bits 4`, `force: true`, `report "r.json"`. */
export const API_NAMES: MessageNames = {
  option: ({ option, value }) => {
    if (value === undefined) return option;
    if (typeof value === 'boolean') return `${option}: ${value}`;
    const values = Array.isArray(value) ? value : [value];
    return `${option} ${values.map((v) => (typeof v === 'number' ? `${v}` : `"${v}"`)).join(' or ')}`;
  },
  file: ({ file, path }) => (path === undefined ? file : `${file} "${path}"`),
};

/**
 * Renders message parts with the given names (default the API's).
 * @example renderMessage([{ option: 'format', value: 'qoperator' }, ' needs integer compute']) // 'format "qoperator" needs integer compute'
 */
export function renderMessage(parts: readonly MessagePart[], names: MessageNames = API_NAMES): string {
  return parts
    .map((part) =>
      typeof part === 'string' ? part : 'option' in part ? names.option(part) : names.file(part),
    )
    .join('');
}

/**
 * The one error class of quantkit.
 *
 * @example
 * throw new QuantError('INVALID_ARGUMENT', `bits must be an integer from 2 to 16, got "${value}"`);
 * @example
 * throw new QuantError('INVALID_ARGUMENT', [{ option: 'format', value: 'packed' }, ' stores weights only: use ',
 *   { option: 'mode', value: 'weight-only' }], { details: { option: 'format', value: 'packed' } });
 */
export class QuantError extends Error {
  readonly code: QuantErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** The message as parts, when it names options or files (see {@link MessagePart}). */
  readonly parts: readonly MessagePart[] | undefined;
  readonly [marker] = true;

  /**
   * @param message the text, or its parts: `['pass ', { option: 'force', value: true }, ' to replace it']`.
   */
  constructor(
    code: QuantErrorCode,
    message: string | readonly MessagePart[],
    options: QuantErrorOptions = {},
  ) {
    super(
      typeof message === 'string' ? message : renderMessage(message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'QuantError';
    this.code = code;
    this.details = options.details;
    this.parts = typeof message === 'string' ? undefined : [...message];
  }

  /** True for a QuantError from any copy of @quantkit/core, optionally with one of the given codes. */
  static is(value: unknown, ...codes: QuantErrorCode[]): value is QuantError {
    if (typeof value !== 'object' || value === null || !(marker in value)) return false;
    return codes.length === 0 || codes.includes((value as QuantError).code);
  }
}

/** Throws an INTERNAL QuantError when an invariant does not hold. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new QuantError('INTERNAL', message);
}

/** Formats a list of valid choices for an error message: `"a", "b" or "c"`. */
export function listChoices(choices: readonly string[]): string {
  const quoted = choices.map((choice) => `"${choice}"`);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}
