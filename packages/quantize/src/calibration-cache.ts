import { type MessagePart, QuantError, type ValueRange } from '@quantkit/core';
import type { Model } from '@quantkit/onnx';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** One calibrated activation as the cache stores it. */
export interface CachedRange {
  readonly observer: string;
  readonly symmetric: boolean;
  readonly min: readonly number[];
  readonly max: readonly number[];
}

/**
 * Calibrated ranges saved by one run (`--save-calib`) so another can quantize with no data (`--load-calib`),
 * like TensorRT's calibration cache. Bound to the model's graph by a fingerprint.
 */
export interface CalibrationCache {
  readonly kind: 'quantkit-calibration-cache';
  readonly version: 1;
  /** sha256 of the graph's structure (nodes, their wiring, inputs and outputs), not of its weights' bytes. */
  readonly model: string;
  readonly calibrationHash?: string | undefined;
  readonly samples: number;
  readonly tensors: Readonly<Record<string, CachedRange>>;
}

/**
 * A sha256 over the graph's structure: every node's op type, domain, inputs and outputs, and the graph's inputs
 * and outputs. Calibrated ranges belong to activations, which this structure names; re-saving the model or editing
 * its metadata keeps the fingerprint, a different graph changes it.
 */
export function modelFingerprint(model: Model): string {
  const { graph } = model;
  const text = JSON.stringify([
    graph.inputs.map((input) => [input.name, input.dtype ?? null]),
    graph.outputs.map((output) => output.name),
    graph.nodes.map((node) => [node.domain, node.opType, node.inputs, node.outputs]),
  ]);
  // A pure-JS hash: WebCrypto's subtle API exists only in secure contexts, and a page served over plain http
  // must quantize too.
  return bytesToHex(sha256(new TextEncoder().encode(text)));
}

/** A calibration cache named in a message: its file, or "(inline)" for one passed as a value. */
export function cacheRef(source: string): MessagePart {
  return source === '(inline)'
    ? 'calibration cache (inline)'
    : { file: 'loaded calibration cache', path: source };
}

function invalid(source: string, what: string): never {
  throw new QuantError('CALIBRATION_DATA', [cacheRef(source), ` is not usable: ${what}`]);
}

/**
 * Checks parsed JSON before trusting it as a cache.
 * @throws QuantError CALIBRATION_DATA naming the file and what is wrong.
 */
export function parseCalibrationCache(value: unknown, source = '(inline)'): CalibrationCache {
  if (typeof value !== 'object' || value === null) invalid(source, 'it is not a JSON object');
  const cache = value as Partial<CalibrationCache>;
  if (cache.kind !== 'quantkit-calibration-cache') invalid(source, 'it is not a quantkit calibration cache');
  if (cache.version !== 1) invalid(source, `version ${JSON.stringify(cache.version)} is not 1`);
  if (typeof cache.model !== 'string') invalid(source, 'the model fingerprint is missing');
  if (typeof cache.tensors !== 'object' || cache.tensors === null) invalid(source, 'the tensors are missing');
  for (const [name, entry] of Object.entries(cache.tensors)) {
    const ok =
      typeof entry?.observer === 'string' &&
      typeof entry.symmetric === 'boolean' &&
      Array.isArray(entry.min) &&
      Array.isArray(entry.max) &&
      entry.min.length === entry.max.length &&
      [...entry.min, ...entry.max].every(Number.isFinite);
    if (!ok) invalid(source, `the entry for "${name}" is malformed`);
  }
  return cache as CalibrationCache;
}

/** The range the cache holds for an activation, checked against how this run would calibrate it. */
export function cachedRange(
  cache: CalibrationCache,
  source: string,
  name: string,
  observer: string,
  symmetric: boolean,
): ValueRange {
  const entry = cache.tensors[name];
  if (entry === undefined)
    invalid(source, `it has no range for activation "${name}", which this run quantizes`);
  if (entry.observer !== observer || entry.symmetric !== symmetric) {
    invalid(
      source,
      `"${name}" was calibrated with ${entry.observer} (${entry.symmetric ? 'symmetric' : 'asymmetric'}), ` +
        `this run asks for ${observer} (${symmetric ? 'symmetric' : 'asymmetric'})`,
    );
  }
  return { min: Float32Array.from(entry.min), max: Float32Array.from(entry.max) };
}
