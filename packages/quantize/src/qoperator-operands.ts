import { intAttribute } from '@quantkit/onnx';
import type { DType, Tensor } from '@quantkit/core';
import type { Graph, Node } from '@quantkit/onnx';

/** Domains whose QuantizeLinear/DequantizeLinear the rewrite understands (ONNX and onnxruntime's contrib forms). */
const QDQ_DOMAINS = new Set(['', 'ai.onnx', 'com.microsoft']);

/** 8-bit codes: the only activation and weight types the QLinear kernels take. */
export type Int8Type = 'int8' | 'uint8';

/**
 * A tensor as the QLinear ops read it: the codes, with the names and values of its scale and zero point. Taken
 * from a DequantizeLinear (an input of a float op) or a QuantizeLinear (the output of one).
 */
export interface QuantizedValue {
  /** The Q or DQ node this was read from. */
  readonly node: Node;
  /** Name of the integer codes. */
  readonly codes: string;
  readonly scale: string;
  readonly zeroPoint: string;
  readonly scales: Float32Array;
  readonly zeroPoints: readonly number[];
  /** Element type of the codes (the zero point's type). */
  readonly dtype: DType;
  /** Axis of per-axis parameters, normalised to be non-negative when the codes' rank is known; undefined per tensor. */
  readonly axis: number | undefined;
  /** Shape of the codes when they are a constant. */
  readonly shape: readonly number[] | undefined;
}

export function isQdqNode(node: Node, opType: 'QuantizeLinear' | 'DequantizeLinear'): boolean {
  return node.opType === opType && QDQ_DOMAINS.has(node.domain);
}

export function isInt8(dtype: DType): dtype is Int8Type {
  return dtype === 'int8' || dtype === 'uint8';
}

function numbers(tensor: Tensor): number[] {
  return Array.from(tensor.data as ArrayLike<number | bigint>, (value) => Number(value));
}

/**
 * Reads the quantization of a Q or DQ node: its scale and zero point must be constants (the QLinear kernels and
 * the checks here need their values). Returns a reason instead when they are not.
 */
function readParams(
  graph: Graph,
  node: Node,
  codes: string,
  rank: number | undefined,
): QuantizedValue | string {
  const scaleName = node.inputs[1];
  const zeroPointName = node.inputs[2];
  if (scaleName === undefined || scaleName === '') return `${node.opType} "${node.name}" has no scale`;
  // An omitted zero point means uint8 0; the pipeline always writes one, and requiring it keeps the type explicit.
  if (zeroPointName === undefined || zeroPointName === '')
    return `${node.opType} "${node.name}" has no zero point`;
  const scale = graph.getConstant(scaleName);
  const zeroPoint = graph.getConstant(zeroPointName);
  if (scale === undefined || scale.dtype !== 'float32')
    return `scale "${scaleName}" is not a float32 constant`;
  if (zeroPoint === undefined) return `zero point "${zeroPointName}" is not a constant`;
  if (node.attributes.has('block_size') && (intAttribute(node, 'block_size') ?? 0) > 0) {
    return `${node.opType} "${node.name}" is block-wise; no QLinear op takes block scales`;
  }
  const perTensor = scale.data.length === 1 && scale.shape.length <= 1;
  let axis: number | undefined;
  if (!perTensor) {
    // ONNX's default axis for per-axis Q/DQ is 1.
    axis = intAttribute(node, 'axis') ?? 1;
    if (axis < 0 && rank !== undefined) axis += rank;
  }
  const constant = graph.getConstant(codes);
  return {
    node,
    codes,
    scale: scaleName,
    zeroPoint: zeroPointName,
    scales: scale.data as Float32Array,
    zeroPoints: numbers(zeroPoint),
    dtype: zeroPoint.dtype,
    axis,
    shape: constant?.shape,
  };
}

/** The DequantizeLinear producing float value `name`, read as its codes and parameters; a reason when there is none. */
export function dequantizedInput(graph: Graph, name: string | undefined): QuantizedValue | string {
  if (name === undefined || name === '') return 'an input is missing';
  const producer = graph.producer(name);
  if (producer === undefined || !isQdqNode(producer, 'DequantizeLinear')) {
    return `input "${name}" is not the output of a DequantizeLinear`;
  }
  const codes = producer.inputs[0]!;
  const rank = graph.getConstant(codes)?.shape.length ?? graph.valueType(codes)?.shape?.length;
  return readParams(graph, producer, codes, rank);
}

/**
 * The per-tensor QuantizeLinear that is the only reader of float value `name` (a node's output), read as the
 * codes it writes; a reason when the output is used otherwise.
 */
export function quantizedOutput(graph: Graph, name: string | undefined): QuantizedValue | string {
  if (name === undefined || name === '') return 'it has no output';
  if (graph.isOutput(name)) return `its output "${name}" is a graph output in float`;
  const consumers = graph.consumers(name);
  const quantize = consumers[0];
  if (
    consumers.length !== 1 ||
    quantize === undefined ||
    !isQdqNode(quantize, 'QuantizeLinear') ||
    quantize.inputs[0] !== name
  ) {
    return `its output "${name}" is not read by a QuantizeLinear alone`;
  }
  const params = readParams(graph, quantize, quantize.outputs[0]!, undefined);
  if (typeof params === 'string') return params;
  if (params.axis !== undefined)
    return `its output "${name}" is quantized per axis; QLinear outputs are per tensor`;
  return params;
}

/** A reason when `value` is not a per-tensor 8-bit activation, as every QLinear data input must be. */
export function perTensorInt8(value: QuantizedValue, role: string): string | undefined {
  if (!isInt8(value.dtype)) return `${role} "${value.codes}" is ${value.dtype}; QLinear ops take int8/uint8`;
  if (value.axis !== undefined)
    return `${role} "${value.codes}" is quantized per axis; this op needs one scale`;
  return undefined;
}

/** True when two quantized values have the same type, scale and zero point, so codes of one are codes of the other. */
export function sameQuantization(a: QuantizedValue, b: QuantizedValue): boolean {
  return (
    a.dtype === b.dtype &&
    a.axis === undefined &&
    b.axis === undefined &&
    a.scales[0] === b.scales[0] &&
    a.zeroPoints[0] === b.zeroPoints[0]
  );
}
