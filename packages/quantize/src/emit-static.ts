import { QuantError } from '@quantkit/core';
import type { Graph } from '@quantkit/onnx';
import type { ComputedQuantization } from './compute-quantization.js';
import type { QdqEmitter } from './emitter.js';
import type { QuantPlan } from './plan.js';

/**
 * Static QDQ: int8 weights and int32 biases behind DequantizeLinear, a QuantizeLinear/DequantizeLinear pair on
 * every planned activation, and fused Relu/Clip removed (their clamp is the saturation of the producer's Q). Writes
 * what computeStaticQuantization computed; uses that share a key share one stored copy.
 */
export function emitStatic(emitter: QdqEmitter, plan: QuantPlan, computed: ComputedQuantization): void {
  const { graph } = emitter;
  for (const use of plan.constants) {
    const weight = computed.weights.get(use)!;
    const dequantized = emitter.sharedDequantizedConstant(
      weight.key,
      use.name,
      () => weight.quantized,
      use.floatReader === true,
    );
    graph.replaceInput(use.node, use.name, dequantized);
  }

  // Fake quantization leaves biases float, as training frameworks hold them; onnxruntime quantizes such a bias
  // itself from opset 13 on, and below it fails to load the model, so there the int32 codes stay.
  const floatBiases = emitter.fakeQuant && emitter.opset >= 13;
  for (const bias of floatBiases ? [] : plan.biases) {
    const quantized = computed.biases.get(bias);
    if (quantized === undefined) continue;
    const original = bias.node.inputs[bias.slot]!;
    graph.replaceInput(bias.node, original, emitter.dequantizedConstant(original, quantized));
  }

  for (const { activation, producer } of plan.fusedActivations) {
    const output = activation.outputs[0]!;
    graph.removeNode(activation);
    graph.replaceOutput(producer, producer.outputs[0]!, output);
  }

  for (const name of plan.activations) {
    // Fake quantization keeps a scaling Mul as a float op with its own pair: training frameworks read Q -> DQ pairs.
    if (plan.scaledParams?.has(name) && !emitter.fakeQuant) continue;
    emitter.quantizeActivation(name, computed.activations.get(name)!, plan.floatReaders?.get(name));
  }
  for (const [name, { source }] of emitter.fakeQuant ? [] : (plan.scaledParams ?? [])) {
    const params = computed.activations.get(name)!;
    const mul = graph.producer(name)!;
    // The source's readers read its DequantizeLinear (the planner folds nothing for per-consumer pairs).
    const dequantize = mul.inputs
      .map((input) => graph.producer(input))
      .find((p) => p?.opType === 'DequantizeLinear');
    if (dequantize === undefined || emitter.perConsumer) {
      emitter.quantizeActivation(name, params, plan.floatReaders?.get(name));
      continue;
    }
    graph.removeNode(mul);
    emitter.rescaledDequantize(dequantize, params, name, source);
    // The source's own DequantizeLinear served only the Mul: a dead node would still run.
    const dequantized = dequantize.outputs[0]!;
    if (graph.consumers(dequantized).length === 0 && !graph.isOutput(dequantized))
      graph.removeNode(dequantize);
  }
  if (!floatBiases) assertIntegerBiases(graph);
}

/**
 * onnxruntime rewrites a float 1-D constant bias of a Conv or Gemm whose data and weight both come from
 * DequantizeLinear (Round, Div and a per-axis DequantizeLinear, whatever the opset: opset 9-12 models then fail to
 * load, and a bias too large for int32 silently becomes 0). quantkit writes every such bias as int32 itself; this
 * checks that none was missed.
 */
function assertIntegerBiases(graph: Graph): void {
  const isDequantized = (name: string | undefined) =>
    name !== undefined && name !== '' && graph.producer(name)?.opType === 'DequantizeLinear';
  for (const node of graph.nodes) {
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') continue;
    const bias = node.inputs[2];
    if (bias === undefined || bias === '' || !isDequantized(node.inputs[0]) || !isDequantized(node.inputs[1]))
      continue;
    const constant = graph.getConstant(bias);
    if (constant !== undefined && constant.shape.length === 1 && constant.dtype !== 'int32') {
      throw new QuantError(
        'INTERNAL',
        `${node.opType} "${node.name}" would keep float bias "${bias}" beside quantized data and weight`,
      );
    }
  }
}
