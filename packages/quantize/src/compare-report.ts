import { type Model, encodedSize } from '@quantkit/onnx';
import type { ReportData } from '@quantkit/report';
import type { ComparedModel, ModelComparison } from './compare-models.js';
import { COMPARE_FLAG_RULE, flagLayers, keepFloatSuggestion } from './flag-layers.js';
import { readProvenance } from './provenance.js';
import { weightBytes } from './summary.js';
import { QUANTKIT_VERSION } from './version.js';

/** A comparison as a report document, and the reference model it was compared with. */
export interface CompareReport extends ReportData {
  readonly reference: string;
}

/** Node names of the reference, and its producer of each value. */
function referenceNodes(model: Model) {
  const producers = new Map(
    model.graph.nodes.flatMap((node) => node.outputs.map((value) => [value, node.name])),
  );
  const names = new Set(model.graph.nodes.map((node) => node.name));
  return { producers, names };
}

/**
 * A comparison as a report document (ReportData), so the same HTML page and tools read it as a quantize report.
 * Layers are in the candidate's graph order, as the page's chart expects, and the worst below 20 dB are flagged
 * (COMPARE_FLAG_RULE) with the one fix that always applies, keeping the node float. That fix names a node of the
 * reference, the model the user would quantize again: the candidate's node when the reference has one of that name,
 * else the reference's producer of the value (quantization may rename a node, a Gemm becoming a
 * DynamicQuantizeMatMul "Gemm_1", say).
 * A comparison knows no plan: the recipe is whatever quantkit recorded in the candidate (empty for other models),
 * there is no node list, and layers carry no weight or activation details.
 *
 * @example const report = buildCompareReport(await compareModels(a, b, { executor, samples, perLayer: true }), a, b);
 * @throws never: a comparison without layers gives a report without layers.
 */
export function buildCompareReport(
  comparison: ModelComparison,
  reference: ComparedModel,
  candidate: ComparedModel,
): CompareReport {
  const recipe = readProvenance(candidate.model)?.recipe ?? {};
  const { producers, names } = referenceNodes(reference.model);
  const order = new Map<string, number>();
  for (const node of candidate.model.graph.nodes)
    for (const value of node.outputs) order.set(value, order.size);
  const layers = [...(comparison.layers ?? [])]
    .sort((x, y) => (order.get(x.value) ?? 0) - (order.get(y.value) ?? 0))
    .map((layer) => ({
      node: layer.node,
      opType: layer.opType,
      output: layer.value,
      sqnr: layer.sqnr,
      cosine: layer.cosine,
      maxAbsError: layer.maxAbsError,
    }));
  const sizeOf = ({ model, bytes }: ComparedModel) => bytes?.length ?? encodedSize(model);
  return {
    kind: 'quantkit-report' as const,
    version: 1 as const,
    model: candidate.name ?? 'candidate',
    reference: reference.name ?? 'reference',
    quantkitVersion: QUANTKIT_VERSION,
    recipe,
    summary: {
      mode: typeof recipe.mode === 'string' ? recipe.mode : 'unknown',
      sizeBefore: sizeOf(reference),
      sizeAfter: sizeOf(candidate),
      weightBytesBefore: weightBytes(reference.model.graph),
      weightBytesAfter: weightBytes(candidate.model.graph),
      nodes: [],
      calibrationSamples: 0,
    },
    samples: comparison.samples,
    outputs: comparison.outputs.map((output) => ({
      name: output.output,
      sqnr: output.sqnr,
      cosine: output.cosine,
      maxAbsError: output.maxAbsError,
      top1Agreement: output.top1Agreement ?? undefined,
    })),
    layers: flagLayers(layers, {
      rule: COMPARE_FLAG_RULE,
      suggest: (layer) =>
        keepFloatSuggestion((names.has(layer.node) ? layer.node : producers.get(layer.output)) ?? layer.node),
    }),
  };
}
