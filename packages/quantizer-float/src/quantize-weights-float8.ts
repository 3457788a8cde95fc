import { QuantError, type Tensor, axisLayout, listChoices } from '@quantkit/core';
import {
  BUILTIN_OPS,
  type Model,
  cloneModel,
  createNode,
  isDefaultDomain,
  opsetVersion,
  weightChannelAxis,
} from '@quantkit/onnx';
import { float8Scale } from './float8-activation-params.js';
import { FLOAT8_DTYPES, FLOAT8_FORMATS, type Float8Format, float32ToFloat8 } from './float32-to-float8.js';

/** Operators whose weight (input 1) {@link quantizeWeightsFloat8} can quantize. */
export const FLOAT8_WEIGHT_OPS: readonly string[] = ['MatMul', 'Gemm', 'Conv', 'ConvTranspose'];

export interface QuantizeWeightsFloat8Options {
  format: Float8Format;
  /** Operator types whose weights are quantized; default MatMul, Gemm and Conv. */
  ops?: readonly string[];
  /** One scale per output channel (default false: one per tensor). */
  perChannel?: boolean;
  /** Names of nodes whose weights stay float32 (excluded or overridden by the plan). */
  keepNodes?: readonly string[];
}

function nonFinite(name: string): QuantError {
  return new QuantError(
    'INVALID_MODEL',
    `weight "${name}" holds infinite or NaN values; float8 needs finite weights`,
  );
}

function quantizeTensor(
  name: string,
  weight: Tensor<'float32'>,
  format: Float8Format,
  axis: number | undefined,
): { codes: Uint8Array; scale: Float32Array } {
  const data = weight.data;
  const { outer, axisSize, inner } =
    axis === undefined ? { outer: 1, axisSize: 1, inner: data.length } : axisLayout(weight.shape, axis);
  const absMax = new Float64Array(axisSize);
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < axisSize; d++) {
      const start = (o * axisSize + d) * inner;
      let max = absMax[d]!;
      for (let i = start; i < start + inner; i++) {
        const magnitude = Math.abs(data[i]!);
        if (!(magnitude <= max)) {
          if (Number.isNaN(magnitude)) throw nonFinite(name);
          max = magnitude;
        }
      }
      absMax[d] = max;
    }
  }
  const scale = new Float32Array(axisSize);
  for (let d = 0; d < axisSize; d++) {
    if (!Number.isFinite(absMax[d]!)) throw nonFinite(name);
    scale[d] = float8Scale(absMax[d]!, format);
  }
  const scaled = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < axisSize; d++) {
      const start = (o * axisSize + d) * inner;
      const divisor = scale[d]!;
      for (let i = start; i < start + inner; i++) scaled[i] = data[i]! / divisor;
    }
  }
  // Saturating: scale rounding can push the largest weight a hair past the format's maximum.
  return { codes: float32ToFloat8(scaled, format, { saturate: true }), scale };
}

/**
 * Stores the float32 weights of MatMul/Gemm/Conv nodes (input 1, when it is an initializer) as float8 followed by
 * an ONNX DequantizeLinear (opset 19+), returning a new model. Scale = max|w| / 448 (e4m3fn) or / 57344 (e5m2),
 * per tensor or per output channel (`axis` on the DequantizeLinear), so the float8 range is used fully; the zero
 * point is a float8 zero. Activations stay float32 (see {@link float8ActivationParams} for activation QDQ). A
 * weight shared by several quantized nodes gets one DequantizeLinear; one also read by other nodes keeps its
 * float32 copy for them. The IR version is raised to 9 if lower (float8 types need IR 9).
 *
 * @example
 * const fp8 = quantizeWeightsFloat8(model, { format: 'e4m3fn', perChannel: true });
 * @throws QuantError UNSUPPORTED when the model's opset is below 19; INVALID_ARGUMENT for an unknown format or op
 *   type; INVALID_MODEL when a weight holds infinities or NaN.
 */
export function quantizeWeightsFloat8(model: Model, options: QuantizeWeightsFloat8Options): Model {
  const format = options?.format;
  if (!(FLOAT8_FORMATS as readonly string[]).includes(format)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `quantizeWeightsFloat8 format "${String(format)}" is not supported; choose ${listChoices(FLOAT8_FORMATS)}`,
    );
  }
  const ops = new Set(options.ops ?? ['MatMul', 'Gemm', 'Conv']);
  const keep = new Set(options.keepNodes ?? []);
  for (const op of ops) {
    if (!FLOAT8_WEIGHT_OPS.includes(op)) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `quantizeWeightsFloat8 cannot quantize the weights of "${op}"; ops must be among ${listChoices(FLOAT8_WEIGHT_OPS)}`,
      );
    }
  }
  const opset = opsetVersion(model) ?? 1;
  if (opset < 19) {
    throw new QuantError(
      'UNSUPPORTED',
      `float8 DequantizeLinear needs opset 19 or newer, but the model imports opset ${opset}; ` +
        're-export or convert the model to opset >= 19 (e.g. torch.onnx.export(..., opset_version=19)), ' +
        'or use integer weight quantization',
    );
  }
  const result = cloneModel(model);
  result.irVersion = Math.max(model.irVersion, 9);
  const graph = result.graph;
  const dtype = FLOAT8_DTYPES[format];
  const dequantized = new Map<string, string>();
  const touched = new Set<string>();
  for (const node of [...graph.nodes]) {
    if (!isDefaultDomain(node.domain) || !ops.has(node.opType) || keep.has(node.name)) continue;
    const name = node.inputs[1];
    if (!name) continue;
    const weight = graph.initializers.get(name);
    if (weight === undefined || weight.dtype !== 'float32' || graph.isInput(name)) continue;
    const axis = options.perChannel ? weightChannelAxis(BUILTIN_OPS.of(node), node, weight.shape) : undefined;
    const key = `${axis ?? 'tensor'}:${name}`;
    let output = dequantized.get(key);
    if (output === undefined) {
      const { codes, scale } = quantizeTensor(name, weight as Tensor<'float32'>, format, axis);
      const codesName = graph.uniqueName(`${name}_${format}`);
      const scaleName = graph.uniqueName(`${name}_scale`);
      const zeroName = graph.uniqueName(`${name}_zero_point`);
      const paramShape = axis === undefined ? [] : [scale.length];
      graph.addInitializer(codesName, { dtype, shape: [...weight.shape], data: codes });
      graph.addInitializer(scaleName, { dtype: 'float32', shape: paramShape, data: scale });
      graph.addInitializer(zeroName, { dtype, shape: paramShape, data: new Uint8Array(scale.length) });
      output = graph.uniqueName(`${name}_dequantized`);
      graph.addNode(
        createNode({
          opType: 'DequantizeLinear',
          name: graph.uniqueName(`${name}_DequantizeLinear`),
          inputs: [codesName, scaleName, zeroName],
          outputs: [output],
          attributes: axis === undefined ? {} : { axis },
        }),
        0,
      );
      dequantized.set(key, output);
    }
    graph.setInput(node, 1, output);
    touched.add(name);
  }
  for (const name of touched) {
    if (graph.consumers(name).length === 0 && !graph.isOutput(name)) graph.removeInitializer(name);
  }
  return result;
}
