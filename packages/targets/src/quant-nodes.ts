// Reading quantization facts off a graph: which nodes are Q/DQ, what element type their codes have, whether they
// are per axis. Shared by the rules.
import { type DType, dtypeInfo, sizeOf } from '@quantkit/core';
import {
  type Graph,
  type Node,
  describeNode,
  dtypeFromOnnx,
  intAttribute,
  isDefaultDomain,
  isSupportedOnnxDataType,
} from '@quantkit/onnx';

export const MS_DOMAIN = 'com.microsoft';

/** Ops whose second input is a weight and that run in integer arithmetic when quantized. */
export const COMPUTE_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export function isOnnxDomain(node: Node): boolean {
  return isDefaultDomain(node.domain);
}

export function isQuantizeLinear(node: Node): boolean {
  return node.opType === 'QuantizeLinear' && (isOnnxDomain(node) || node.domain === MS_DOMAIN);
}

export function isDequantizeLinear(node: Node): boolean {
  return node.opType === 'DequantizeLinear' && (isOnnxDomain(node) || node.domain === MS_DOMAIN);
}

export function isQdq(node: Node): boolean {
  return isQuantizeLinear(node) || isDequantizeLinear(node);
}

/** `QuantizeLinear "q1"`: for messages. */
export function label(node: Node): string {
  return node.name ? `${node.opType} "${node.name}"` : describeNode(node);
}

function input(node: Node, slot: number): string | undefined {
  const name = node.inputs[slot];
  return name === undefined || name === '' ? undefined : name;
}

/** The element type of a value: constants, declared types, and the outputs of Q and DynamicQuantizeLinear. */
export function elementType(graph: Graph, name: string): DType | undefined {
  const known = graph.valueType(name)?.dtype;
  if (known !== undefined) return known;
  const producer = graph.producer(name);
  if (producer === undefined) return undefined;
  if (isQuantizeLinear(producer) && producer.outputs[0] === name) return codeType(graph, producer);
  if (producer.opType === 'DynamicQuantizeLinear' && producer.outputs[0] === name) return 'uint8';
  if (producer.opType === 'Cast') {
    const to = intAttribute(producer, 'to');
    if (to !== undefined && isSupportedOnnxDataType(to)) return dtypeFromOnnx(to);
  }
  return undefined;
}

/**
 * The element type of a Q/DQ node's codes: its zero point's type; for QuantizeLinear without one, the
 * `output_dtype` attribute (opset 21) or uint8; for DequantizeLinear, the type of its input.
 */
export function codeType(graph: Graph, node: Node): DType | undefined {
  const zeroPoint = input(node, 2);
  if (zeroPoint !== undefined) {
    const dtype = elementType(graph, zeroPoint);
    if (dtype !== undefined) return dtype;
  }
  if (isQuantizeLinear(node)) {
    const outputDtype = intAttribute(node, 'output_dtype', 0);
    if (outputDtype !== 0 && isSupportedOnnxDataType(outputDtype)) {
      return dtypeFromOnnx(outputDtype);
    }
    return zeroPoint === undefined ? 'uint8' : undefined;
  }
  const codes = input(node, 0);
  return codes === undefined ? undefined : elementType(graph, codes);
}

/** Zero point values of a Q/DQ node: [] when it has none (meaning 0), undefined when computed at run time. */
export function zeroPoints(graph: Graph, node: Node): number[] | undefined {
  const name = input(node, 2);
  if (name === undefined) return [];
  const tensor = graph.getConstant(name);
  if (tensor === undefined) return undefined;
  return Array.from(tensor.data as ArrayLike<number | bigint>, Number);
}

/** Number of scales of a Q/DQ node, when known (constant, or declared shape). */
export function scaleCount(graph: Graph, node: Node): number | undefined {
  const name = input(node, 1);
  if (name === undefined) return undefined;
  const shape = graph.valueType(name)?.shape;
  if (shape === undefined || shape.some((dim) => typeof dim !== 'number')) return undefined;
  return sizeOf(shape as number[]);
}

/** True for a Q/DQ node with one scale per channel or block (more than one scale, or block_size set). */
export function isPerAxis(graph: Graph, node: Node): boolean {
  if (node.attributes.has('block_size')) return true;
  return (scaleCount(graph, node) ?? 1) > 1;
}

/** A DequantizeLinear over constant codes (a stored weight or bias). */
export function isConstantDequantize(graph: Graph, node: Node): boolean {
  const codes = input(node, 0);
  return isDequantizeLinear(node) && codes !== undefined && graph.getConstant(codes) !== undefined;
}

/** The zero point that makes codes of `dtype` symmetric: 0 for signed types, 2^(bits-1) for unsigned ones. */
export function middleZeroPoint(dtype: DType): number {
  const info = dtypeInfo(dtype);
  return info.isSigned ? 0 : 2 ** (info.bits - 1);
}

/**
 * The compute nodes (Conv, ConvTranspose, Gemm, MatMul) reading a DequantizeLinear output as their weight
 * (input 1).
 */
export function weightConsumers(graph: Graph, dequantize: Node): Node[] {
  const output = dequantize.outputs[0];
  if (output === undefined || output === '') return [];
  return graph
    .consumers(output)
    .filter(
      (consumer) =>
        isOnnxDomain(consumer) && COMPUTE_OPS.has(consumer.opType) && consumer.inputs[1] === output,
    );
}

/** 'QuantizeLinear/DequantizeLinear' nodes as the rule messages name them. */
export const QDQ_NAMES = 'QuantizeLinear/DequantizeLinear';
