import { QuantError } from '@quantkit/core';
import { type Graph, type Model, type Node, cloneModel, isDefaultDomain, opsetVersion } from '@quantkit/onnx';
import { isQdqNode } from './qoperator-operands.js';
import { MS_DOMAIN } from './emitter.js';
import { RULES, type Rewrite, type RuleContext } from './qoperator-rules.js';

/** A float op that became a QLinear (or integer) op. */
export interface QOperatorConversion {
  readonly node: string;
  readonly from: string;
  readonly to: string;
}

/** A node next to Q/DQ nodes that stays in QDQ form, and why. */
export interface QOperatorKept {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

export interface QOperatorResult {
  /** A new model; the input model is not changed. */
  readonly model: Model;
  readonly converted: readonly QOperatorConversion[];
  readonly kept: readonly QOperatorKept[];
}

/** True when a node reads a DequantizeLinear output or feeds a QuantizeLinear: it belongs to the QDQ form. */
function touchesQdq(graph: Graph, node: Node): boolean {
  const readsDq = node.inputs.some((input) => {
    const producer = input === '' ? undefined : graph.producer(input);
    return producer !== undefined && isQdqNode(producer, 'DequantizeLinear');
  });
  return (
    readsDq ||
    node.outputs.some((output) => graph.consumers(output).some((c) => isQdqNode(c, 'QuantizeLinear')))
  );
}

function apply(graph: Graph, rewrite: Rewrite): void {
  for (const node of rewrite.remove) graph.removeNode(node);
  for (const { base, tensor, slot } of rewrite.initializers) {
    const name = graph.uniqueName(base);
    graph.addInitializer(name, tensor);
    rewrite.add[slot[0]]!.inputs[slot[1]] = name;
  }
  for (const node of rewrite.add) graph.addNode(node);
}

/**
 * Removes Q and DQ nodes nothing reads any more: the DQ of an activation whose readers all became QLinear ops
 * (they take the codes), and the DQ of a weight or bias now fed to QLinearConv/QGemm as codes.
 */
function removeDeadQdq(graph: Graph): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of [...graph.nodes]) {
      if (!isQdqNode(node, 'DequantizeLinear') && !isQdqNode(node, 'QuantizeLinear')) continue;
      const used = node.outputs.some(
        (output) => graph.consumers(output).length > 0 || graph.isOutput(output),
      );
      if (!used) {
        graph.removeNode(node);
        changed = true;
      }
    }
  }
}

/** Drops value_info entries of values that no longer exist (float outputs replaced by codes of another name). */
function pruneValueInfo(graph: Graph): void {
  const defined = new Set<string>([...graph.inputs.map((input) => input.name), ...graph.initializers.keys()]);
  for (const node of graph.nodes) for (const output of node.outputs) defined.add(output);
  graph.valueInfo = graph.valueInfo.filter((info) => defined.has(info.name));
}

/**
 * Rewrites a static QDQ model into QOperator form: every DequantizeLinear -> op -> QuantizeLinear group whose
 * op has an 8-bit form in ONNX or onnxruntime becomes that op reading and writing the integer codes.
 *
 * - Conv -> QLinearConv (ONNX, opset 10+; per-channel weights along axis 0 with one zero point, int32 bias at
 *   input scale x weight scale); MatMul -> QLinearMatMul (per-tensor or per-column B on a 2-D B), or
 *   MatMulInteger + Cast + Mul when its output is not quantized; Gemm -> com.microsoft QGemm (transA/transB/alpha
 *   kept, per-column B, int32 C; float output when the Gemm's output is not quantized).
 * - Add/Mul -> QLinearAdd/QLinearMul; Concat -> QLinearConcat; GlobalAveragePool -> QLinearGlobalAveragePool;
 *   AveragePool -> QLinearAveragePool; Sigmoid -> QLinearSigmoid; LeakyRelu -> QLinearLeakyRelu;
 *   Softmax -> QLinearSoftmax (uint8 output), all com.microsoft.
 * - MaxPool (opset 12+), Reshape, Transpose, Flatten, Squeeze, Unsqueeze and nearest Resize run on the codes when
 *   input and output share type, scale and zero point.
 *
 * Anything else next to Q/DQ stays in QDQ form and is listed in `kept` with the reason. Q/DQ nodes left without
 * readers are removed; graph inputs and outputs keep their names and float types (the Q after an input and the
 * DQ before an output stay). The com.microsoft opset import is added when a contrib op is written.
 *
 * @example
 * const { bytes } = await quantizeModel(modelBytes, { mode: 'static', executor, calibrationData });
 * const { model, converted, kept } = qdqToQOperator(decodeModel(bytes));
 * writeFileSync('model.qop.onnx', encodeModel(model));
 * @throws QuantError UNSUPPORTED when the model imports no ai.onnx opset.
 */
export function qdqToQOperator(model: Model): QOperatorResult {
  const opset = opsetVersion(model);
  if (opset === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      'the model imports no default ONNX opset; QOperator ops need ai.onnx opset 10 or newer',
    );
  }
  const result = cloneModel(model);
  const { graph } = result;
  const context: RuleContext = { graph, opset };
  const converted: QOperatorConversion[] = [];
  const kept: QOperatorKept[] = [];
  let usesMsDomain = false;

  for (const node of [...graph.nodes]) {
    if (isQdqNode(node, 'QuantizeLinear') || isQdqNode(node, 'DequantizeLinear')) continue;
    // Snapshot order: a node removed so far is only ever a converted op's Q, skipped above.
    if (!touchesQdq(graph, node)) continue;
    const rule = isDefaultDomain(node.domain) ? RULES[node.opType] : undefined;
    const rewrite =
      rule === undefined ? `${node.opType} has no QLinear form in onnxruntime` : rule(context, node);
    if (typeof rewrite === 'string') {
      kept.push({ node: node.name, opType: node.opType, reason: rewrite });
      continue;
    }
    apply(graph, rewrite);
    if (rewrite.add.some((added) => added.domain === MS_DOMAIN)) usesMsDomain = true;
    converted.push({ node: node.name, from: node.opType, to: rewrite.to });
  }

  removeDeadQdq(graph);
  graph.removeUnused();
  pruneValueInfo(graph);
  graph.topologicalSort();
  if (usesMsDomain && opsetVersion(result, MS_DOMAIN) === undefined) {
    result.opsetImports.push({ domain: MS_DOMAIN, version: 1 });
  }
  return { model: result, converted, kept };
}
