import { API_VERSION, type TargetPlugin } from '@quantkit/core';
import { ORT_KERNELS, ORT_PRECISIONS, ORT_QUANTIZED_OPS } from '../onnxruntime-kernels.js';

/**
 * What every onnxruntime CPU-style profile shares: u8 asymmetric activations x s8 symmetric per-channel weights
 * (u8 x u8 also runs), QDQ preferred over QOperator, and onnxruntime's quantized ops, kernels and precisions.
 * Profiles spread this and state only where they differ.
 */
export const onnxRuntimeDefaults = {
  kind: 'target',
  apiVersion: API_VERSION,
  activation: { dtype: 'uint8', symmetric: false, bits: 8 },
  weight: { dtype: 'int8', symmetric: true, perChannel: true, reduceRange: false },
  typePairs: [
    { activation: 'uint8', weight: 'int8' },
    { activation: 'uint8', weight: 'uint8' },
  ],
  formats: ['qdq', 'qoperator'],
  quantizedOps: ORT_QUANTIZED_OPS,
  method: 'linear',
  precisions: ORT_PRECISIONS,
  kernels: ORT_KERNELS,
} as const satisfies Omit<TargetPlugin, 'name' | 'description'>;
