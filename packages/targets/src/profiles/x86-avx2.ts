import type { TargetPlugin } from '@quantkit/core';
import { onnxRuntimeDefaults } from './onnxruntime-defaults.js';

/**
 * x86-64 without VNNI (AVX2, AVX-512 without VNNI, SSE4.1). onnxruntime's u8 x s8 kernels there use VPMADDUBSW,
 * which adds two u8 x s8 products into a saturating int16: 2 x 255 x 127 = 64770 overflows 32767. Of the two
 * ways out onnxruntime documents, this profile takes reduce_range (7-bit weights in [-64, 63], so a pair sums to
 * at most 2 x 255 x 64 = 32640): it keeps the fast u8 x s8 kernels, while u8 x u8 has no saturation but runs on
 * slower kernels that widen to 16 bits first. The cost is one bit of weight precision, which per-channel scales
 * mostly recover. u8 x u8 stays an accepted pair.
 *
 * @example
 * import { x86Avx2Target } from '@quantkit/targets';
 * x86Avx2Target.weight.reduceRange; // true: quantize weights to 7 bits
 */
export const x86Avx2Target: TargetPlugin = {
  ...onnxRuntimeDefaults,
  name: 'x86-avx2',
  description: 'x86-64 without VNNI on onnxruntime: u8 x s8 with 7-bit weights (reduce_range) against VPMADDUBSW saturation',
  runtime: 'onnxruntime-cpu',
  weight: { dtype: 'int8', symmetric: true, perChannel: true, reduceRange: true },
  // Any x86 host without VNNI: AVX2 machines, and older SSE4.1 ones, whose PMADDUBSW saturates the same way.
  detect: (host) => host.arch === 'x64' || host.arch === 'ia32' || host.cpuFlags.has('avx2'),
};
