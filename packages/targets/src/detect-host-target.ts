import type { TargetPlugin } from '@quantkit/core';
import { builtinTargets } from './builtin-targets.js';
import { type ReadHostOptions, readHost } from './read-host.js';
import { type TargetSelection, selectTarget } from './select-target.js';

export interface DetectHostTargetOptions extends ReadHostOptions {
  /** Targets to choose from, in detection order (default builtinTargets). */
  readonly targets?: readonly TargetPlugin[];
}

/**
 * The target profile for this Node host, with the reason (see {@link detectHostTarget} for the rules).
 *
 * @example
 * const { target, reason } = await selectHostTarget();
 * console.log(`${target.name}: ${reason}`);
 */
export async function selectHostTarget(options: DetectHostTargetOptions = {}): Promise<TargetSelection> {
  const host = await readHost(options);
  const selection = await selectTarget(host, options.targets ?? builtinTargets);
  if (selection.target.name === 'arm64') {
    const dot = host.cpuFlags.has('asimddp');
    return {
      ...selection,
      reason: `${selection.reason}; dot product (asimddp) ${dot ? 'present: s8 x s8 runs on SDOT' : 'not reported: u8 x s8'}`,
    };
  }
  return selection;
}

/**
 * The target profile for this Node host, from its CPU: avx512_vnni or avx_vnni -> x86-vnni; any other x86
 * (avx2, or older) -> x86-avx2; arm64 -> arm64 (the reason says whether asimddp, the dot-product extension, is
 * present); anything else -> wasm, onnxruntime's portable profile. Reads `os.arch()` and, on Linux,
 * /proc/cpuinfo; both can be injected.
 *
 * @example
 * const target = await detectHostTarget(); // x86VnniTarget on a VNNI machine
 * @throws QuantError UNSUPPORTED when custom `targets` have neither a match nor a 'wasm' profile.
 */
export async function detectHostTarget(options: DetectHostTargetOptions = {}): Promise<TargetPlugin> {
  return (await selectHostTarget(options)).target;
}
