import { type DType, type Tensor, createTensor } from '@quantkit/core';
import {
  type Attribute,
  type Graph,
  type Model,
  type Node,
  cloneModel,
  isDefaultDomain,
  normalizeDomain,
  opsetVersion,
  setOpsetVersion,
} from '@quantkit/onnx';

const MS_DOMAIN = 'com.microsoft';

/** What {@link fuseQdq} returns: the rewritten copy and how many QDQ groups became integer kernels. */
export interface FuseQdqResult {
  readonly model: Model;
  readonly fused: number;
}

/**
 * Largest accumulator-scale to output-scale ratio at which a float bias is requantized into the int32 bias of an
 * integer kernel: rounding it moves the value before the output's rounding by at most half this ratio in codes
 * (1%), so only values already within 1% of a code boundary can land one code away.
 */
const BIAS_SCALE_RATIO_LIMIT = 0.02;
const INT32_MAX = 2 ** 31 - 1;

/** A value read through a DequantizeLinear: its codes, scale and zero point, and what they hold. */
interface Dequantized {
  readonly node: Node;
  readonly codes: string;
  readonly scale: string;
  /** The zero-point value name, '' when the DequantizeLinear has none (zero). */
  readonly zeroPoint: string;
  readonly dtype: DType;
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  /** Undefined per tensor; the (non-negative) axis of per-axis parameters. */
  readonly axis: number | undefined;
  /** The codes when they are a constant (weights, biases). */
  readonly constant: Tensor | undefined;
}

/** The QuantizeLinear a float value flows into, when it is the value's only reader. */
interface Quantized {
  readonly node: Node;
  readonly scale: string;
  readonly zeroPoint: string;
  readonly dtype: DType;
  readonly scaleValue: number;
}

const isQdqDomain = (node: Node) =>
  isDefaultDomain(node.domain) || normalizeDomain(node.domain) === MS_DOMAIN;
const isEightBit = (dtype: DType | undefined) => dtype === 'uint8' || dtype === 'int8';

function intAttribute(node: Node, name: string, fallback: number): number {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'int' ? attribute.value : fallback;
}

function floatAttribute(node: Node, name: string, fallback: number): number {
  const attribute = node.attributes.get(name);
  if (attribute?.type === 'float' || attribute?.type === 'int') return attribute.value;
  return fallback;
}

/** The float32 values of a constant scale tensor, or undefined when it is not a float32 constant. */
function constantScales(graph: Graph, name: string): Float32Array | undefined {
  const tensor = graph.getConstant(name);
  return tensor?.dtype === 'float32' ? (tensor.data as Float32Array) : undefined;
}

/**
 * Reads `name` as the output of a DequantizeLinear with constant parameters and no block size; undefined when it
 * is anything else.
 */
function dequantized(graph: Graph, name: string | undefined): Dequantized | undefined {
  if (name === undefined || name === '') return undefined;
  const node = graph.producer(name);
  if (
    node?.opType !== 'DequantizeLinear' ||
    !isQdqDomain(node) ||
    intAttribute(node, 'block_size', 0) !== 0
  ) {
    return undefined;
  }
  const [codes, scale, zeroPoint = ''] = node.inputs as [string, string, string?];
  const scales = constantScales(graph, scale);
  if (scales === undefined) return undefined;
  const zeroTensor = zeroPoint === '' ? undefined : graph.getConstant(zeroPoint);
  if (zeroPoint !== '' && zeroTensor === undefined) return undefined;
  const constant = graph.getConstant(codes);
  const dtype = zeroTensor?.dtype ?? constant?.dtype ?? graph.valueType(codes)?.dtype;
  if (dtype === undefined) return undefined;
  const zeroPoints =
    zeroTensor === undefined
      ? new Int32Array(scales.length)
      : Int32Array.from(zeroTensor.data as ArrayLike<number>);
  if (zeroPoints.length !== scales.length) return undefined;
  let axis: number | undefined;
  if (scales.length !== 1) {
    const rank = constant?.shape.length ?? graph.valueType(codes)?.shape?.length;
    if (rank === undefined) return undefined;
    const raw = intAttribute(node, 'axis', 1);
    axis = raw < 0 ? raw + rank : raw;
    if (axis < 0 || axis >= rank) return undefined;
  }
  return { node, codes, scale, zeroPoint, dtype, scales, zeroPoints, axis, constant };
}

/** The per-tensor 8-bit QuantizeLinear that is the only reader of float value `name`. */
function quantizedOutput(graph: Graph, name: string): Quantized | undefined {
  if (graph.isOutput(name)) return undefined;
  const readers = graph.consumers(name);
  if (readers.length !== 1) return undefined;
  const node = readers[0]!;
  if (node.opType !== 'QuantizeLinear' || !isQdqDomain(node) || node.inputs[0] !== name) return undefined;
  if (intAttribute(node, 'block_size', 0) !== 0) return undefined;
  const [, scale, zeroPoint = ''] = node.inputs as [string, string, string?];
  const scales = constantScales(graph, scale);
  if (scales?.length !== 1) return undefined;
  const zeroTensor = zeroPoint === '' ? undefined : graph.getConstant(zeroPoint);
  if (zeroPoint !== '' && zeroTensor?.data.length !== 1) return undefined;
  const outputType = intAttribute(node, 'output_dtype', 0);
  // output_dtype 3 is int8; 2 (or absent) uint8. Others are not 8-bit.
  const dtype =
    zeroTensor?.dtype ??
    (outputType === 3 ? 'int8' : outputType === 0 || outputType === 2 ? 'uint8' : undefined);
  if (!isEightBit(dtype)) return undefined;
  return { node, scale, zeroPoint, dtype: dtype!, scaleValue: scales[0]! };
}

/** A per-tensor 8-bit activation behind a DequantizeLinear. */
function perTensorActivation(graph: Graph, name: string | undefined): Dequantized | undefined {
  const value = dequantized(graph, name);
  return value !== undefined && value.axis === undefined && isEightBit(value.dtype) ? value : undefined;
}

/** Edits collected for one rewrite, applied together once the whole group is known to fit. */
class Rewriter {
  private readonly created: Node[] = [];
  constructor(private readonly graph: Graph) {}

  /** A constant named after `base`. */
  constant(base: string, tensor: Tensor): string {
    const name = this.graph.uniqueName(base);
    this.graph.addInitializer(name, tensor);
    return name;
  }

  /** The zero-point value of an operand, made explicit (the integer ops need it) when the DQ/Q had none. */
  zeroPoint(name: string, dtype: DType, length: number, base: string): string {
    if (name !== '') return name;
    const data = dtype === 'int8' ? new Int8Array(length) : new Uint8Array(length);
    return this.constant(`${base}_zero_point`, createTensor(dtype, length === 1 ? [] : [length], data));
  }

  node(
    replaced: Node,
    opType: string,
    domain: string,
    inputs: string[],
    outputs: string[],
    attributes = new Map<string, Attribute>(),
  ): void {
    const node: Node = {
      // The integer node takes over the float node's name (which leaves the graph with it).
      name: replaced.name,
      opType,
      domain,
      inputs,
      outputs,
      attributes,
    };
    this.graph.insertNodeBefore(node, replaced);
    this.created.push(node);
  }

  /**
   * Removes the float op, its QuantizeLinear, the DequantizeLinears nothing reads any more, and the initializers
   * only they read (a float bias that became an int32 one).
   */
  finish(removed: readonly Node[], dequantizers: readonly (Dequantized | undefined)[]): void {
    const { graph } = this;
    const gone = [...removed];
    for (const node of removed) graph.removeNode(node);
    for (const operand of new Set(dequantizers)) {
      if (operand === undefined) continue;
      const output = operand.node.outputs[0]!;
      const stillInGraph = graph.nodes.includes(operand.node);
      if (stillInGraph && graph.consumers(output).length === 0 && !graph.isOutput(output)) {
        graph.removeNode(operand.node);
        gone.push(operand.node);
      }
    }
    for (const name of new Set(gone.flatMap((node) => node.inputs))) {
      const unused = graph.consumers(name).length === 0 && !graph.isOutput(name) && !graph.isInput(name);
      if (unused && graph.initializers.has(name)) graph.removeInitializer(name);
    }
  }
}

/** Round half to even. */
function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && (rounded & 1) !== 0 ? rounded - 1 : rounded;
}

/**
 * The int32 bias at the accumulator's scale (`accumulatorScales[c]`, one per output channel, or one) for a bias
 * input of `channels` values: the codes of an int32 DequantizeLinear already at that scale, else the float bias
 * (a constant, or a constant behind a DequantizeLinear) requantized when its rounding stays below 1% of an output
 * code and fits int32. Undefined when neither works.
 */
function integerBias(
  graph: Graph,
  name: string,
  channels: number,
  accumulatorScales: Float32Array,
  outputScale: number,
  multiplier = 1,
): { tensor?: Tensor; name?: string; dequantized?: Dequantized } | undefined {
  const scaleOf = (c: number) => accumulatorScales[accumulatorScales.length === 1 ? 0 : c]!;
  const source = dequantized(graph, name);
  let values: Float32Array | undefined;
  if (source !== undefined) {
    const codes = source.constant;
    if (codes === undefined || !isVector(codes, channels)) return undefined;
    const sameScale = Array.from({ length: channels }, (_, c) => c).every(
      (c) => source.scales[source.scales.length === 1 ? 0 : c] === scaleOf(c),
    );
    if (
      codes.dtype === 'int32' &&
      multiplier === 1 &&
      sameScale &&
      source.zeroPoints.every((zero) => zero === 0)
    ) {
      return { name: source.codes, dequantized: source };
    }
    values = Float32Array.from(codes.data as ArrayLike<number>, (code, c) => {
      const p = source.scales.length === 1 ? 0 : c;
      return Math.fround((code - source.zeroPoints[p]!) * source.scales[p]!);
    });
  } else {
    const constant = graph.getConstant(name);
    if (constant?.dtype !== 'float32' || !isVector(constant, channels)) return undefined;
    values = constant.data as Float32Array;
  }
  const codes = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const scale = scaleOf(c);
    if (!(scale > 0) || scale > BIAS_SCALE_RATIO_LIMIT * outputScale) return undefined;
    const code = roundHalfEven(Math.fround(multiplier * values[c]!) / scale);
    if (!(Math.abs(code) <= INT32_MAX)) return undefined;
    codes[c] = code;
  }
  return {
    tensor: createTensor('int32', [channels], codes),
    ...(source !== undefined && { dequantized: source }),
  };
}

/** Whether a constant holds one value per channel, as [channels] or [1, channels]. */
function isVector(tensor: Tensor, channels: number): boolean {
  const { shape } = tensor;
  return shape[shape.length - 1] === channels && shape.length <= 2 && (shape.length < 2 || shape[0] === 1);
}

/** x_scale x w_scale[c] in float32, the scale of the integer accumulator. */
function accumulatorScales(inputScale: number, weightScales: Float32Array, alpha = 1): Float32Array {
  const base = Math.fround(alpha * inputScale);
  return Float32Array.from(weightScales, (scale) => Math.fround(base * scale));
}

/** Conv -> QLinearConv: per-tensor X, per-tensor or per-output-channel constant W, optional bias. */
function fuseConv(graph: Graph, conv: Node): boolean {
  const x = perTensorActivation(graph, conv.inputs[0]);
  const w = dequantized(graph, conv.inputs[1]);
  if (x === undefined || w?.constant === undefined || !isEightBit(w.dtype)) return false;
  const channels = w.constant.shape[0];
  if (channels === undefined || w.constant.shape.length < 3) return false;
  if (w.axis !== undefined && (w.axis !== 0 || w.scales.length !== channels)) return false;
  const y = quantizedOutput(graph, conv.outputs[0]!);
  if (y === undefined) return false;
  const biasName = conv.inputs[2];
  let bias: ReturnType<typeof integerBias>;
  if (biasName !== undefined && biasName !== '') {
    bias = integerBias(graph, biasName, channels, accumulatorScales(x.scales[0]!, w.scales), y.scaleValue);
    if (bias === undefined) return false;
  }
  const rewriter = new Rewriter(graph);
  const inputs = [
    x.codes,
    x.scale,
    rewriter.zeroPoint(x.zeroPoint, x.dtype, 1, x.codes),
    w.codes,
    w.scale,
    rewriter.zeroPoint(w.zeroPoint, w.dtype, w.scales.length, w.codes),
    y.scale,
    rewriter.zeroPoint(y.zeroPoint, y.dtype, 1, y.node.outputs[0]!),
  ];
  if (bias !== undefined) inputs.push(bias.name ?? rewriter.constant(`${biasName}_int32`, bias.tensor!));
  rewriter.node(conv, 'QLinearConv', '', inputs, [y.node.outputs[0]!], new Map(conv.attributes));
  rewriter.finish([conv, y.node], [x, w, bias?.dequantized]);
  return true;
}

/** MatMul -> QLinearMatMul: per-tensor A, constant 2-D B per tensor or per column. */
function fuseMatMul(graph: Graph, matMul: Node): boolean {
  const a = perTensorActivation(graph, matMul.inputs[0]);
  const b = dequantized(graph, matMul.inputs[1]);
  if (a === undefined || b?.constant === undefined || !isEightBit(b.dtype)) return false;
  if (b.axis !== undefined && (b.constant.shape.length !== 2 || b.axis !== 1)) return false;
  const y = quantizedOutput(graph, matMul.outputs[0]!);
  if (y === undefined) return false;
  const rewriter = new Rewriter(graph);
  rewriter.node(
    matMul,
    'QLinearMatMul',
    '',
    [
      a.codes,
      a.scale,
      rewriter.zeroPoint(a.zeroPoint, a.dtype, 1, a.codes),
      b.codes,
      b.scale,
      rewriter.zeroPoint(b.zeroPoint, b.dtype, b.scales.length, b.codes),
      y.scale,
      rewriter.zeroPoint(y.zeroPoint, y.dtype, 1, y.node.outputs[0]!),
    ],
    [y.node.outputs[0]!],
  );
  rewriter.finish([matMul, y.node], [a, b]);
  return true;
}

/** Gemm -> com.microsoft QGemm: per-tensor A, constant B per tensor or per column, C folded into an int32 C. */
function fuseGemm(graph: Graph, gemm: Node): boolean {
  const a = perTensorActivation(graph, gemm.inputs[0]);
  const b = dequantized(graph, gemm.inputs[1]);
  if (a === undefined || b?.constant === undefined || !isEightBit(b.dtype) || b.constant.shape.length !== 2)
    return false;
  const transB = intAttribute(gemm, 'transB', 0) !== 0;
  const columns = b.constant.shape[transB ? 0 : 1]!;
  if (b.axis !== undefined && (b.axis !== (transB ? 0 : 1) || b.scales.length !== columns)) return false;
  const y = quantizedOutput(graph, gemm.outputs[0]!);
  if (y === undefined) return false;
  const alpha = Math.fround(floatAttribute(gemm, 'alpha', 1));
  const beta = Math.fround(floatAttribute(gemm, 'beta', 1));
  const cName = gemm.inputs[2];
  let c: ReturnType<typeof integerBias>;
  if (cName !== undefined && cName !== '') {
    // C of shape [N] or [1, N] (one value per column) becomes QGemm's int32 C.
    c = integerBias(
      graph,
      cName,
      columns,
      accumulatorScales(a.scales[0]!, b.scales, alpha),
      y.scaleValue,
      beta,
    );
    if (c === undefined) return false;
  }
  const rewriter = new Rewriter(graph);
  const inputs = [
    a.codes,
    a.scale,
    rewriter.zeroPoint(a.zeroPoint, a.dtype, 1, a.codes),
    b.codes,
    b.scale,
    rewriter.zeroPoint(b.zeroPoint, b.dtype, b.scales.length, b.codes),
    c === undefined ? '' : (c.name ?? rewriter.constant(`${cName}_int32`, c.tensor!)),
    y.scale,
    rewriter.zeroPoint(y.zeroPoint, y.dtype, 1, y.node.outputs[0]!),
  ];
  const attributes = new Map<string, Attribute>([
    ['alpha', { type: 'float', value: alpha }],
    ['transA', { type: 'int', value: intAttribute(gemm, 'transA', 0) }],
    ['transB', { type: 'int', value: transB ? 1 : 0 }],
  ]);
  rewriter.node(gemm, 'QGemm', MS_DOMAIN, inputs, [y.node.outputs[0]!], attributes);
  rewriter.finish([gemm, y.node], [a, b, c?.dequantized]);
  return true;
}

/** Add / Mul -> com.microsoft QLinearAdd / QLinearMul: both inputs and the output per-tensor, one 8-bit type. */
function fuseBinary(graph: Graph, node: Node): boolean {
  const a = perTensorActivation(graph, node.inputs[0]);
  const b = perTensorActivation(graph, node.inputs[1]);
  if (a === undefined || b === undefined || a.dtype !== b.dtype) return false;
  const y = quantizedOutput(graph, node.outputs[0]!);
  if (y === undefined || y.dtype !== a.dtype) return false;
  const rewriter = new Rewriter(graph);
  rewriter.node(
    node,
    `QLinear${node.opType}`,
    MS_DOMAIN,
    [
      a.codes,
      a.scale,
      rewriter.zeroPoint(a.zeroPoint, a.dtype, 1, a.codes),
      b.codes,
      b.scale,
      rewriter.zeroPoint(b.zeroPoint, b.dtype, 1, b.codes),
      y.scale,
      rewriter.zeroPoint(y.zeroPoint, y.dtype, 1, y.node.outputs[0]!),
    ],
    [y.node.outputs[0]!],
  );
  rewriter.finish([node, y.node], [a, b]);
  return true;
}

const FUSERS: Readonly<Record<string, (graph: Graph, node: Node) => boolean>> = {
  Conv: fuseConv,
  MatMul: fuseMatMul,
  Gemm: fuseGemm,
  Add: fuseBinary,
  Mul: fuseBinary,
};

/**
 * Rewrites the QDQ groups of a model's main graph into the integer kernels that compute them: each
 * DequantizeLinear -> Conv / MatMul / Gemm (weight a constant behind a DequantizeLinear) -> QuantizeLinear becomes
 * QLinearConv / QLinearMatMul / com.microsoft QGemm, and DequantizeLinear -> Add / Mul -> QuantizeLinear becomes
 * com.microsoft QLinearAdd / QLinearMul. A group is rewritten only when it fits exactly: 8-bit codes, per-tensor
 * activations, weights per tensor or per output channel, constant scales and zero points, a float result read by
 * the QuantizeLinear alone, and a bias (Conv) or C (Gemm, shape [N]) that is int32 at the accumulator's scale or
 * requantizes to it within 1% of an output code. Everything else is left as it was. DequantizeLinears nothing
 * reads any more are removed.
 *
 * The integer kernels accumulate exactly and round once, where the QDQ graph rounds float sums: outputs agree but
 * for values that lie within float32 rounding of a code boundary, which may land one code away.
 *
 * Returns a rewritten copy; the input model is not modified (tensors are shared, as {@link cloneModel} does).
 *
 * @example
 * const { model: integerModel, fused } = fuseQdq(qdqModel);
 */
export function fuseQdq(model: Model): FuseQdqResult {
  const copy = cloneModel(model);
  const opset = opsetVersion(model) ?? 1;
  // QLinearConv, QLinearMatMul and QuantizeLinear itself exist from opset 10.
  if (opset < 10) return { model: copy, fused: 0 };
  const { graph } = copy;
  let fused = 0;
  let usesMsDomain = false;
  for (const node of [...graph.nodes]) {
    if (!isDefaultDomain(node.domain)) continue;
    const fuser = FUSERS[node.opType];
    if (fuser === undefined || !graph.nodes.includes(node)) continue;
    if (fuser(graph, node)) {
      fused += 1;
      if (node.opType !== 'Conv' && node.opType !== 'MatMul') usesMsDomain = true;
    }
  }
  if (usesMsDomain && opsetVersion(copy, MS_DOMAIN) === undefined) setOpsetVersion(copy, 1, MS_DOMAIN);
  if (fused > 0) graph.topologicalSort();
  return { model: copy, fused };
}
