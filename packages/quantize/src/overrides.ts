import { type Granularity, QuantError, listChoices } from '@quantkit/core';
import { globToRegExp } from './glob.js';

/** Settings for the nodes whose name or op type matches a pattern. */
export interface NodeOverride {
  /** Keep the node in float. */
  readonly float?: boolean;
  /** Weight quantizer plugin for this node (e.g. "linear" to keep a layer int8 in a binary network). */
  readonly quantizer?: string;
  /** Weight bits, symmetry and granularity for this node's weight. */
  readonly bits?: number;
  readonly symmetric?: boolean;
  readonly granularity?: Granularity;
}

/** Settings for the activations whose name matches a pattern. */
export interface TensorOverride {
  /** Calibration observer for this tensor. */
  readonly observer?: string;
  /** Symmetric (int8, zero point 0) instead of the run's activation scheme. */
  readonly symmetric?: boolean;
  /** A fixed [min, max] range: the tensor is not calibrated. */
  readonly range?: readonly [number, number];
  /**
   * Static mode: this activation's bits, 8 or 16, over the run's activationBits (a wide-range value, such as a
   * power spectrum, that 8 bits round away). The target must run 16-bit Q/DQ.
   */
  readonly bits?: 8 | 16;
}

/**
 * Per-node and per-tensor settings, like onnxruntime's TensorQuantOverrides. Keys are exact names or glob
 * patterns (`*`, `?`); nodes match by name or op type. When several patterns match, later keys win per field.
 *
 * @example
 * { "nodes": { "Conv_0": { "float": true }, "attn_*": { "bits": 4 } },
 *   "tensors": { "logits": { "range": [-20, 20] }, "relu*": { "observer": "percentile" }, "power": { "bits": 16 } } }
 */
export interface QuantOverrides {
  readonly nodes?: Readonly<Record<string, NodeOverride>>;
  readonly tensors?: Readonly<Record<string, TensorOverride>>;
}

const nodeKeys = ['float', 'quantizer', 'bits', 'symmetric', 'granularity'];
const tensorKeys = ['observer', 'symmetric', 'range', 'bits'];

function fail(source: string, message: string): never {
  const subject = source === '(inline)' ? 'overrides (inline)' : { file: 'overrides file', path: source };
  throw new QuantError('INVALID_ARGUMENT', [subject, `: ${message}`], { details: { option: 'overrides' } });
}

function checkEntry(
  source: string,
  where: string,
  entry: unknown,
  allowed: readonly string[],
): Record<string, unknown> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    fail(source, `${where} must be an object`);
  for (const key of Object.keys(entry)) {
    if (!allowed.includes(key))
      fail(source, `${where} has unknown setting "${key}"; expected ${listChoices(allowed)}`);
  }
  return entry as Record<string, unknown>;
}

/**
 * Checks parsed JSON and returns it as overrides.
 * @param source the file name, for messages.
 * @throws QuantError INVALID_ARGUMENT naming the file, the key and the setting at fault.
 */
export function parseOverrides(value: unknown, source = '(inline)'): QuantOverrides {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(source, 'must be a JSON object');
  const { nodes, tensors, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail(source, `unknown section "${unknown[0]}"; expected "nodes" or "tensors"`);
  for (const [pattern, entry] of Object.entries(
    checkEntry(source, '"nodes"', nodes ?? {}, Object.keys(nodes ?? {})),
  )) {
    const where = `nodes["${pattern}"]`;
    const settings = checkEntry(source, where, entry, nodeKeys);
    if (settings.float !== undefined && typeof settings.float !== 'boolean')
      fail(source, `${where}.float must be true or false`);
    if (settings.quantizer !== undefined && typeof settings.quantizer !== 'string')
      fail(source, `${where}.quantizer must be a name`);
    if (
      settings.bits !== undefined &&
      !(Number.isInteger(settings.bits) && (settings.bits as number) >= 1 && (settings.bits as number) <= 16)
    ) {
      fail(source, `${where}.bits must be an integer from 1 to 16`);
    }
    if (settings.symmetric !== undefined && typeof settings.symmetric !== 'boolean')
      fail(source, `${where}.symmetric must be true or false`);
    if (
      settings.granularity !== undefined &&
      !['tensor', 'channel', 'block'].includes(settings.granularity as string)
    ) {
      fail(source, `${where}.granularity must be "tensor", "channel" or "block"`);
    }
  }
  for (const [pattern, entry] of Object.entries(
    checkEntry(source, '"tensors"', tensors ?? {}, Object.keys(tensors ?? {})),
  )) {
    const where = `tensors["${pattern}"]`;
    const settings = checkEntry(source, where, entry, tensorKeys);
    if (settings.observer !== undefined && typeof settings.observer !== 'string')
      fail(source, `${where}.observer must be a name`);
    if (settings.symmetric !== undefined && typeof settings.symmetric !== 'boolean')
      fail(source, `${where}.symmetric must be true or false`);
    if (settings.bits !== undefined && settings.bits !== 8 && settings.bits !== 16)
      fail(source, `${where}.bits must be 8 or 16`);
    const range = settings.range;
    if (
      range !== undefined &&
      !(
        Array.isArray(range) &&
        range.length === 2 &&
        range.every(Number.isFinite) &&
        (range[0] as number) <= 0 &&
        (range[1] as number) >= 0 &&
        range[0] < range[1]
      )
    ) {
      fail(source, `${where}.range must be [min, max] with min <= 0 <= max and min < max`);
    }
  }
  return value as QuantOverrides;
}

/** Looks up the merged settings for a name (and, for nodes, an op type). */
export function createOverrideLookup(overrides: QuantOverrides | undefined) {
  const compile = <T>(section: Readonly<Record<string, T>> | undefined) =>
    Object.entries(section ?? {}).map(([pattern, settings]) => ({
      pattern,
      regexp: globToRegExp(pattern),
      settings,
    }));
  const nodes = compile(overrides?.nodes);
  const tensors = compile(overrides?.tensors);
  return {
    node(name: string, opType: string): (NodeOverride & { pattern?: string }) | undefined {
      const matches = nodes.filter(({ regexp }) => regexp.test(name) || regexp.test(opType));
      if (matches.length === 0) return undefined;
      return Object.assign(
        { pattern: matches[matches.length - 1]!.pattern },
        ...matches.map((m) => m.settings),
      );
    },
    tensor(name: string): TensorOverride | undefined {
      const matches = tensors.filter(({ regexp }) => regexp.test(name));
      return matches.length === 0 ? undefined : Object.assign({}, ...matches.map((m) => m.settings));
    },
  };
}

export type OverrideLookup = ReturnType<typeof createOverrideLookup>;
