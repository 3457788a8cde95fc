import type { Graph } from './graph.js';
import type { Node } from './graph-node.js';

/**
 * Points every use of `oldName` in `graph` (node inputs, subgraph outer-scope uses and, unless `outputs: false`,
 * graph outputs) at `newName`, except in the nodes listed in `except`. {@link Graph.replaceAllUses} calls this.
 *
 * @example
 * // after inserting q -> dq behind value x:
 * replaceAllUses(graph, 'x', 'x_dq', { except: [q] });
 * @returns how many references changed.
 */
export function replaceAllUses(
  graph: Graph,
  oldName: string,
  newName: string,
  options: { except?: Node[]; outputs?: boolean } = {},
): number {
  const except = new Set(options.except ?? []);
  let changed = 0;
  for (const node of graph.consumers(oldName)) {
    if (!except.has(node)) changed += graph.replaceInput(node, oldName, newName);
  }
  if (options.outputs ?? true) changed += renameGraphOutputs(graph, oldName, newName);
  return changed;
}

/**
 * Renames uses of a value defined outside `graph` (a subgraph whose enclosing graph renamed the value). Names the
 * graph defines itself are left alone. {@link Graph.renameOuterScopeUse} calls this.
 *
 * @example
 * for (const body of subgraphsOf(node)) renameOuterScopeUse(body, 'w', 'w_dq');
 * @returns how many references changed.
 */
export function renameOuterScopeUse(graph: Graph, oldName: string, newName: string): number {
  if (!graph.outerScopeNames().includes(oldName)) return 0;
  let changed = 0;
  for (const node of [...graph.consumers(oldName)]) changed += graph.replaceInput(node, oldName, newName);
  return changed + renameGraphOutputs(graph, oldName, newName);
}

function renameGraphOutputs(graph: Graph, oldName: string, newName: string): number {
  let changed = 0;
  for (const output of graph.outputs) {
    if (output.name === oldName) {
      output.name = newName;
      changed++;
    }
  }
  // Renaming in place is invisible to the staleness check, and the declared-type map is keyed by name.
  if (changed > 0) graph.invalidate();
  return changed;
}
