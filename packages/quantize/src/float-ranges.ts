import type { DType, Registry } from '@quantkit/core';
import { type Graph, type Model, type Node, inferElementTypes, isDefaultDomain } from '@quantkit/onnx';
import { calibrate, type FloatModelBytes } from './calibrate.js';
import type { QuantizeOptions } from './options.js';
import type { QuantPlan } from './plan.js';
import type { ScopedDecision } from './subgraphs.js';

/** A node convertToFloat16 may convert, and where it lives: '' for the main graph, else its If branch. */
interface Candidate {
  readonly node: Node;
  readonly graph: Graph;
  readonly scope: string;
}

/**
 * Nodes inside If branches (at any depth), with the element types their graph sees. Their values can be measured:
 * exposeOutputs carries them out of the If. Loop and Scan bodies run once per iteration and are not measured.
 */
function branchNodes(
  graph: Graph,
  types: ReadonlyMap<string, DType>,
  path: string,
  into: (Candidate & { types: Map<string, DType> })[],
): void {
  for (const node of graph.nodes) {
    if (node.opType !== 'If' || !isDefaultDomain(node.domain)) continue;
    for (const label of ['then_branch', 'else_branch']) {
      const attribute = node.attributes.get(label);
      if (attribute?.type !== 'graph') continue;
      const body = attribute.value;
      const bodyTypes = inferElementTypes(body, types);
      const scope = `${path}${node.name}/${label}`;
      for (const inner of body.nodes) into.push({ node: inner, graph: body, scope, types: bodyTypes });
      branchNodes(body, bodyTypes, `${scope}/`, into);
    }
  }
}

/** The largest finite float16. */
export const FLOAT16_MAX = 65504;

/**
 * Values up to this magnitude on the calibration data may run in fp16: three quarters of FLOAT16_MAX, leaving room
 * for inputs louder than the calibration set (int16-scale audio, at most 32767, still fits).
 */
export const FLOAT16_SAFE_MAX = FLOAT16_MAX * 0.75;

export interface FloatRangeCheck {
  readonly plan: QuantPlan;
  /** Nodes inside If branches that overflow and stay fp32, with `scope` naming the branch. */
  readonly bodyDecisions: ScopedDecision[];
  readonly samples: number;
  readonly threads: number;
}

function formatMagnitude(value: number): string {
  return value >= 1e5 ? value.toExponential(1) : value.toFixed(0);
}

/**
 * Runs the float model on the calibration data, watching every float value a converted node reads or writes, and
 * keeps in fp32 each node with a value beyond FLOAT16_SAFE_MAX (an STFT convolution over int16-scale audio reaches
 * 1e6; in fp16 it would be infinity, or saturate). Inputs count too: an fp32 node's large output cast to fp16 for
 * the next node overflows just the same. Nodes inside If branches are watched too (their values are carried out of
 * the If to be measured). The returned plan says so in those nodes' reasons; branch nodes come as bodyDecisions.
 */
export async function keepOverflowingNodesFp32(
  model: Model,
  plan: QuantPlan,
  registry: Registry,
  options: QuantizeOptions & Required<Pick<QuantizeOptions, 'executor' | 'calibrationData'>>,
  source?: () => FloatModelBytes,
): Promise<FloatRangeCheck> {
  const { graph } = model;
  const dtypes = inferElementTypes(graph);
  const converted = new Set(
    plan.decisions.filter((decision) => decision.quantized).map((decision) => decision.name),
  );
  const candidates: (Candidate & { types: ReadonlyMap<string, DType> })[] = graph.nodes
    .filter((node) => converted.has(node.name))
    .map((node) => ({ node, graph, scope: '', types: dtypes }));
  const inBranches: (Candidate & { types: Map<string, DType> })[] = [];
  branchNodes(graph, dtypes, '', inBranches);
  candidates.push(...inBranches);
  const watched = new Set<string>();
  for (const { node, graph: owner, types } of candidates) {
    for (const value of [...node.inputs, ...node.outputs]) {
      if (value === '' || types.get(value) !== 'float32') continue;
      // Constants are not watched, wherever they live (a branch reads the main graph's weights by name).
      if (owner.getConstant(value) !== undefined || graph.getConstant(value) !== undefined) continue;
      watched.add(value);
    }
  }
  if (watched.size === 0) return { plan, bodyDecisions: [], samples: 0, threads: 0 };
  const observer = registry.get('observer', 'minmax');
  const calibration = await (options.calibrationRunner ?? calibrate)(
    model,
    [...watched].map((name) => ({ name, observer, options: { granularity: 'tensor', symmetric: false } })),
    {
      executor: options.executor,
      samples: options.calibrationData,
      limit: options.calibrationLimit,
      maxTensorsPerPass: options.maxTensorsPerPass,
      total: options.calibrationTotal,
      onProgress: options.onProgress,
      source: source?.(),
    },
  );
  const peaks = new Map<string, number>();
  for (const [name, range] of calibration.ranges) {
    peaks.set(name, Math.max(Math.abs(range.min[0] ?? 0), Math.abs(range.max[0] ?? 0)));
  }
  const overflow = new Map<string, string>();
  const bodyDecisions: ScopedDecision[] = [];
  for (const { node, scope } of candidates) {
    const value = [...node.outputs, ...node.inputs].find((name) => (peaks.get(name) ?? 0) > FLOAT16_SAFE_MAX);
    if (value === undefined) continue;
    const role = node.outputs.includes(value) ? 'output' : 'input';
    const reason =
      `kept fp32: its ${role} "${value}" reaches ${formatMagnitude(peaks.get(value)!)} on the calibration data, ` +
      `too close to fp16's largest value ${FLOAT16_MAX}`;
    if (scope === '') overflow.set(node.name, reason);
    else bodyDecisions.push({ name: node.name, opType: node.opType, quantized: false, reason, scope });
  }
  return {
    plan: {
      ...plan,
      decisions: plan.decisions.map((decision) => {
        const reason = overflow.get(decision.name);
        return reason === undefined ? decision : { ...decision, quantized: false, reason };
      }),
    },
    bodyDecisions,
    samples: calibration.samples,
    threads: calibration.threads,
  };
}
