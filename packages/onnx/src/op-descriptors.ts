import { intAttribute, stringAttribute } from './attributes.js';
import type { Node } from './graph-node.js';

/** The input slots of an op that carry float data (the others hold shapes, axes, indices or scalars). */
export type DataInputs = readonly number[] | 'all';

/**
 * What quantkit knows about one operator, in one place: which inputs carry data and which hold weights (with the
 * axis of their output channels), how static quantization treats it, in which modes its weight is stored in low
 * precision, which inputs must stay float, and whether onnxruntime runs it on quantized data. The planner, the
 * emitters, `inspect`, the targets' rules and the runtime read these rather than keeping tables of op names.
 */
export interface OpDescriptor {
  readonly opType: string;
  /** Operator set domain; '' is the default ONNX domain. */
  readonly domain: string;
  /** Input slots carrying float data. */
  readonly dataInputs: DataInputs;
  /**
   * Input slots holding weights (W and R for recurrent ops) and the axis of a weight's output channels, for one
   * scale per channel; undefined when the weight has no such axis (a grouped ConvTranspose, a 1-D tensor).
   */
  readonly weight?: {
    readonly slots: readonly number[];
    readonly axis: (node: Node, shape: readonly number[]) => number | undefined;
  };
  /** Input slot of a bias the integer kernel adds in int32 (Conv, ConvTranspose, Gemm). */
  readonly biasSlot?: number;
  /**
   * Static QDQ: `compute` runs on integer codes (weights quantized, float inputs get Q/DQ); `passthrough` is kept
   * 8-bit between compute ops so onnxruntime fuses it (QLinearAdd, u8 MaxPool, ...). Absent: the op stays float.
   */
  readonly staticRole?: 'compute' | 'passthrough';
  /**
   * The output's values are a subset of its input's (data movement, max pooling, nearest or linear resizing), so
   * the output reuses the input's scale and zero point and onnxruntime runs the op on the 8-bit codes.
   */
  readonly sharesParams?: (node: Node) => boolean;
  /** Its weight can be stored in low precision and dequantized in front of the float op (weight-only mode). */
  readonly weightOnly?: boolean;
  /** Dynamic mode has an integer form for it (its activation quantized at run time). */
  readonly dynamic?: boolean;
  /** It only moves values: a weight read through its data inputs is still a weight. */
  readonly movesData?: boolean;
  /**
   * Input slots whose values must stay above zero (or away from it) for the op to stay finite: Log(0) is -inf.
   * `constant` gives a constant input's values (Pow counts only when its exponent may be negative).
   */
  readonly positiveInputs?: (
    node: Node,
    constant: (slot: number) => ArrayLike<number> | undefined,
  ) => readonly number[];
  /** onnxruntime runs it on quantized data between DequantizeLinear and QuantizeLinear (fused or on the codes). */
  readonly ortQuantized?: boolean;
  /**
   * Its integer kernel writes the output at a scale of its own (QLinearAdd, QLinearMul), as compute ops do, so a
   * clamp from 0 after it can be folded into that scale.
   */
  readonly ownOutputScale?: boolean;
  /** It exists only in quantized graphs (Q/DQ, QOperator, integer and n-bit ops). */
  readonly quantizedForm?: boolean;
}

const MS = 'com.microsoft';
const always = () => true;
const matrixColumns = (_node: Node, shape: readonly number[]) => shape.length - 1;

function op(
  opType: string,
  fields: Omit<OpDescriptor, 'opType' | 'domain'> & { domain?: string },
): OpDescriptor {
  return { opType, domain: '', ...fields };
}

/** An op that moves or reshapes its first input: shared scale, runs on codes. */
function movement(opType: string, extra: Partial<OpDescriptor> = {}): OpDescriptor {
  return op(opType, {
    dataInputs: [0],
    staticRole: 'passthrough',
    sharesParams: always,
    movesData: true,
    ortQuantized: true,
    ...extra,
  });
}

/** A quantized-graph op whose weight (codes) sits in `slot`. */
function quantizedOp(opType: string, domain: string, weightSlot?: number): OpDescriptor {
  return op(opType, {
    domain,
    dataInputs: [],
    quantizedForm: true,
    ...(weightSlot !== undefined && { weight: { slots: [weightSlot], axis: () => undefined } }),
  });
}

const recurrent = (opType: string): OpDescriptor =>
  op(opType, {
    dataInputs: [0],
    // W [directions, gates x hidden, input] and R [directions, gates x hidden, hidden]: one scale per gate row.
    // A 2-D source that Slice/Concat/Unsqueeze reorder into that shape has its gate rows on axis 0.
    weight: { slots: [1, 2], axis: (_node, shape) => (shape.length === 3 ? 1 : 0) },
    weightOnly: true,
  });

/** The built-in descriptors, one per op type. */
export const BUILTIN_OP_DESCRIPTORS: readonly OpDescriptor[] = [
  // Ops onnxruntime runs quantized first, in the order targets list them (recipes record that list).
  op('Conv', {
    dataInputs: [0, 1],
    // [M, C/group, kH, kW]
    weight: { slots: [1], axis: () => 0 },
    biasSlot: 2,
    staticRole: 'compute',
    weightOnly: true,
    dynamic: true,
    ortQuantized: true,
  }),
  op('ConvTranspose', {
    dataInputs: [0, 1],
    // [C, M/group, kH, kW]: output channels are spread over groups, so only group 1 has one axis for them.
    weight: { slots: [1], axis: (node) => (intAttribute(node, 'group', 1) === 1 ? 1 : undefined) },
    biasSlot: 2,
    staticRole: 'compute',
    weightOnly: true,
    ortQuantized: true,
  }),
  op('Gemm', {
    dataInputs: [0, 1],
    weight: { slots: [1], axis: (node) => (intAttribute(node, 'transB', 0) !== 0 ? 0 : 1) },
    biasSlot: 2,
    staticRole: 'compute',
    weightOnly: true,
    dynamic: true,
    ortQuantized: true,
  }),
  op('MatMul', {
    dataInputs: [0, 1],
    // [..., K, N]
    weight: { slots: [1], axis: matrixColumns },
    staticRole: 'compute',
    weightOnly: true,
    dynamic: true,
    ortQuantized: true,
  }),
  op('Add', { dataInputs: [0, 1], staticRole: 'passthrough', ortQuantized: true, ownOutputScale: true }),
  op('Mul', { dataInputs: [0, 1], staticRole: 'passthrough', ortQuantized: true, ownOutputScale: true }),
  op('Concat', { dataInputs: 'all', staticRole: 'passthrough', movesData: true, ortQuantized: true }),
  op('Relu', { dataInputs: [0], staticRole: 'passthrough', ortQuantized: true }),
  op('Clip', { dataInputs: [0], staticRole: 'passthrough', ortQuantized: true }),
  op('Sigmoid', { dataInputs: [0], ortQuantized: true }),
  op('LeakyRelu', { dataInputs: [0], ortQuantized: true }),
  op('Softmax', { dataInputs: [0], ortQuantized: true }),
  op('MaxPool', { dataInputs: [0], staticRole: 'passthrough', sharesParams: always, ortQuantized: true }),
  op('AveragePool', { dataInputs: [0], staticRole: 'passthrough', ortQuantized: true }),
  op('GlobalAveragePool', { dataInputs: [0], staticRole: 'passthrough', ortQuantized: true }),
  movement('Reshape'),
  movement('Transpose'),
  movement('Flatten'),
  movement('Squeeze'),
  movement('Unsqueeze'),
  // Cubic interpolation overshoots its inputs' range, so only nearest and linear share the input's parameters.
  movement('Resize', {
    movesData: false,
    sharesParams: (node) => stringAttribute(node, 'mode', 'nearest') !== 'cubic',
  }),
  op('Gather', {
    dataInputs: [0],
    // An embedding table [vocabulary, width]: one scale per row.
    weight: { slots: [0], axis: () => 0 },
    weightOnly: true,
    sharesParams: always,
    movesData: true,
    ortQuantized: true,
  }),
  op('Split', { dataInputs: [0], sharesParams: always, movesData: true, ortQuantized: true }),
  op('Slice', { dataInputs: [0], sharesParams: always, movesData: true, ortQuantized: true }),
  op('ArgMax', { dataInputs: [0], ortQuantized: true }),
  recurrent('LSTM'),
  recurrent('GRU'),
  recurrent('RNN'),
  op('Identity', { dataInputs: [0], sharesParams: always, movesData: true }),
  op('Log', { dataInputs: [0], positiveInputs: () => [0] }),
  op('Reciprocal', { dataInputs: [0], positiveInputs: () => [0] }),
  op('Sqrt', { dataInputs: [0], positiveInputs: () => [0] }),
  op('Div', { dataInputs: [0, 1], positiveInputs: () => [1] }),
  op('Pow', {
    dataInputs: [0],
    positiveInputs: (_node, constant) => {
      const exponent = constant(1);
      return exponent === undefined || Array.prototype.some.call(exponent, (v: number) => v < 0) ? [0] : [];
    },
  }),
  quantizedOp('QuantizeLinear', ''),
  quantizedOp('DequantizeLinear', ''),
  quantizedOp('DynamicQuantizeLinear', ''),
  quantizedOp('QLinearConv', '', 3),
  quantizedOp('QLinearMatMul', '', 3),
  quantizedOp('MatMulInteger', '', 1),
  quantizedOp('ConvInteger', '', 1),
  quantizedOp('QuantizeLinear', MS),
  quantizedOp('DequantizeLinear', MS),
  quantizedOp('MatMulNBits', MS, 1),
  quantizedOp('DynamicQuantizeMatMul', MS, 1),
  quantizedOp('MatMulIntegerToFloat', MS, 1),
  quantizedOp('QGemm', MS, 3),
  quantizedOp('QLinearAdd', MS),
  quantizedOp('QLinearMul', MS),
  quantizedOp('QLinearConcat', MS),
  quantizedOp('QLinearAveragePool', MS),
  quantizedOp('QLinearGlobalAveragePool', MS),
  quantizedOp('QLinearSigmoid', MS),
  quantizedOp('QLinearLeakyRelu', MS),
  quantizedOp('QLinearSoftmax', MS),
];
