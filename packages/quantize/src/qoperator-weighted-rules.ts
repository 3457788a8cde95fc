// Conv, MatMul and Gemm: the ops with a weight and an integer accumulator, whose QLinear forms (QLinearConv,
// QLinearMatMul, QGemm, MatMulInteger) need the onnxruntime kernels' type pairs, per-channel parameters they take,
// and an int32 bias at the accumulator's scale.
import { createTensor } from '@quantkit/core';
import { type Attribute, type Graph, floatAttribute, intAttribute } from '@quantkit/onnx';
import { MS_DOMAIN } from './emitter.js';
import {
  type QuantizedValue,
  dequantizedInput,
  isInt8,
  perTensorInt8,
  quantizedOutput,
} from './qoperator-operands.js';
import { type Rule, activations, makeNode, operand, quantizedResult } from './qoperator-rule.js';

/** Relative tolerance for "bias scale = input scale x weight scale": both sides are float32 products. */
const SCALE_TOLERANCE = 1e-5;

function closeTo(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= SCALE_TOLERANCE * Math.abs(expected);
}

/**
 * onnxruntime's CPU kernels for QLinearConv, QLinearMatMul, QGemm and MatMulInteger come in two type sets:
 * uint8 activations with uint8 or int8 weights (uint8 output), and int8 activations with int8 weights (int8 output).
 */
function kernelTypes(
  input: QuantizedValue,
  weight: QuantizedValue,
  output: QuantizedValue | undefined,
): string | undefined {
  if (!isInt8(weight.dtype))
    return `weight "${weight.codes}" is ${weight.dtype}; the kernel takes int8/uint8`;
  if (input.dtype === 'int8' && weight.dtype !== 'int8') {
    return 'int8 activations with uint8 weights have no onnxruntime kernel';
  }
  if (output !== undefined && output.dtype !== input.dtype) {
    return `input is ${input.dtype} but output is ${output.dtype}; the kernel writes the input's type`;
  }
  return undefined;
}

/** Per-channel parameters are fine when there is one per output channel and (for onnxruntime) one zero point. */
function perChannelWeight(
  weight: QuantizedValue,
  axis: number,
  channels: number | undefined,
  op: string,
): string | undefined {
  if (weight.axis !== undefined && weight.axis !== axis) {
    return `weight "${weight.codes}" is quantized along axis ${weight.axis}; ${op} takes per-channel scales along axis ${axis}`;
  }
  if (weight.axis !== undefined && channels !== undefined && weight.scales.length !== channels) {
    return `weight "${weight.codes}" has ${weight.scales.length} scales for ${channels} channels`;
  }
  if (weight.zeroPoints.some((z) => z !== weight.zeroPoints[0])) {
    return `weight "${weight.codes}" has differing per-channel zero points; onnxruntime's ${op} needs one`;
  }
  return undefined;
}

/**
 * Checks an int32 bias behind a DQ against the accumulator's scale: bias_scale[i] = factor x input scale x
 * weight scale[i] with zero point 0, so adding its codes to the integer accumulator is exact.
 */
function int32Bias(
  graph: Graph,
  name: string,
  input: QuantizedValue,
  weight: QuantizedValue,
  channels: number,
  factor: number,
): QuantizedValue | string {
  const bias = dequantizedInput(graph, name);
  if (typeof bias === 'string') return `bias: ${bias} (a float bias has no integer form)`;
  if (bias.dtype !== 'int32') return `bias "${bias.codes}" is ${bias.dtype}, not int32`;
  if (bias.shape === undefined || bias.shape.length !== 1 || bias.shape[0] !== channels) {
    return `bias "${bias.codes}" is not a constant of shape [${channels}]`;
  }
  if (bias.zeroPoints.some((z) => z !== 0)) return `bias "${bias.codes}" has a non-zero zero point`;
  for (let i = 0; i < channels; i++) {
    const biasScale = bias.scales[bias.scales.length === 1 ? 0 : i]!;
    const weightScale = weight.scales[weight.scales.length === 1 ? 0 : i]!;
    const expected = factor * input.scales[0]! * weightScale;
    if (!closeTo(biasScale, expected)) {
      return `bias "${bias.codes}" scale ${biasScale} at channel ${i} is not input scale x weight scale (${expected})`;
    }
  }
  return bias;
}

/**
 * Conv -> QLinearConv, with an int32 bias when there is one.
 *
 * @example
 * const rewrite = convRule({ graph, opset: 13 }, conv); // a Rewrite, or the reason the Conv stays QDQ
 */
export const convRule: Rule = ({ graph, opset }, node) => {
  if (opset < 10) return `QLinearConv needs opset 10; the model has opset ${opset}`;
  const input = activations(graph, [node.inputs[0]]);
  if (typeof input === 'string') return input;
  const x = input[0]!;
  const w = dequantizedInput(graph, node.inputs[1]);
  if (typeof w === 'string') return `weight: ${w}`;
  const y = quantizedResult(graph, node);
  if (typeof y === 'string') return `${y}; ConvInteger with a float rescale is not written for Conv`;
  const channels = w.shape?.[0];
  if (channels === undefined) return `weight "${w.codes}" is not a constant`;
  const problem = kernelTypes(x, w, y) ?? perChannelWeight(w, 0, channels, 'QLinearConv');
  if (problem !== undefined) return problem;
  const inputs = [...operand(x), ...operand(w), y.scale, y.zeroPoint];
  const biasName = node.inputs[2];
  if (biasName !== undefined && biasName !== '') {
    const bias = int32Bias(graph, biasName, x, w, channels, 1);
    if (typeof bias === 'string') return bias;
    inputs.push(bias.codes);
  }
  // QLinearConv has exactly Conv's attributes (auto_pad, dilations, group, kernel_shape, pads, strides).
  const attributes = new Map(node.attributes);
  return {
    to: 'QLinearConv',
    remove: [node, y.node],
    add: [makeNode(node, 'QLinearConv', '', inputs, [y.codes], attributes)],
    initializers: [],
  };
};

/** B's per-column parameters as QLinearMatMul/MatMulInteger take them: 1-D of length N on a 2-D B only. */
function matMulWeight(b: QuantizedValue): string | undefined {
  if (b.axis === undefined) return undefined;
  const rank = b.shape?.length;
  if (rank !== 2 || b.axis !== 1) {
    return `B "${b.codes}" is quantized along axis ${b.axis} of a rank-${rank ?? '?'} tensor; only per-column scales of a 2-D B are taken`;
  }
  if (b.scales.length !== b.shape![1])
    return `B "${b.codes}" has ${b.scales.length} scales for ${b.shape![1]} columns`;
  return undefined;
}

/**
 * MatMul -> QLinearMatMul; without a QuantizeLinear after it, MatMulInteger with a float rescale.
 *
 * @example
 * const rewrite = matMulRule({ graph, opset: 13 }, matMul);
 */
export const matMulRule: Rule = ({ graph, opset }, node) => {
  if (opset < 10) return `QLinearMatMul needs opset 10; the model has opset ${opset}`;
  const input = activations(graph, [node.inputs[0]]);
  if (typeof input === 'string') return input;
  const a = input[0]!;
  const b = dequantizedInput(graph, node.inputs[1]);
  if (typeof b === 'string') return b;
  const problem = matMulWeight(b);
  if (problem !== undefined) return problem;
  const y = quantizedResult(graph, node);
  if (typeof y !== 'string') {
    const types = kernelTypes(a, b, y);
    if (types !== undefined) return types;
    return {
      to: 'QLinearMatMul',
      remove: [node, y.node],
      add: [
        makeNode(node, 'QLinearMatMul', '', [...operand(a), ...operand(b), y.scale, y.zeroPoint], [y.codes]),
      ],
      initializers: [],
    };
  }
  // No QuantizeLinear after it (a float graph output, or float readers): integer product, then one float rescale.
  const types = kernelTypes(a, b, undefined);
  if (types !== undefined) return `${y}; MatMulInteger fallback: ${types}`;
  const output = node.outputs[0]!;
  const product = graph.uniqueName(`${output}_int32`);
  const asFloat = graph.uniqueName(`${output}_int32_float`);
  const scale = Float32Array.from(b.scales, (s) => Math.fround(a.scales[0]! * s));
  return {
    to: 'MatMulInteger + Cast + Mul',
    remove: [node],
    add: [
      makeNode(node, 'MatMulInteger', '', [a.codes, b.codes, a.zeroPoint, b.zeroPoint], [product]),
      {
        ...makeNode(node, 'Cast', '', [product], [asFloat], new Map([['to', { type: 'int', value: 1 }]])),
        name: graph.uniqueName(`${node.name}_cast`),
      },
      {
        ...makeNode(node, 'Mul', '', [asFloat, ''], [output]),
        name: graph.uniqueName(`${node.name}_rescale`),
      },
    ],
    initializers: [
      {
        base: `${output}_rescale`,
        tensor: createTensor('float32', b.axis === undefined ? [] : [scale.length], scale),
        slot: [2, 1],
      },
    ],
  };
};

/**
 * Gemm -> QGemm (com.microsoft), with float output when no QuantizeLinear follows.
 *
 * @example
 * const rewrite = gemmRule({ graph, opset: 13 }, gemm);
 */
export const gemmRule: Rule = ({ graph }, node) => {
  const input = activations(graph, [node.inputs[0]]);
  if (typeof input === 'string') return input;
  const a = input[0]!;
  const b = dequantizedInput(graph, node.inputs[1]);
  if (typeof b === 'string') return `B: ${b}`;
  const transB = intAttribute(node, 'transB', 0) !== 0;
  const shape = b.shape;
  if (shape === undefined || shape.length !== 2) return `B "${b.codes}" is not a 2-D constant`;
  const columns = transB ? shape[0]! : shape[1]!;
  // QGemm takes b_scale/b_zero_point of length N whichever way B is stored (quant_gemm.cc CheckInputs).
  const problem = perChannelWeight(b, transB ? 0 : 1, columns, 'QGemm');
  if (problem !== undefined) return problem;
  const y = quantizedOutput(graph, node.outputs[0]);
  const quantized = typeof y === 'string' ? undefined : y;
  if (quantized !== undefined) {
    const outputProblem = perTensorInt8(quantized, 'output');
    if (outputProblem !== undefined) return outputProblem;
  }
  const types = kernelTypes(a, b, quantized);
  if (types !== undefined) return types;
  const alpha = floatAttribute(node, 'alpha', 1);
  const beta = floatAttribute(node, 'beta', 1);
  const inputs = [...operand(a), ...operand(b)];
  const biasName = node.inputs[2];
  if (biasName !== undefined && biasName !== '') {
    // QGemm adds C to the accumulator unscaled: C must be int32 at alpha x a_scale x b_scale, and beta 1.
    if (beta !== 1) return `beta is ${beta}; QGemm has no beta, C would need rescaling`;
    const bias = int32Bias(graph, biasName, a, b, columns, alpha);
    if (typeof bias === 'string') return bias;
    inputs.push(bias.codes);
  } else {
    inputs.push('');
  }
  const attributes = new Map<string, Attribute>([
    ['alpha', { type: 'float', value: alpha }],
    ['transA', { type: 'int', value: intAttribute(node, 'transA', 0) }],
    ['transB', { type: 'int', value: transB ? 1 : 0 }],
  ]);
  if (quantized === undefined) {
    // Without y_scale/y_zero_point QGemm writes float: the output keeps its name and type.
    while (inputs[inputs.length - 1] === '') inputs.pop();
    return {
      to: 'QGemm (float output)',
      remove: [node],
      add: [makeNode(node, 'QGemm', MS_DOMAIN, inputs, [node.outputs[0]!], attributes)],
      initializers: [],
    };
  }
  inputs.push(quantized.scale, quantized.zeroPoint);
  return {
    to: 'QGemm',
    remove: [node, quantized.node],
    add: [makeNode(node, 'QGemm', MS_DOMAIN, inputs, [quantized.codes], attributes)],
    initializers: [],
  };
};
