import type { TargetPlugin } from '@quantkit/core';
import { onnxRuntimeDefaults } from './onnxruntime-defaults.js';

/**
 * x86-64 with VNNI (AVX512-VNNI or AVX-VNNI): VPDPBUSD multiplies u8 x s8 and accumulates in 32 bits, so the
 * full 8-bit weight range is safe and u8 activations x s8 per-channel weights in QDQ is onnxruntime's fastest form.
 *
 * @example
 * import { x86VnniTarget } from '@quantkit/targets';
 * x86VnniTarget.weight; // { dtype: 'int8', symmetric: true, perChannel: true, reduceRange: false }
 */
export const x86VnniTarget: TargetPlugin = {
  ...onnxRuntimeDefaults,
  name: 'x86-vnni',
  description: 'x86-64 with AVX512-VNNI/AVX-VNNI on onnxruntime: u8 activations x s8 per-channel weights, QDQ',
  runtime: 'onnxruntime-cpu',
  // u8 x u8 runs too (ConvInteger needs it); s8 activations are converted to u8 by onnxruntime on x86.
  detect: (host) => host.cpuFlags.has('avx512_vnni') || host.cpuFlags.has('avx_vnni'),
};
