// The never-slower guard. A quantized model is not automatically faster: Q/DQ pairs around ops that stay float,
// or an integer kernel too small to repay the conversions into and out of it, can cost more than the int8 compute
// saves. The guard times the written model against the float one in the executor and, while it is slower, keeps
// quantized regions float, those estimated to gain least first, until it is not. Its decisions go into the recipe
// (keepFloat), so a run from the recorded recipe writes the same model without timing anything.
import { QuantError } from '@quantkit/core';
import { type Graph, type Node, isDefaultDomain } from '@quantkit/onnx';
import type { KeptFloat, QuantizeOptions } from './options.js';
import type { NodeDecision } from './plan.js';

/** Settings of the latency guard (QuantizeOptions.latencyGuard). */
export interface LatencyGuardOptions {
  /** The quantized / float latency ratio the written model must not exceed (default 1: never slower). */
  readonly maxRatio?: number;
}

/** Main-graph nodes the latency guard keeps quantized or float together (see quantizedRegions). */
export interface QuantizedRegion {
  /** Its nodes, in graph order. */
  readonly nodes: readonly string[];
  /**
   * The estimated gain: weight elements of its integer compute per value that crosses its boundary (where the
   * integer work stops or, kept float, a QuantizeLinear or DequantizeLinear runs). The guard keeps the lowest float
   * first.
   */
  readonly score: number;
}

/** One configuration the guard timed: how many regions were kept float, and the latency ratio it measured. */
export interface LatencyTrial {
  readonly reverted: number;
  readonly ratio: number;
}

/** What the latency guard did (QuantizeSummary.latencyGuard). */
export type LatencyGuardResult =
  | {
      readonly ran: true;
      readonly maxRatio: number;
      /** Quantized regions of the main graph as first planned (counted only when the first timing failed). */
      readonly regions?: number;
      /** The regions kept float, in the order the guard reverted them. */
      readonly reverted: readonly QuantizedRegion[];
      /** Every configuration timed, in the order they were tried; the first is the plan as made. */
      readonly trials: readonly LatencyTrial[];
      /** The written model's ratio (measured, or 1 when every region went float and nothing was left to time). */
      readonly ratio: number;
      /**
       * Variants the executor refused to load or run (a quantkit bug: please report it with the model), with how
       * many regions they kept float; the search counted them as not passing.
       */
      readonly refused?: readonly { readonly reverted: number; readonly message: string }[];
    }
  | { readonly ran: false; readonly reason: string };

/** The ops whose integer kernels are what quantization is for; the rest of a region is conversion overhead. */
const COMPUTE_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

function isComputeNode(node: Node): boolean {
  return isDefaultDomain(node.domain) && COMPUTE_OPS.has(node.opType);
}

/** Weight elements of a compute node's constant weight (0 for other nodes, or two activations multiplied). */
function computeWork(graph: Graph, node: Node): number {
  if (!isComputeNode(node)) return 0;
  const weight = graph.getConstant(node.inputs[1] ?? '');
  return weight === undefined ? 0 : elementCount(weight.shape);
}

/**
 * The main graph's quantized regions, the units the guard keeps float: each compute node (Conv, ConvTranspose,
 * Gemm, MatMul) with the quantized nodes after it up to the next compute node, a node reading several regions
 * joining the first; quantized nodes with no compute before them form regions of their own. A whole connected
 * quantized area would be too coarse: in a network quantized end to end it is one region, and keeping it float
 * means keeping the model float, where keeping its depthwise convolutions float may be what pays. Sorted by
 * score, lowest first (ties by position in the graph), the order the guard reverts them.
 */
export function quantizedRegions(graph: Graph, decisions: readonly NodeDecision[]): QuantizedRegion[] {
  const quantized = new Set(decisions.filter((d) => d.quantized && d.scope === undefined).map((d) => d.name));
  const regionOf = new Map<Node, Node[]>();
  const regions: Node[][] = [];
  for (const node of graph.nodes) {
    if (!quantized.has(node.name)) continue;
    const upstream = isComputeNode(node) ? undefined : firstRegion(node);
    const region = upstream ?? [];
    if (upstream === undefined) regions.push(region);
    region.push(node);
    regionOf.set(node, region);
  }
  function firstRegion(node: Node): Node[] | undefined {
    for (const input of node.inputs) {
      const producer = input === '' ? undefined : graph.producer(input);
      const region = producer === undefined ? undefined : regionOf.get(producer);
      if (region !== undefined) return region;
    }
    return undefined;
  }
  const scored = regions.map((members, first) => {
    const inside = new Set(members);
    const boundary = new Set<string>();
    let work = 0;
    for (const node of members) {
      work += computeWork(graph, node);
      for (const input of node.inputs) {
        if (input === '' || graph.getConstant(input) !== undefined) continue;
        const producer = graph.producer(input);
        if (producer === undefined || !inside.has(producer)) boundary.add(input);
      }
      for (const output of node.outputs) {
        const leaves = graph.isOutput(output) || graph.consumers(output).some((c) => !inside.has(c));
        if (output !== '' && leaves) boundary.add(output);
      }
    }
    return {
      first,
      region: { nodes: members.map((node) => node.name), score: work / Math.max(1, boundary.size) },
    };
  });
  scored.sort((a, b) => a.region.score - b.region.score || a.first - b.first);
  return scored.map(({ region }) => region);
}

/**
 * Regions inside If/Loop/Scan bodies: each quantized compute node there, by name. keepFloat matches names, and
 * branches number their nodes alike (both branches of an If may hold a "MatMul_0"), so the nodes of one name are one
 * region. Their weights are not known from the main graph: they score 0 and go float first.
 */
export function bodyRegions(decisions: readonly NodeDecision[]): QuantizedRegion[] {
  const names = new Set<string>();
  for (const decision of decisions) {
    if (decision.scope !== undefined && decision.quantized && COMPUTE_OPS.has(decision.opType)) {
      names.add(decision.name);
    }
  }
  return [...names].map((name) => ({ nodes: [name], score: 0 }));
}

/** The maximum ratio from the option, checked. */
export function guardMaxRatio(option: QuantizeOptions['latencyGuard']): number {
  const maxRatio = typeof option === 'object' ? (option.maxRatio ?? 1) : 1;
  if (!(Number.isFinite(maxRatio) && maxRatio > 0)) {
    throw new QuantError('INVALID_ARGUMENT', [
      { option: 'latencyGuard.maxRatio' },
      ` must be a positive number, got ${String(maxRatio)}`,
    ]);
  }
  return maxRatio;
}

/** One configuration a search measured: how many regions were kept float, and the value measured. */
export interface SearchTrial {
  readonly reverted: number;
  readonly value: number;
}

/**
 * Finds the fewest regions, taken in order, to keep float so a measured value passes: a binary search over that
 * count, assuming that keeping more float does not make it worse. Keeping every region float writes the float
 * model's graph, taken as the answer when nothing less passes. A trial that could not be measured (value
 * undefined) does not pass.
 * @param count the regions in order; `run(k)` quantizes with the first k kept float and measures the result.
 */
export async function searchKeptFloat<T>(
  count: number,
  passes: (value: number) => boolean,
  first: { readonly result: T; readonly value: number },
  run: (count: number) => Promise<{ result: T; value: number | undefined }>,
): Promise<{ result: T; count: number; value: number | undefined; trials: SearchTrial[] }> {
  const trials: SearchTrial[] = [{ reverted: 0, value: first.value }];
  let failing = 0;
  let passing: { count: number; result: T; value: number | undefined } | undefined;
  let high = count;
  while (high - failing > 1) {
    const middle = Math.floor((failing + high) / 2);
    const outcome = await run(middle);
    if (outcome.value !== undefined) trials.push({ reverted: middle, value: outcome.value });
    if (outcome.value !== undefined && passes(outcome.value)) {
      high = middle;
      passing = { count: middle, ...outcome };
    } else {
      failing = middle;
    }
  }
  if (passing === undefined || passing.count !== high) {
    const outcome = await run(high);
    if (outcome.value !== undefined) trials.push({ reverted: high, value: outcome.value });
    passing = { count: high, ...outcome };
  }
  return { ...passing, trials };
}

/** The keepFloat entries that revert the given regions, with the reason each node's decision will give. */
export function revertedNodes(
  regions: readonly QuantizedRegion[],
  firstRatio: number,
  runtime: string,
): KeptFloat[] {
  return regions.flatMap((region) =>
    region.nodes.map((node) => ({
      node,
      reason:
        `kept float by the latency guard: quantized, the model ran ${firstRatio.toFixed(2)}x the float ` +
        `latency in ${runtime}, and its region (${nodeCount(region.nodes.length)}) is among those estimated to gain least`,
    })),
  );
}

/** "1 node", "3 nodes". */
export function nodeCount(count: number): string {
  return `${count} node${count === 1 ? '' : 's'}`;
}
