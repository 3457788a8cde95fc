// Empirical bias correction (options.biasCorrection). Rounding weights to a grid shifts the mean of each output
// channel by sum over inputs of (w_q - w) x E[x], which does not average out when the inputs' mean is not 0 (after
// a Relu it never is), and the shift passes to every layer after. Each layer's own shift is computed from its
// weight error and the float model's per-channel input means on the calibration samples (Nagel et al. 2019), and
// subtracted from the float bias before it is quantized. Measuring the shift at the quantized model's outputs
// instead would count every earlier layer's shift again at each layer: on the corpus that cost up to 12 dB.
import { type ExecutorPlugin, type Tensor, createTensor } from '@quantkit/core';
import { type Graph, type Model, type Node, floatAttribute, intAttribute } from '@quantkit/onnx';
import type { ModelTransform } from './model-transforms.js';
import type { CalibrationSample } from './options.js';
import type { QuantPlan } from './plan.js';
import { visitFloatValues } from './visit-float-values.js';

/** What bias correction changed (QuantizeSummary.biasCorrection). */
export interface BiasCorrectionResult {
  /** Biases corrected, one per Conv or Gemm. */
  readonly corrected: number;
  /** Samples the input means were taken on. */
  readonly samples: number;
  /** The largest shift taken out of any channel, relative to that layer's largest bias magnitude (0 when none). */
  readonly largestRelativeShift: number;
}

/** Per-channel means over axis 1 of a layer's input ([N, C, ...] for Conv, [M, K] for Gemm), over samples. */
class ChannelMeans {
  private readonly sums: Float64Array;
  private count = 0;

  constructor(readonly channels: number) {
    this.sums = new Float64Array(channels);
  }

  add(tensor: Tensor): boolean {
    const { shape } = tensor;
    if (shape.length < 2 || shape[1] !== this.channels) return false;
    const inner = shape.slice(2).reduce((product, dim) => product * dim, 1);
    const data = tensor.data as Float32Array;
    for (let i = 0; i < data.length; i++) this.sums[Math.floor(i / inner) % this.channels]! += data[i]!;
    this.count += data.length / this.channels;
    return true;
  }

  means(): Float64Array {
    return this.sums.map((sum) => (this.count === 0 ? 0 : sum / this.count));
  }
}

/** The weight as the quantized model computes with it: its DequantizeLinear's codes, scales and zero points. */
function dequantizedWeight(graph: Graph, node: Node, float: Tensor): Float32Array | undefined {
  const dq = graph.producer(node.inputs[1] ?? '');
  if (dq?.opType !== 'DequantizeLinear') return undefined;
  const codes = graph.getConstant(dq.inputs[0] ?? '');
  const scale = graph.getConstant(dq.inputs[1] ?? '');
  const zero = dq.inputs[2] ? graph.getConstant(dq.inputs[2]) : undefined;
  if (codes === undefined || scale === undefined || codes.data.length !== float.data.length) return undefined;
  const scales = scale.data as Float32Array;
  const axis = intAttribute(dq, 'axis', 1);
  const stride = float.shape.slice(axis + 1).reduce((product, dim) => product * dim, 1);
  const channels = scales.length;
  return Float32Array.from(codes.data as ArrayLike<number>, (code, i) => {
    const channel = channels === 1 ? 0 : Math.floor(i / stride) % channels;
    const zeroPoint = zero === undefined ? 0 : Number(zero.data[channels === 1 ? 0 : channel]);
    return (code - zeroPoint) * scales[channel]!;
  });
}

/**
 * A Conv's or Gemm's mean output shift per channel, sum over its inputs of (w_q - w) x E[x], from the weight error
 * `error` (w_q - w, in the weight's layout) and the mean of each input channel; undefined for a form not handled
 * (ConvTranspose, a Gemm with transA). Data-free bias correction takes the means from BatchNorm statistics.
 * @example const shift = outputShift(conv, weight, error, means); // bias -= shift
 */
export function outputShift(
  node: Node,
  weight: Tensor,
  error: Float32Array,
  means: Float64Array,
): Float64Array | undefined {
  if (node.opType === 'Conv') {
    // Weight [M, C / group, k...]: output channel m reads input channels of its group only.
    const [outputs, perGroup] = weight.shape as [number, number];
    const group = intAttribute(node, 'group', 1);
    const kernel = weight.data.length / (outputs * perGroup);
    const shift = new Float64Array(outputs);
    for (let m = 0; m < outputs; m++) {
      const first = Math.floor(m / (outputs / group)) * perGroup;
      for (let c = 0; c < perGroup; c++) {
        const base = (m * perGroup + c) * kernel;
        let sum = 0;
        for (let k = 0; k < kernel; k++) sum += error[base + k]!;
        shift[m]! += sum * means[first + c]!;
      }
    }
    return shift;
  }
  if (node.opType === 'Gemm' && intAttribute(node, 'transA', 0) === 0 && weight.shape.length === 2) {
    // y = alpha A B (+ beta C); B is [K, N], or [N, K] with transB.
    const transB = intAttribute(node, 'transB', 0) !== 0;
    const alpha = floatAttribute(node, 'alpha') ?? 1;
    const [rows, columns] = weight.shape as [number, number];
    const outputs = transB ? rows : columns;
    const inner = transB ? columns : rows;
    const shift = new Float64Array(outputs);
    for (let n = 0; n < outputs; n++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += error[transB ? n * columns + k : k * columns + n]! * means[k]!;
      shift[n] = alpha * sum;
    }
    return shift;
  }
  return undefined;
}

/**
 * Computes each Conv and Gemm layer's mean output shift from its weight rounding and the float model's input means,
 * and returns the transform that subtracts it from the float biases.
 * @param planned the float model as planned (its node names are the quantized model's).
 * @param quantized the model written from `plan`, whose DequantizeLinear nodes give the weights as computed.
 */
export async function measureBiasShift(
  executor: ExecutorPlugin,
  planned: Model,
  quantized: Model,
  plan: QuantPlan,
  samples: readonly CalibrationSample[],
): Promise<{ transform: ModelTransform; result: BiasCorrectionResult }> {
  const written = new Map(quantized.graph.nodes.map((node) => [node.name, node]));
  // The plan's nodes were rewired as the model was written; the planned model still names the float inputs.
  const float = new Map(planned.graph.nodes.map((node) => [node.name, node]));
  const layers = plan.biases.flatMap((bias) => {
    const node = written.get(bias.node.name);
    const input = float.get(bias.node.name)?.inputs[0];
    const weight = bias.weight.tensor;
    const dequantized = node === undefined ? undefined : dequantizedWeight(quantized.graph, node, weight);
    if (node === undefined || input === undefined || dequantized === undefined) return [];
    const error = Float32Array.from(dequantized, (value, i) => value - weight.data[i]!);
    const channels = node.opType === 'Conv' ? weight.shape[1]! * intAttribute(node, 'group', 1) : undefined;
    const gemmInner = intAttribute(node, 'transB', 0) !== 0 ? weight.shape[1] : weight.shape[0];
    const means = new ChannelMeans(channels ?? gemmInner ?? 0);
    return [{ node: bias.node, input, weight, error, means, bias: bias.tensor }];
  });
  const none = { corrected: 0, samples: samples.length, largestRelativeShift: 0 };
  const inert: ModelTransform = { name: 'bias-correction', modes: ['static'], apply: () => 0 };
  if (layers.length === 0 || samples.length === 0) return { transform: inert, result: none };

  const names = [...new Set(layers.map((layer) => layer.input))];
  const usable = new Set(layers);
  await visitFloatValues(executor, planned, names, samples, (outputs) => {
    for (const layer of layers) {
      const value = outputs[layer.input];
      if (value === undefined || value.dtype !== 'float32' || !layer.means.add(value)) usable.delete(layer);
    }
  });
  const shifts = new Map<string, Float64Array>();
  let largestRelativeShift = 0;
  for (const layer of usable) {
    const shift = outputShift(layer.node, layer.weight, layer.error, layer.means.means());
    if (shift === undefined || shift.length !== layer.bias.data.length) continue;
    shifts.set(layer.node.name, shift);
    const magnitude = layer.bias.data.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
    if (magnitude > 0) {
      for (const value of shift)
        largestRelativeShift = Math.max(largestRelativeShift, Math.abs(value) / magnitude);
    }
  }
  const transform: ModelTransform = {
    name: 'bias-correction',
    modes: ['static'],
    apply(model) {
      const { graph } = model;
      let corrected = 0;
      for (const node of graph.nodes) {
        const shift = shifts.get(node.name);
        const biasName = node.inputs[2];
        const bias = biasName === undefined || biasName === '' ? undefined : graph.getConstant(biasName);
        if (shift === undefined || bias?.dtype !== 'float32' || bias.data.length !== shift.length) continue;
        const updated = Float32Array.from(
          bias.data as Float32Array,
          (value, channel) => value - shift[channel]!,
        );
        // A new initializer: the old bias may be shared, or held by a Constant node.
        const name = graph.uniqueName(`${biasName}_bias_corrected`);
        graph.addInitializer(name, createTensor('float32', bias.shape, updated));
        graph.setInput(node, 2, name);
        corrected++;
      }
      return corrected;
    },
  };
  return { transform, result: { corrected: shifts.size, samples: samples.length, largestRelativeShift } };
}
