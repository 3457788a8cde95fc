import { QuantError, type TargetHost, type TargetPlugin } from '@quantkit/core';
import { builtinTargets } from './builtin-targets.js';

/** The target chosen for a host, with the reason in words (for `quantkit targets` and reports). */
export interface TargetSelection {
  readonly target: TargetPlugin;
  readonly reason: string;
  readonly host: TargetHost;
}

function describeHost(host: TargetHost): string {
  const parts: string[] = [host.environment];
  if (host.arch !== undefined) parts.push(host.arch);
  const interesting = ['avx512_vnni', 'avx_vnni', 'avx2', 'asimddp'].filter((flag) => host.cpuFlags.has(flag));
  if (interesting.length > 0) parts.push(`flags ${interesting.join(' ')}`);
  else if (host.environment === 'node') parts.push('no CPU flags read');
  if (host.wasmSimd !== undefined) parts.push(host.wasmSimd ? 'WASM SIMD' : 'no WASM SIMD');
  return parts.join(', ');
}

/**
 * Picks the first target (in list order) whose `detect(host)` says yes. When none does, a browser gets the
 * target named 'wasm' and anything else gets 'wasm' too when listed: onnxruntime-web's profile (u8 x s8 QDQ, full
 * 8-bit weights) is what onnxruntime's portable kernels run everywhere without saturation concerns.
 *
 * @example
 * const { target, reason } = await selectTarget({ environment: 'node', arch: 'x64', cpuFlags: new Set(['avx2']) });
 * target.name; // 'x86-avx2'
 * @throws QuantError UNSUPPORTED when no target matches and the list has no 'wasm' target to fall back to.
 */
export async function selectTarget(
  host: TargetHost,
  targets: readonly TargetPlugin[] = builtinTargets,
): Promise<TargetSelection> {
  const seen = describeHost(host);
  for (const target of targets) {
    if (target.detect !== undefined && (await target.detect(host))) {
      return { target, host, reason: `${target.name} matches the host (${seen})` };
    }
  }
  const fallback = targets.find((target) => target.name === 'wasm');
  if (fallback === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        `no target profile matches the host (${seen}); choose one with `,
        { option: 'target' },
        ` (${targets.map((t) => t.name).join(', ') || 'none registered'})`,
      ],
      { details: { option: 'target', allowed: targets.map((t) => t.name) } },
    );
  }
  return {
    target: fallback,
    host,
    reason: `no profile matches the host (${seen}); using wasm, the profile of onnxruntime's portable kernels`,
  };
}
