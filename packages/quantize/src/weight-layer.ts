// Conv and Gemm layers seen as what data-free quantization works on: a weight with output channels and input
// channels, and a bias per output channel. Cross-layer equalization scales a layer's output channels and the next
// layer's input channels; high-bias absorption moves bias from one layer to the next; both read and write here.
import { type Tensor, createTensor } from '@quantkit/core';
import { type Graph, type Node, floatAttribute, intAttribute, isDefaultDomain } from '@quantkit/onnx';

/** A Conv (weight [M, C / group, k...]) or a Gemm (B [K, N], or [N, K] with transB) with a constant weight. */
export interface WeightLayer {
  readonly node: Node;
  readonly weight: Tensor<'float32'>;
  /** Output channels M (Conv) or N (Gemm). */
  readonly outputs: number;
  /** Input channels C (Conv, over all groups) or K (Gemm). */
  readonly inputs: number;
  /**
   * Calls `visit` for every weight element with its flat index, output channel and input channel. The mapping is
   * the whole of what differs between Conv (grouped or depthwise) and Gemm (with or without transB).
   */
  forEach(visit: (index: number, output: number, input: number) => void): void;
}

/**
 * The layer view of a Conv or Gemm whose weight is a float32 constant, else undefined (other ops, a Gemm with
 * transA, a weight computed at run time).
 * @example const layer = weightLayer(graph, node); if (layer) console.log(layer.outputs, layer.inputs);
 */
export function weightLayer(graph: Graph, node: Node): WeightLayer | undefined {
  if (!isDefaultDomain(node.domain)) return undefined;
  const weight = graph.getConstant(node.inputs[1] ?? '');
  if (weight?.dtype !== 'float32') return undefined;
  const typed = weight as Tensor<'float32'>;
  if (node.opType === 'Conv' && weight.shape.length >= 3) {
    const [outputs, perGroup] = weight.shape as [number, number];
    const group = intAttribute(node, 'group', 1);
    if (group < 1 || outputs % group !== 0) return undefined;
    const kernel = weight.data.length / (outputs * perGroup);
    const outputsPerGroup = outputs / group;
    return {
      node,
      weight: typed,
      outputs,
      inputs: perGroup * group,
      forEach(visit) {
        for (let m = 0; m < outputs; m++) {
          const first = Math.floor(m / outputsPerGroup) * perGroup;
          for (let c = 0; c < perGroup; c++) {
            const base = (m * perGroup + c) * kernel;
            for (let k = 0; k < kernel; k++) visit(base + k, m, first + c);
          }
        }
      },
    };
  }
  if (node.opType === 'Gemm' && weight.shape.length === 2 && intAttribute(node, 'transA', 0) === 0) {
    const transB = intAttribute(node, 'transB', 0) !== 0;
    const [rows, columns] = weight.shape as [number, number];
    return {
      node,
      weight: typed,
      outputs: transB ? rows : columns,
      inputs: transB ? columns : rows,
      forEach(visit) {
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < columns; c++) visit(r * columns + c, transB ? r : c, transB ? c : r);
        }
      },
    };
  }
  return undefined;
}

/** The largest weight magnitude per output channel (`by: 'output'`) or per input channel. */
export function channelRanges(layer: WeightLayer, by: 'output' | 'input'): Float64Array {
  const ranges = new Float64Array(by === 'output' ? layer.outputs : layer.inputs);
  const data = layer.weight.data;
  layer.forEach((index, output, input) => {
    const channel = by === 'output' ? output : input;
    const magnitude = Math.abs(data[index]!);
    if (magnitude > ranges[channel]!) ranges[channel] = magnitude;
  });
  return ranges;
}

/**
 * Replaces a constant input of `node`: in place when only this node reads that initializer, else (a weight shared
 * with another node, a Constant node's output, an absent bias) under a new name, so no other reader changes.
 */
export function replaceConstant(
  graph: Graph,
  node: Node,
  slot: number,
  tensor: Tensor,
  suffix: string,
): void {
  const name = node.inputs[slot];
  const ownInitializer =
    name !== undefined &&
    name !== '' &&
    graph.isInitializer(name) &&
    !graph.isInput(name) &&
    !graph.isOutput(name) &&
    graph.consumers(name).length === 1 &&
    node.inputs.filter((input) => input === name).length === 1;
  if (ownInitializer) {
    graph.addInitializer(name, tensor);
    return;
  }
  const fresh = graph.uniqueName(`${node.name}_${suffix}`);
  graph.addInitializer(fresh, tensor);
  graph.setInput(node, slot, fresh);
  // The value replaced, when nothing reads it any more: an initializer or a Constant node left behind would be
  // dead weight in the file (and onnxruntime warns about each).
  if (name === undefined || name === '' || graph.consumers(name).length > 0 || graph.isOutput(name)) return;
  if (graph.isInitializer(name) && !graph.isInput(name)) graph.removeInitializer(name);
  const producer = graph.producer(name);
  if (producer?.opType === 'Constant' && producer.outputs.length === 1) graph.removeNode(producer);
}

/** Writes the weight multiplied by `factor(output, input)` per element. */
export function scaleWeight(
  graph: Graph,
  layer: WeightLayer,
  factor: (output: number, input: number) => number,
): WeightLayer {
  const source = layer.weight.data;
  const scaled = new Float32Array(source.length);
  layer.forEach((index, output, input) => {
    scaled[index] = source[index]! * factor(output, input);
  });
  replaceConstant(graph, layer.node, 1, createTensor('float32', layer.weight.shape, scaled), 'weight_dfq');
  return weightLayer(graph, layer.node)!;
}

/**
 * The layer's effective bias per output channel (Gemm: beta x C), zeros when it has none; undefined for a bias
 * that is not a float32 constant or (Gemm) does not broadcast per output channel alone.
 */
export function readBias(graph: Graph, layer: WeightLayer): Float64Array | undefined {
  const name = layer.node.inputs[2];
  if (name === undefined || name === '') return new Float64Array(layer.outputs);
  const bias = graph.getConstant(name);
  if (bias?.dtype !== 'float32') return undefined;
  const data = bias.data as Float32Array;
  const beta = layer.node.opType === 'Gemm' ? floatAttribute(layer.node, 'beta', 1) : 1;
  if (data.length === 1 && layer.node.opType === 'Gemm')
    return new Float64Array(layer.outputs).fill(beta * data[0]!);
  const perChannel =
    data.length === layer.outputs &&
    (bias.shape.length === 1 || (bias.shape.length === 2 && bias.shape[0] === 1));
  return perChannel ? Float64Array.from(data, (value) => beta * value) : undefined;
}

/** Writes an effective bias per output channel (see readBias) as the node's own [M] constant. */
export function writeBias(graph: Graph, layer: WeightLayer, values: Float64Array): void {
  const { node } = layer;
  if (node.opType === 'Gemm' && node.attributes.has('beta')) {
    // The values are already beta x C: store them as C with beta 1.
    node.attributes.set('beta', { type: 'float', value: 1 });
  }
  replaceConstant(
    graph,
    node,
    2,
    createTensor('float32', [layer.outputs], Float32Array.from(values)),
    'bias_dfq',
  );
}
