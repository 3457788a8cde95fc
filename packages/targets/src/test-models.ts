// Small hand-built models for the tests of this package (not exported).
import { type DType, type QuantDType, type Tensor, allocate, createTensor } from '@quantkit/core';
import { type Model, type NodeInit, createModel } from '@quantkit/onnx';
import type { TargetPlugin } from '@quantkit/core';
import type { CompatibilityRule, RuleFinding } from './compatibility-rule.js';
import { createRuleContext } from './compatibility-rule.js';

export function tensor(dtype: DType, shape: number[], values: readonly number[]): Tensor {
  const data = allocate(dtype, values.length) as { [i: number]: number | bigint };
  values.forEach((value, i) => {
    data[i] = dtype === 'int64' ? BigInt(value) : value;
  });
  return createTensor(dtype, shape, data as never);
}

export interface ConvModelOptions {
  opset?: number;
  activation?: QuantDType;
  activationZeroPoint?: number;
  weight?: QuantDType;
  /** Weight codes for the [2, 1, 3, 3] kernel (18 values); small ones by default. */
  weightCodes?: readonly number[];
  /** One zero point (per tensor) or two (per channel). */
  weightZeroPoints?: readonly number[];
  perChannel?: boolean;
  /** Domain of every Q/DQ node ('' or 'com.microsoft'). */
  domain?: string;
  biasZeroPoint?: number;
  /** Extra consumers of the input activation's DQ output (shared Q/DQ pairs). */
  extraConsumers?: number;
  /** An op after the output DQ (e.g. 'Softmax', 'Relu'). */
  tail?: string;
}

/**
 * x [1, 1, 4, 4] -> Q -> DQ -> Conv(DQ weight [2, 1, 3, 3], DQ int32 bias) -> Q -> DQ -> y [1, 2, 2, 2]:
 * the static QDQ pattern onnxruntime fuses into QLinearConv.
 */
export function qdqConvModel(options: ConvModelOptions = {}): Model {
  const activation = options.activation ?? 'uint8';
  const weight = options.weight ?? 'int8';
  const perChannel = options.perChannel ?? true;
  const domain = options.domain ?? '';
  const activationZero = options.activationZeroPoint ?? (activation === 'uint8' ? 128 : 0);
  const weightZeros = options.weightZeroPoints ?? (perChannel ? [0, 0] : [0]).map((z) => (weight === 'uint8' ? 128 + z : z));
  const codes =
    options.weightCodes ?? Array.from({ length: 18 }, (_, i) => (weight === 'uint8' ? 128 : 0) + ((i * 7) % 21) - 10);
  const weightScales = perChannel ? [0.02, 0.03] : [0.02];
  const paramShape = perChannel ? [weightScales.length] : [];
  const extra = options.extraConsumers ?? 0;
  const ms = domain === '' ? {} : { domain };
  const nodes: NodeInit[] = [
    { name: 'q_in', opType: 'QuantizeLinear', inputs: ['x', 'x_scale', 'x_zero'], outputs: ['x_q'], ...ms },
    { name: 'dq_in', opType: 'DequantizeLinear', inputs: ['x_q', 'x_scale', 'x_zero'], outputs: ['x_dq'], ...ms },
    {
      name: 'dq_w',
      opType: 'DequantizeLinear',
      inputs: ['w_q', 'w_scale', 'w_zero'],
      outputs: ['w_dq'],
      ...ms,
      ...(perChannel ? { attributes: { axis: 0 } } : {}),
    },
    {
      name: 'dq_b',
      opType: 'DequantizeLinear',
      inputs: ['b_q', 'b_scale', 'b_zero'],
      outputs: ['b_dq'],
      ...ms,
      ...(perChannel ? { attributes: { axis: 0 } } : {}),
    },
    { name: 'conv', opType: 'Conv', inputs: ['x_dq', 'w_dq', 'b_dq'], outputs: ['c'] },
    { name: 'q_out', opType: 'QuantizeLinear', inputs: ['c', 'y_scale', 'y_zero'], outputs: ['c_q'], ...ms },
    { name: 'dq_out', opType: 'DequantizeLinear', inputs: ['c_q', 'y_scale', 'y_zero'], outputs: [options.tail ? 'c_dq' : 'y'], ...ms },
  ];
  if (options.tail) nodes.push({ name: 'tail', opType: options.tail, inputs: ['c_dq'], outputs: ['y'] });
  const outputs: [string, DType, number[]][] = [['y', 'float32', [1, 2, 2, 2]]];
  for (let i = 0; i < extra; i++) {
    nodes.push({ name: `extra_${i}`, opType: 'Relu', inputs: ['x_dq'], outputs: [`extra_y${i}`] });
    outputs.push([`extra_y${i}`, 'float32', [1, 1, 4, 4]]);
  }
  const opset = options.opset ?? 13;
  return createModel({
    opset,
    ...(domain === '' ? {} : { extraOpsets: [{ domain, version: 1 }] }),
    inputs: [['x', 'float32', [1, 1, 4, 4]]],
    outputs,
    initializers: {
      x_scale: tensor('float32', [], [0.01]),
      x_zero: tensor(activation, [], [activationZero]),
      w_q: tensor(weight, [2, 1, 3, 3], codes),
      w_scale: tensor('float32', paramShape, weightScales),
      w_zero: tensor(weight, paramShape, weightZeros),
      b_q: tensor('int32', paramShape, perChannel ? [100, -50] : [100]),
      b_scale: tensor('float32', paramShape, weightScales.map((s) => s * 0.01)),
      b_zero: tensor('int32', paramShape, perChannel ? [options.biasZeroPoint ?? 0, 0] : [options.biasZeroPoint ?? 0]),
      y_scale: tensor('float32', [], [0.05]),
      y_zero: tensor(activation, [], [activationZero]),
    },
    nodes,
  });
}

/** x -> Q -> DQ -> y with codes of `dtype` (a zero point of that type), in `domain`. */
export function qdqModel(options: { opset: number; dtype: DType; domain?: string; scales?: number; axis?: boolean }): Model {
  const domain = options.domain ?? '';
  const count = options.scales ?? 1;
  const shape = count === 1 ? [] : [count];
  const attributes = options.axis ? { attributes: { axis: 1 } } : {};
  const ms = domain === '' ? {} : { domain };
  return createModel({
    opset: options.opset,
    ...(domain === '' ? {} : { extraOpsets: [{ domain, version: 1 }] }),
    inputs: [['x', 'float32', [2, 3]]],
    outputs: [['y', 'float32', [2, 3]]],
    initializers: {
      s: tensor('float32', shape, Array.from({ length: count }, (_, i) => 0.1 * (i + 1))),
      z: tensor(options.dtype, shape, new Array(count).fill(0)),
    },
    nodes: [
      { name: 'q', opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['x_q'], ...ms, ...attributes },
      { name: 'dq', opType: 'DequantizeLinear', inputs: ['x_q', 's', 'z'], outputs: ['y'], ...ms, ...attributes },
    ],
  });
}

/** An integer op (ConvInteger, MatMulInteger) over an `activation` input and a constant `weight`. */
export function integerOpModel(opType: 'ConvInteger' | 'MatMulInteger', activation: QuantDType, weight: QuantDType): Model {
  const conv = opType === 'ConvInteger';
  const weightShape = conv ? [2, 1, 1, 1] : [3, 2];
  const size = weightShape.reduce((a, b) => a * b, 1);
  return createModel({
    opset: 13,
    inputs: [['x', activation, conv ? [1, 1, 2, 2] : [1, 3]]],
    outputs: [['y', 'int32', conv ? [1, 2, 2, 2] : [1, 2]]],
    initializers: { w: tensor(weight, weightShape, Array.from({ length: size }, (_, i) => i + 1)) },
    nodes: [{ name: 'integer_op', opType, inputs: ['x', 'w'], outputs: ['y'] }],
  });
}

/** Runs one rule on a model. */
export function runRule(rule: CompatibilityRule, model: Model, target: TargetPlugin): readonly RuleFinding[] {
  return rule.check(createRuleContext(model, target));
}

/** x [3] + DequantizeLinear(int32 codes, zero point `zeroPoint`) -> y: an int32 DQ that is not fused away. */
export function int32DequantizeModel(zeroPoint: number): Model {
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', [3]]],
    outputs: [['y', 'float32', [3]]],
    initializers: {
      b: tensor('int32', [3], [10, 20, 30]),
      s: tensor('float32', [], [0.1]),
      z: tensor('int32', [], [zeroPoint]),
    },
    nodes: [
      { name: 'dq_bias', opType: 'DequantizeLinear', inputs: ['b', 's', 'z'], outputs: ['b_dq'] },
      { name: 'add', opType: 'Add', inputs: ['x', 'b_dq'], outputs: ['y'] },
    ],
  });
}
