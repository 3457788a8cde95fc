import type { MessagePart, TargetPlugin } from '@quantkit/core';
import { type Graph, type Model, type Node, opsetVersion, subgraphsOf } from '@quantkit/onnx';

/** One thing a target cannot run (error) or runs poorly (warning), with what to do about it. */
export interface CompatibilityIssue {
  readonly severity: 'error' | 'warning';
  /** Name of the rule that found it. */
  readonly rule: string;
  /** Name of the node at fault, when there is one. */
  readonly node?: string;
  /** What is wrong, naming the node. */
  readonly message: string;
  /** What to do about it, in the API's words. */
  readonly fix: string;
  /** The fix as message parts, naming options apart (the CLI words them as flags). */
  readonly fixParts?: readonly MessagePart[];
}

/** An issue as a rule reports it (its fix as text or parts); checkModel fills in the rule name. */
export type RuleFinding = Omit<CompatibilityIssue, 'rule' | 'fix' | 'fixParts'> & {
  readonly fix: string | readonly MessagePart[];
};

/** A node together with the graph (main graph or subgraph) that holds it, for producer/consumer lookups. */
export interface GraphNode {
  readonly node: Node;
  readonly graph: Graph;
}

/** What a rule sees: the model, the target, and an index of the model that every rule would otherwise rebuild. */
export interface RuleContext {
  readonly model: Model;
  readonly target: TargetPlugin;
  /** Default-domain opset version of the model. */
  readonly opset: number;
  /** Every node, main graph first, then subgraph bodies (If, Loop, Scan) in order. */
  readonly nodes: readonly GraphNode[];
  /** 'error' for strict targets (no fallback), 'warning' for runtimes that fall back to slower kernels. */
  readonly mismatchSeverity: 'error' | 'warning';
}

/**
 * A compatibility rule: one small check per file under src/rules, so adding one is adding a file and listing it.
 *
 * @example
 * const noLoop: CompatibilityRule = {
 *   name: 'no-loop',
 *   description: 'Loop bodies are not quantized by this target',
 *   check: (context) => context.nodes.filter(({ node }) => node.opType === 'Loop').map(({ node }) => ({
 *     severity: 'warning', node: node.name, message: `Loop "${node.name}" stays float`, fix: 'nothing to do',
 *   })),
 * };
 */
export interface CompatibilityRule {
  /** Kebab-case, unique; shown with each issue. */
  readonly name: string;
  /** One line for listings (`quantkit targets`). */
  readonly description: string;
  check(context: RuleContext): readonly RuleFinding[];
}

function collect(graph: Graph, out: GraphNode[]): void {
  for (const node of graph.nodes) out.push({ node, graph });
  for (const node of graph.nodes) for (const sub of subgraphsOf(node)) collect(sub, out);
}

/** Builds the context the rules share. */
export function createRuleContext(model: Model, target: TargetPlugin): RuleContext {
  const nodes: GraphNode[] = [];
  collect(model.graph, nodes);
  return {
    model,
    target,
    opset: opsetVersion(model) ?? 1,
    nodes,
    mismatchSeverity: target.strict === true ? 'error' : 'warning',
  };
}
