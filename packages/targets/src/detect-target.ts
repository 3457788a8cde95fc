import type { TargetHost, TargetPlugin } from '@quantkit/core';
import { builtinTargets } from './builtin-targets.js';
import { hasWasmSimd } from './has-wasm-simd.js';
import { selectTarget } from './select-target.js';

export interface DetectTargetOptions {
  /** Targets to choose from, in detection order (default builtinTargets). */
  readonly targets?: readonly TargetPlugin[];
  /** The host to match instead of probing this one (tests, or a host described elsewhere). */
  readonly host?: TargetHost;
}

interface MaybeProcess {
  process?: { versions?: { node?: string }; arch?: string };
}

/**
 * Describes this JavaScript host without Node built-ins: a browser (no `process.versions.node`) is probed for
 * WASM SIMD; Node reports its `process.arch` but no CPU flags (reading /proc/cpuinfo needs `node:fs`, which
 * `readHost` in '@quantkit/targets/node' does).

 * @example
 * const { target, reason } = await selectTarget(probeHost());
 */
export function probeHost(): TargetHost {
  const processLike = (globalThis as MaybeProcess).process;
  if (processLike?.versions?.node !== undefined) {
    return { environment: 'node', arch: processLike.arch, cpuFlags: new Set(), wasmSimd: hasWasmSimd() };
  }
  const isBrowser = typeof (globalThis as { navigator?: unknown }).navigator === 'object';
  return { environment: isBrowser ? 'browser' : 'unknown', cpuFlags: new Set(), wasmSimd: hasWasmSimd() };
}

/**
 * Picks the target profile for the host quantkit runs on, without Node built-ins so it works in a browser. In a
 * browser the answer is 'wasm' (onnxruntime-web), which needs WebAssembly SIMD. In Node this entry sees only
 * `process.arch` (x64 -> x86-avx2, the profile that is safe on every x86; arm64 -> arm64); use
 * `detectHostTarget` from '@quantkit/targets/node' to read CPU flags and find VNNI.
 *
 * @example
 * const target = await detectTarget(); // in a browser: wasmTarget
 * @throws QuantError UNSUPPORTED when `targets` has neither a match nor a 'wasm' profile to fall back to.
 */
export async function detectTarget(options: DetectTargetOptions = {}): Promise<TargetPlugin> {
  // A browser host has no arch or CPU flags, so only wasm can match (and it is the fallback without SIMD).
  return (await selectTarget(options.host ?? probeHost(), options.targets ?? builtinTargets)).target;
}
