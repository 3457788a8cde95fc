import { API_VERSION, type TargetPlugin } from '@quantkit/core';

/**
 * HiSilicon NNIE-style accelerators: 8-bit log-domain codes (a sign and a power-of-two exponent) for weights and
 * activations, one scale per tensor. The log quantizer and its packed output come with the log/binary work;
 * this profile declares what such a chip runs so plans and checks can target it by name.
 *
 * @example
 * import { hisiliconLogTarget } from '@quantkit/targets';
 * hisiliconLogTarget.method; // 'log'
 */
export const hisiliconLogTarget: TargetPlugin = {
  kind: 'target',
  name: 'hisilicon-log',
  apiVersion: API_VERSION,
  description: 'HiSilicon NNIE-style log-domain 8-bit weights and activations (sign + power-of-two exponent)',
  runtime: 'nnie',
  strict: true,
  // Log codes are signed (the sign bit, then the exponent) and centred on 0.
  activation: { dtype: 'int8', symmetric: true, bits: 8 },
  weight: { dtype: 'int8', symmetric: true, perChannel: false, reduceRange: false },
  typePairs: [{ activation: 'int8', weight: 'int8' }],
  formats: ['packed'],
  quantizedOps: ['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'MaxPool', 'AveragePool', 'Relu', 'Add', 'Concat'],
  method: 'log',
  precisions: [],
  kernels: ['log8-conv', 'log8-inner-product'],
};
