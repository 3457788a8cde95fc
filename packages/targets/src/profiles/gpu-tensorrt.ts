import { API_VERSION, type TargetPlugin } from '@quantkit/core';

/**
 * NVIDIA GPUs through TensorRT's explicit quantization: TensorRT reads QuantizeLinear/DequantizeLinear pairs and
 * fuses each into the consumer behind it, so every consumer needs its own pair. It takes int8 with zero point 0
 * only (no uint8, no zero points) for activations and weights, per-channel scales on weights (axis attribute,
 * hence opset 13), and no QOperator ops or com.microsoft domain.
 *
 * @example
 * import { gpuTensorrtTarget } from '@quantkit/targets';
 * gpuTensorrtTarget.qdqPerConsumer; // true
 */
export const gpuTensorrtTarget: TargetPlugin = {
  kind: 'target',
  name: 'gpu-tensorrt',
  apiVersion: API_VERSION,
  description: 'NVIDIA TensorRT explicit quantization: symmetric s8 x s8, per-channel weights, one Q/DQ pair per consumer',
  runtime: 'tensorrt',
  strict: true,
  activation: { dtype: 'int8', symmetric: true, bits: 8 },
  weight: { dtype: 'int8', symmetric: true, perChannel: true, reduceRange: false },
  typePairs: [{ activation: 'int8', weight: 'int8' }],
  formats: ['qdq'],
  quantizedOps: [
    'Conv',
    'ConvTranspose',
    'Gemm',
    'MatMul',
    'Add',
    'Concat',
    'Relu',
    'Clip',
    'MaxPool',
    'AveragePool',
    'GlobalAveragePool',
    'Reshape',
    'Transpose',
    'Flatten',
    'Squeeze',
    'Unsqueeze',
    'Resize',
  ],
  qdqPerConsumer: true,
  method: 'linear',
  precisions: ['int4-weight', 'fp16', 'bf16', 'fp8e4m3fn'],
  minOpset: 13,
  kernels: ['IQuantizeLayer', 'IDequantizeLayer', 'IConvolutionLayer(int8)', 'IMatrixMultiplyLayer(int8)'],
  // A GPU behind TensorRT cannot be seen from JavaScript: chosen by name only.
};
