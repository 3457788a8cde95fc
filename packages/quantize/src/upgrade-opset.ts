import { QuantError, createTensor } from '@quantkit/core';
import {
  type Graph,
  type Model,
  type Node,
  intAttribute,
  intsAttribute,
  isDefaultDomain,
  numberToInt64,
  setOpsetVersion,
  subgraphsOf,
} from '@quantkit/onnx';

/**
 * Moves an opset-9 model to opset 10, the first with QuantizeLinear/DequantizeLinear. onnxruntime fuses Q/DQ
 * around MatMul and Conv into ONNX-domain QLinear ops, which do not exist at opset 9, so a static model must be
 * at opset 10 or newer to load. Only three operators changed meaning between 9 and 10; each is rewritten:
 * Slice (starts/ends/axes move from attributes to inputs), TopK (k moves to an input) and Upsample
 * (deprecated; Resize-10 has the same inputs and attributes). Every other operator reads the same at 10.
 *
 * @throws QuantError UNSUPPORTED for models older than opset 9, whose upgrade path is longer.
 */
export function upgradeOpset9To10(model: Model): void {
  const { graph } = model;
  const changed = new Set(['Slice', 'TopK', 'Upsample']);
  const nested = (g: Graph): Node | undefined => {
    for (const node of g.nodes) {
      for (const sub of subgraphsOf(node)) {
        const found = sub.nodes.find((inner) => changed.has(inner.opType)) ?? nested(sub);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  const inSubgraph = nested(graph);
  if (inSubgraph !== undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      `static quantization moves opset 9 models to opset 10, but ${inSubgraph.opType} "${inSubgraph.name}" sits in a ` +
        'subgraph (If/Loop/Scan) whose rewrite quantkit does not do; convert the model to opset 10 first',
    );
  }
  for (const node of [...graph.nodes]) {
    if (!isDefaultDomain(node.domain)) continue;
    if (node.opType === 'Slice') {
      const starts = intsAttribute(node, 'starts') ?? [];
      const ends = intsAttribute(node, 'ends') ?? [];
      const axes = intsAttribute(node, 'axes');
      const constant = (suffix: string, values: number[]) => {
        const name = graph.uniqueName(`${node.name || node.outputs[0]}_${suffix}`);
        graph.addInitializer(
          name,
          createTensor('int64', [values.length], BigInt64Array.from(values, numberToInt64)),
        );
        return name;
      };
      const inputs = [node.inputs[0]!, constant('starts', starts), constant('ends', ends)];
      if (axes !== undefined) inputs.push(constant('axes', axes));
      for (const name of ['starts', 'ends', 'axes']) node.attributes.delete(name);
      graph.removeNode(node);
      node.inputs = inputs;
      graph.addNode(node);
    } else if (node.opType === 'TopK') {
      const name = graph.uniqueName(`${node.name || node.outputs[0]}_k`);
      graph.addInitializer(
        name,
        createTensor('int64', [1], BigInt64Array.of(numberToInt64(intAttribute(node, 'k', 1)))),
      );
      node.attributes.delete('k');
      graph.removeNode(node);
      node.inputs = [node.inputs[0]!, name];
      graph.addNode(node);
    } else if (node.opType === 'Upsample') {
      graph.removeNode(node);
      node.opType = 'Resize';
      graph.addNode(node);
    }
  }
  setOpsetVersion(model, 10);
  // Opset 10 came with IR version 5.
  if (model.irVersion < 5) model.irVersion = 5;
  graph.topologicalSort();
}

/** Makes sure a model can hold ONNX Q/DQ ops, upgrading opset 9 to 10. */
export function ensureQdqOpset(model: Model, opset: number): number {
  if (opset >= 10) return opset;
  if (opset < 9) {
    throw new QuantError(
      'UNSUPPORTED',
      `static quantization needs opset 9 or newer (the model has opset ${opset}); upgrade it with the ONNX version converter`,
    );
  }
  upgradeOpset9To10(model);
  return 10;
}
