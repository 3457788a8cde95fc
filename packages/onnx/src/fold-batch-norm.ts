import type { Tensor } from '@quantkit/core';
import { floatAttribute, intAttribute } from './attributes.js';
import { isDefaultDomain } from './domain.js';
import type { Graph } from './graph.js';
import type { Node } from './graph-node.js';
import { dropIfUnused, isUnused } from './remove-unused.js';

function float32Constant(graph: Graph, name: string | undefined): Float32Array | undefined {
  if (!name) return undefined;
  const tensor = graph.getConstant(name);
  return tensor?.dtype === 'float32' ? (tensor.data as Float32Array) : undefined;
}

interface Folded {
  weight: Float32Array;
  bias: Float32Array;
  /** Attribute updates for the producer (Gemm beta). */
  beta?: number;
}

/**
 * Per output channel c: y = (x - mean) * s + B with s = scale / sqrt(var + eps). Folding multiplies the weights
 * feeding channel c by s[c] and turns the bias into bias * s + (B - mean * s).
 */
function foldInto(
  producer: Node,
  weight: Tensor,
  bias: Float32Array | undefined,
  biasShape: readonly number[] | undefined,
  s: Float64Array,
  shift: Float64Array,
): Folded | undefined {
  const channels = s.length;
  const w = weight.data as Float32Array;
  const out = new Float32Array(w.length);
  const newBias = new Float32Array(channels);
  if (producer.opType === 'Conv') {
    // Weight layout [M, C/group, k...]: output channel m owns one contiguous block.
    if (weight.shape.length < 3 || weight.shape[0] !== channels) return undefined;
    if (bias !== undefined && bias.length !== channels) return undefined;
    const inner = w.length / channels;
    for (let m = 0; m < channels; m++) {
      for (let k = 0; k < inner; k++) out[m * inner + k] = w[m * inner + k]! * s[m]!;
      newBias[m] = (bias?.[m] ?? 0) * s[m]! + shift[m]!;
    }
    return { weight: out, bias: newBias };
  }
  if (producer.opType === 'ConvTranspose') {
    // Weight layout [C_in, M/group, k...]: input channel ci of group g feeds output channels g*(M/group) + j.
    const group = intAttribute(producer, 'group', 1);
    const [inChannels, perGroup] = weight.shape;
    if (weight.shape.length < 3 || inChannels === undefined || perGroup === undefined) return undefined;
    if (group < 1 || inChannels % group !== 0 || perGroup * group !== channels) return undefined;
    if (bias !== undefined && bias.length !== channels) return undefined;
    const inner = w.length / (inChannels * perGroup);
    const inPerGroup = inChannels / group;
    for (let ci = 0; ci < inChannels; ci++) {
      const g = Math.floor(ci / inPerGroup);
      for (let j = 0; j < perGroup; j++) {
        const factor = s[g * perGroup + j]!;
        const base = (ci * perGroup + j) * inner;
        for (let k = 0; k < inner; k++) out[base + k] = w[base + k]! * factor;
      }
    }
    for (let m = 0; m < channels; m++) newBias[m] = (bias?.[m] ?? 0) * s[m]! + shift[m]!;
    return { weight: out, bias: newBias };
  }
  // Gemm: Y = alpha * A * op(B) + beta * C; BatchNorm channels are the N columns of Y.
  const transB = intAttribute(producer, 'transB', 0) !== 0;
  if (weight.shape.length !== 2) return undefined;
  const [rows, cols] = weight.shape as [number, number];
  const n = transB ? rows : cols;
  if (n !== channels) return undefined;
  const beta = floatAttribute(producer, 'beta', 1);
  // C must broadcast per column only: a scalar, [1], [N] or [1, N].
  if (bias !== undefined && biasShape !== undefined) {
    const perColumn =
      bias.length === 1 ||
      (bias.length === n && (biasShape.length === 1 || (biasShape.length === 2 && biasShape[0] === 1)));
    if (!perColumn) return undefined;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = w[r * cols + c]! * s[transB ? r : c]!;
  }
  for (let j = 0; j < n; j++) {
    const c = bias === undefined ? 0 : bias.length === 1 ? bias[0]! : bias[j]!;
    newBias[j] = beta * c * s[j]! + shift[j]!;
  }
  return { weight: out, bias: newBias, beta: 1 };
}

function tryFold(graph: Graph, bn: Node): boolean {
  if (intAttribute(bn, 'training_mode', 0) !== 0 || intAttribute(bn, 'spatial', 1) === 0) return false;
  const [x, scaleName, shiftName, meanName, varName] = bn.inputs;
  const y = bn.outputs[0];
  if (!x || !y || bn.inputs.length !== 5) return false;
  // Outputs beyond the first (running statistics, training only) must be absent or unused.
  if (bn.outputs.slice(1).some((name) => !isUnused(graph, name))) return false;
  const producer = graph.producer(x);
  if (
    producer === undefined ||
    !isDefaultDomain(producer.domain) ||
    !['Conv', 'ConvTranspose', 'Gemm'].includes(producer.opType) ||
    producer.outputs.length !== 1 ||
    graph.isOutput(x) ||
    graph.consumers(x).length !== 1
  ) {
    return false;
  }
  const scale = float32Constant(graph, scaleName);
  const offset = float32Constant(graph, shiftName);
  const mean = float32Constant(graph, meanName);
  const variance = float32Constant(graph, varName);
  if (!scale || !offset || !mean || !variance) return false;
  const channels = scale.length;
  if (offset.length !== channels || mean.length !== channels || variance.length !== channels) return false;
  const weightName = producer.inputs[1];
  const weight = weightName ? graph.getConstant(weightName) : undefined;
  if (!weightName || weight?.dtype !== 'float32') return false;
  const biasName = producer.inputs[2] || undefined;
  const biasTensor = biasName === undefined ? undefined : graph.getConstant(biasName);
  if (biasName !== undefined && biasTensor?.dtype !== 'float32') return false;

  const epsilon = floatAttribute(bn, 'epsilon', 1e-5);
  const s = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    s[c] = scale[c]! / Math.sqrt(variance[c]! + epsilon);
    shift[c] = offset[c]! - mean[c]! * s[c]!;
  }
  const folded = foldInto(
    producer,
    weight,
    biasTensor?.data as Float32Array | undefined,
    biasTensor?.shape,
    s,
    shift,
  );
  if (folded === undefined) return false;

  // Keep the model's style: weights that came from Constant nodes (old opsets, IR < 4) stay Constant nodes, since
  // IR 3 requires every initializer to also be a graph input.
  const asConstantNodes = !graph.isInitializer(weightName);
  const base = producer.name || y;
  const define = (name: string, tensor: Tensor): void => {
    if (asConstantNodes) {
      graph.insertNodeBefore(
        {
          name: graph.uniqueName(`${name}_constant`),
          opType: 'Constant',
          domain: '',
          inputs: [],
          outputs: [name],
          attributes: new Map([['value', { type: 'tensor', value: tensor }]]),
        },
        producer,
      );
    } else {
      graph.addInitializer(name, tensor);
    }
  };
  const newWeight = graph.uniqueName(`${weightName}_bn_folded`);
  define(newWeight, { dtype: 'float32', shape: [...weight.shape], data: folded.weight });
  const newBias = graph.uniqueName(`${base}_bias_bn_folded`);
  define(newBias, { dtype: 'float32', shape: [channels], data: folded.bias });
  graph.setInput(producer, 1, newWeight);
  graph.setInput(producer, 2, newBias);
  if (folded.beta !== undefined && producer.attributes.has('beta')) {
    producer.attributes.set('beta', { type: 'float', value: folded.beta });
  }
  if (producer.opType === 'Gemm' && producer.attributes.has('broadcast')) {
    producer.attributes.set('broadcast', { type: 'int', value: 1 });
  }

  graph.removeNode(bn);
  graph.replaceOutput(producer, x, y);
  graph.valueInfo = graph.valueInfo.filter((info) => info.name !== x);
  for (const name of [weightName, biasName, scaleName, shiftName, meanName, varName]) {
    if (name) dropIfUnused(graph, name);
  }
  return true;
}

/**
 * Folds inference-mode BatchNormalization nodes into the Conv, ConvTranspose or Gemm right before them (when
 * nothing else reads the intermediate value), so quantization sees the weights that actually run. Weights and
 * biases may be initializers or Constant nodes; a bias is created when absent. Other BatchNorms are left alone.
 *
 * @example
 * const count = foldBatchNorm(model.graph);
 * @returns the number of BatchNormalization nodes folded.
 */
export function foldBatchNorm(graph: Graph): number {
  let folded = 0;
  for (const node of [...graph.nodes]) {
    if (node.opType === 'BatchNormalization' && isDefaultDomain(node.domain) && tryFold(graph, node))
      folded++;
  }
  return folded;
}
