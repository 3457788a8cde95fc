import { type QuantizedTensor, QuantError, createTensor } from '@quantkit/core';
import { type Attribute, type Node, floatAttribute } from '@quantkit/onnx';
import type { ComputedQuantization, WeightQuantization } from './compute-quantization.js';
import { MS_DOMAIN, type QdqEmitter } from './emitter.js';
import { type WeightOwner, emitWeightOnly } from './emit-weight-only.js';
import type { Recipe } from './options.js';
import type { ConstantUse, QuantPlan } from './plan.js';

/**
 * Integer operators read linear codes: a quantizer that answers with table indices (log codes with many exponent
 * steps) or another width cannot feed them.
 * @throws QuantError UNSUPPORTED naming the quantizer and the node.
 */
export function requireLinearCodes(weight: WeightQuantization, node: Node): QuantizedTensor {
  const { quantized } = weight;
  if (
    quantized.lookup !== undefined ||
    (quantized.codes.dtype !== 'int8' && quantized.codes.dtype !== 'uint8')
  ) {
    throw new QuantError(
      'UNSUPPORTED',
      `${node.opType} "${node.name}": quantizer "${weight.quantizer}" gave ${quantized.lookup ? 'table-indexed' : quantized.codes.dtype} codes, ` +
        'but integer operators need linear 8-bit codes; use mode "weight-only" for it',
    );
  }
  return quantized;
}

/**
 * MatMul and Gemm become com.microsoft DynamicQuantizeMatMul: the activation is quantized to uint8 at run time,
 * the weight is int8 per column ([K, N], a transB Gemm's transposed), and onnxruntime runs the u8 x s8 product in
 * one kernel.
 */
function emitMatMul(
  emitter: QdqEmitter,
  use: ConstantUse,
  weight: WeightQuantization,
  ownerOf: WeightOwner,
): void {
  const { graph } = emitter;
  const { node } = use;
  const isGemm = node.opType === 'Gemm';
  const quantized = requireLinearCodes(weight, node);
  const alpha = isGemm ? floatAttribute(node, 'alpha', 1) : 1;
  const beta = isGemm ? floatAttribute(node, 'beta', 1) : 1;
  // alpha scales the whole product, so it folds into the weight scales exactly.
  const params =
    alpha === 1
      ? quantized.params
      : { ...quantized.params, scale: quantized.params.scale.map((s) => Math.fround(s * alpha)) };
  const base = node.inputs[1]!;
  // A weight shared by several MatMuls (tied layers, or bodies reading one weight of an enclosing graph) is stored
  // once, where it lives, when they quantize it alike.
  const store = ownerOf(base) ?? emitter;
  const { codes, scale, zeroPoint } = store.cached(JSON.stringify([weight.key, alpha]), () => ({
    codes: store.constant(`${base}_quantized`, quantized.codes),
    ...store.paramConstants(base, quantized.codes.shape, params),
  }));
  const output = node.outputs[0]!;
  const inputs = [node.inputs[0]!, codes, scale, zeroPoint];

  const biasName = isGemm ? node.inputs[2] : undefined;
  const bias = biasName ? graph.getConstant(biasName) : undefined;
  const columns = weight.tensor.shape[1]!;
  let extraAdd: string | undefined;
  if (biasName && bias?.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === columns) {
    inputs.push(
      emitter.constant(
        `${biasName}_scaled`,
        createTensor(
          'float32',
          [columns],
          Float32Array.from(bias.data as Float32Array, (b) => Math.fround(b * beta)),
        ),
      ),
    );
  } else if (biasName) {
    extraAdd = biasName;
    if (beta !== 1) {
      const betaName = emitter.constant(
        `${node.name}_beta`,
        createTensor('float32', [], Float32Array.of(beta)),
      );
      extraAdd = graph.uniqueName(`${biasName}_times_beta`);
      emitter.node('Mul', [biasName, betaName], [extraAdd]);
    }
  }
  graph.removeNode(node);
  const product = extraAdd === undefined ? output : graph.uniqueName(`${output}_product`);
  emitter.node('DynamicQuantizeMatMul', inputs, [product], { domain: MS_DOMAIN, replaces: node.name });
  emitter.requireMsDomain();
  if (extraAdd !== undefined) emitter.node('Add', [product, extraAdd], [output]);
}

const convAttributes = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];

/**
 * Conv becomes DynamicQuantizeLinear -> ConvInteger (u8 x s8) -> Cast -> Mul(input scale x weight scale) -> Add(bias),
 * the ONNX-standard dynamic form.
 */
function emitConv(
  emitter: QdqEmitter,
  use: ConstantUse,
  weight: WeightQuantization,
  ownerOf: WeightOwner,
): void {
  const { graph } = emitter;
  const { node } = use;
  // computeWeightQuantization made the weights symmetric uint8 (zero point 128 for every channel), as onnxruntime's
  // ConvInteger takes a single weight zero point; per-channel scales apply after the integer convolution.
  const quantized = requireLinearCodes(weight, node);
  const base = node.inputs[1]!;
  const channels = use.tensor.shape[0]!;
  const spatial = use.tensor.shape.length - 2;
  const zeroPoint = quantized.params.zeroPoint[0]!;
  if (quantized.params.zeroPoint.some((z) => z !== zeroPoint)) {
    throw new QuantError(
      'INTERNAL',
      `Conv "${node.name}": ConvInteger needs one weight zero point for all channels`,
    );
  }
  // Output is [N, M, spatial...]; per-channel factors broadcast as [M, 1, ..., 1].
  const perChannel = quantized.params.scale.length > 1;
  const scaleShape = perChannel ? [channels, ...new Array<number>(spatial).fill(1)] : [];
  const store = ownerOf(base) ?? emitter;
  const { codes, weightZero, weightScale } = store.cached(weight.key, () => ({
    codes: store.constant(`${base}_quantized`, quantized.codes),
    weightZero: store.constant(
      `${base}_zero_point`,
      createTensor(quantized.codes.dtype, [], Uint8Array.of(zeroPoint)),
    ),
    weightScale: store.constant(
      `${base}_scale`,
      createTensor('float32', scaleShape, Float32Array.from(quantized.params.scale)),
    ),
  }));

  const x = node.inputs[0]!;
  const output = node.outputs[0]!;
  const xq = graph.uniqueName(`${x}_quantized`);
  const xs = graph.uniqueName(`${x}_scale`);
  const xz = graph.uniqueName(`${x}_zero_point`);
  const attributes: Record<string, Attribute> = {};
  for (const name of convAttributes) {
    const attribute = node.attributes.get(name);
    if (attribute !== undefined) attributes[name] = attribute;
  }
  const biasName = node.inputs[2];
  graph.removeNode(node);
  emitter.node('DynamicQuantizeLinear', [x], [xq, xs, xz]);
  const accumulated = graph.uniqueName(`${output}_int32`);
  emitter.node('ConvInteger', [xq, codes, xz, weightZero], [accumulated], {
    attributes,
    replaces: node.name,
  });
  const asFloat = graph.uniqueName(`${output}_float`);
  emitter.node('Cast', [accumulated], [asFloat], { attributes: { to: { type: 'int', value: 1 } } });
  const combinedScale = graph.uniqueName(`${output}_scale`);
  emitter.node('Mul', [xs, weightScale], [combinedScale]);
  if (biasName === undefined || biasName === '') {
    emitter.node('Mul', [asFloat, combinedScale], [output]);
    return;
  }
  const scaled = graph.uniqueName(`${output}_scaled`);
  emitter.node('Mul', [asFloat, combinedScale], [scaled]);
  const bias = graph.getConstant(biasName);
  if (bias === undefined)
    throw new QuantError('INTERNAL', `bias "${biasName}" of Conv "${node.name}" is not constant`);
  const reshaped = emitter.constant(
    `${biasName}_broadcast`,
    createTensor(
      'float32',
      [channels, ...new Array<number>(spatial).fill(1)],
      Float32Array.from(bias.data as Float32Array),
    ),
  );
  emitter.node('Add', [scaled, reshaped], [output]);
}

/** Dynamic quantization: weights in int8 now, activations quantized by the runtime on every run. */
export function emitDynamic(
  emitter: QdqEmitter,
  plan: QuantPlan,
  recipe: Recipe,
  computed: ComputedQuantization,
  ownerOf: WeightOwner = () => undefined,
): void {
  emitWeightOnly(emitter, plan, recipe, computed, ownerOf);
  for (const use of plan.dynamicNodes) {
    const weight = computed.weights.get(use)!;
    if (use.node.opType === 'Conv') emitConv(emitter, use, weight, ownerOf);
    else emitMatMul(emitter, use, weight, ownerOf);
  }
}
