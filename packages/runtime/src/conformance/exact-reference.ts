import { type Tensor, createTensor } from '@quantkit/core';
import { type Model, decodeModel, encodeModel } from '@quantkit/onnx';
import type { NodeCase } from './run-both.js';

// onnxruntime's uint8 x int8 integer GEMMs are not exact on every x86 CPU: on AVX2 without VNNI, MLAS multiplies
// with vpmaddubsw, which adds each pair of u8 x s8 products in a saturating int16, so 255 x -128 twice gives
// -32768 instead of -65280 (measured: QLinearMatMul 92 against the exact 107). Quantizers avoid it by keeping
// weights to 7 bits (reduce_range); a conformance reference cannot. Its uint8 x uint8 kernel widens to int16
// before multiplying and is exact everywhere, and B + 128 with zero point + 128 is the same integer product:
// (b + 128) - (z + 128) = b - z. So the reference runs the uint8 form of a uint8 x int8 case.

/** Where an op keeps its A, B and B zero point, for the integer ops that take a uint8 A and an int8 B. */
interface IntegerSlots {
  readonly a: number;
  /** Undefined when A is float and quantized to uint8 inside the op (DynamicQuantizeMatMul). */
  readonly aIsFloat?: boolean;
  readonly b: number;
  readonly bZeroPoint: number;
  /** B's scale, whose shape an omitted zero point takes (per tensor or per column). */
  readonly bScale?: number;
  /** A's zero point, whose initializer tells a whole model's A type (exactIntegerModel). */
  readonly aZeroPoint?: number;
}

const INTEGER_OPS: ReadonlyMap<string, IntegerSlots> = new Map([
  ['MatMulInteger', { a: 0, b: 1, bZeroPoint: 3, aZeroPoint: 2 }],
  ['ConvInteger', { a: 0, b: 1, bZeroPoint: 3, aZeroPoint: 2 }],
  ['QLinearMatMul', { a: 0, b: 3, bScale: 4, bZeroPoint: 5, aZeroPoint: 2 }],
  ['QLinearConv', { a: 0, b: 3, bScale: 4, bZeroPoint: 5, aZeroPoint: 2 }],
  ['com.microsoft/QGemm', { a: 0, b: 3, bScale: 4, bZeroPoint: 5, aZeroPoint: 2 }],
  ['com.microsoft/MatMulIntegerToFloat', { a: 0, b: 1, bScale: 3, bZeroPoint: 5, aZeroPoint: 4 }],
  ['com.microsoft/DynamicQuantizeMatMul', { a: 0, aIsFloat: true, b: 1, bScale: 2, bZeroPoint: 3 }],
]);

function integerSlots(opType: string, domain = ''): IntegerSlots | undefined {
  return INTEGER_OPS.get(domain === '' || domain === 'ai.onnx' ? opType : `${domain}/${opType}`);
}

function shifted(tensor: Tensor): Tensor {
  const data = Uint8Array.from(tensor.data as Int8Array, (code) => code + 128);
  return createTensor('uint8', tensor.shape, data);
}

/**
 * The case itself, or, for a uint8 x int8 integer op, the same computation with B and its zero point moved to
 * uint8 (see above), which onnxruntime computes exactly on every CPU.
 * @example
 * const session = await ort.createSession(encodeModel(nodeCaseModel(exactReferenceCase(spec)).model));
 */
export function exactReferenceCase(spec: NodeCase): NodeCase {
  const slots = integerSlots(spec.opType, spec.domain);
  if (slots === undefined) return spec;
  const a = spec.inputs[slots.a];
  const b = spec.inputs[slots.b];
  const aIsUnsigned = slots.aIsFloat === true || a?.dtype === 'uint8';
  if (!aIsUnsigned || b?.dtype !== 'int8') return spec;
  const inputs = [...spec.inputs];
  while (inputs.length <= slots.bZeroPoint) inputs.push(undefined);
  inputs[slots.b] = shifted(b);
  const zeroPoint = inputs[slots.bZeroPoint];
  const scaleShape = slots.bScale === undefined ? [] : (spec.inputs[slots.bScale]?.shape ?? []);
  const size = scaleShape.reduce((product, dim) => product * dim, 1);
  inputs[slots.bZeroPoint] =
    zeroPoint === undefined
      ? createTensor('uint8', scaleShape, new Uint8Array(size).fill(128))
      : shifted(zeroPoint);
  // A zero point omitted before is fed now; it stays a constant when B is one (onnxruntime packs constant B).
  const constantSlots = spec.constantSlots?.includes(slots.b)
    ? [...new Set([...spec.constantSlots, slots.bZeroPoint])]
    : spec.constantSlots;
  return { ...spec, inputs, ...(constantSlots !== undefined && { constantSlots }) };
}

/**
 * A copy of `model` in which each uint8 x int8 integer node whose B and B zero point are initializers computes in
 * the exact uint8 x uint8 form (see exactReferenceCase), for comparing a whole quantized model with onnxruntime on
 * any CPU. A's type is read from its zero point initializer; nodes where that is not known are left as they are.
 * @example
 * const session = await ort.createSession(encodeModel(exactIntegerModel(fusedModel)));
 */
export function exactIntegerModel(model: Model): Model {
  const copy = decodeModel(encodeModel(model));
  const { graph } = copy;
  for (const node of graph.nodes) {
    const slots = integerSlots(node.opType, node.domain);
    if (slots?.aZeroPoint === undefined) continue;
    const aZero = graph.initializers.get(node.inputs[slots.aZeroPoint] ?? '');
    const b = graph.initializers.get(node.inputs[slots.b] ?? '');
    const bZeroName = node.inputs[slots.bZeroPoint] ?? '';
    const bZero = graph.initializers.get(bZeroName);
    if (aZero?.dtype !== 'uint8' || b?.dtype !== 'int8' || bZero?.dtype !== 'int8') continue;
    const bName = `${node.inputs[slots.b]}_exact_u8`;
    const zeroName = `${bZeroName}_exact_u8`;
    graph.initializers.set(bName, shifted(b));
    graph.initializers.set(zeroName, shifted(bZero));
    graph.replaceInput(node, node.inputs[slots.b]!, bName);
    graph.replaceInput(node, bZeroName, zeroName);
  }
  return copy;
}
