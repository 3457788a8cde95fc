import type { TargetPlugin } from '@quantkit/core';
import { onnxRuntimeDefaults } from './onnxruntime-defaults.js';

/**
 * 64-bit ARM (AArch64) on onnxruntime. u8 activations x s8 weights is the portable choice: it runs on every core
 * and onnxruntime documents it as no slower than u8 x u8. Cores with the dot-product extension (asimddp:
 * SDOT/UDOT) also run s8 x s8 with symmetric kernels, which is why that pair is accepted. No saturation issue
 * exists here, so weights use the full 8 bits.
 *
 * @example
 * import { arm64Target } from '@quantkit/targets';
 * arm64Target.typePairs; // u8 x s8, s8 x s8, u8 x u8
 */
export const arm64Target: TargetPlugin = {
  ...onnxRuntimeDefaults,
  name: 'arm64',
  description: 'AArch64 on onnxruntime: u8 x s8 (s8 x s8 with dot-product SDOT/UDOT), per-channel, QDQ',
  runtime: 'onnxruntime-cpu',
  typePairs: [
    { activation: 'uint8', weight: 'int8' },
    { activation: 'int8', weight: 'int8' },
    { activation: 'uint8', weight: 'uint8' },
  ],
  detect: (host) => host.arch === 'arm64' || host.cpuFlags.has('asimd'),
};
