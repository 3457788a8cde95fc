import { API_VERSION, type TargetPlugin } from '@quantkit/core';
import { ORT_KERNELS, ORT_PRECISIONS, ORT_QUANTIZED_OPS } from '../onnxruntime-kernels.js';

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
  kind: 'target',
  name: 'arm64',
  apiVersion: API_VERSION,
  description: 'AArch64 on onnxruntime: u8 x s8 (s8 x s8 with dot-product SDOT/UDOT), per-channel, QDQ',
  runtime: 'onnxruntime-cpu',
  activation: { dtype: 'uint8', symmetric: false, bits: 8 },
  weight: { dtype: 'int8', symmetric: true, perChannel: true, reduceRange: false },
  typePairs: [
    { activation: 'uint8', weight: 'int8' },
    { activation: 'int8', weight: 'int8' },
    { activation: 'uint8', weight: 'uint8' },
  ],
  formats: ['qdq', 'qoperator'],
  quantizedOps: ORT_QUANTIZED_OPS,
  method: 'linear',
  precisions: ORT_PRECISIONS,
  kernels: ORT_KERNELS,
  detect: (host) => host.arch === 'arm64' || host.cpuFlags.has('asimd'),
};
