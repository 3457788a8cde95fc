import { isConstantNode } from './constant-node.js';
import { isDefaultDomain } from './domain.js';
import type { Graph } from './graph.js';

/** True when the value is used by nothing: no node, no graph output (the empty name is never used). */
export function isUnused(graph: Graph, name: string): boolean {
  return name === '' || (graph.consumers(name).length === 0 && !graph.isOutput(name));
}

/** Removes the initializer or Constant node behind `name` once nothing reads it (a graph input stays). */
export function dropIfUnused(graph: Graph, name: string): void {
  if (!isUnused(graph, name) || graph.isInput(name)) return;
  if (graph.isInitializer(name)) {
    graph.removeInitializer(name);
    return;
  }
  const producer = graph.producer(name);
  if (producer !== undefined && isConstantNode(producer)) graph.removeNode(producer);
}

/**
 * Removes initializers and Constant nodes nothing uses (graph inputs and outputs count as uses), and with
 * `deadNodes` every node whose outputs are all unused, repeating until nothing changes. Also drops value_info
 * entries of removed values. {@link Graph.removeUnused} calls this.
 *
 * @example
 * removeUnused(graph, { deadNodes: true }); // after a rewrite left the float weights and their readers behind
 * @returns the number of initializers and nodes removed.
 */
export function removeUnused(graph: Graph, options: { deadNodes?: boolean } = {}): number {
  let removed = 0;
  const removedNames: string[] = [];
  const isUsed = (name: string): boolean => !isUnused(graph, name);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = graph.nodes.length - 1; i >= 0; i--) {
      const node = graph.nodes[i]!;
      const candidate = options.deadNodes || (isConstantNode(node) && isDefaultDomain(node.domain));
      if (!candidate || node.outputs.some(isUsed)) continue;
      graph.removeNode(node);
      removedNames.push(...node.outputs);
      removed++;
      changed = true;
    }
  }
  for (const name of [...graph.initializers.keys(), ...graph.opaqueInitializers.keys()]) {
    if (isUsed(name) || graph.isInput(name)) continue;
    graph.removeInitializer(name);
    removedNames.push(name);
    removed++;
  }
  if (removedNames.length > 0) {
    const gone = new Set(removedNames);
    graph.valueInfo = graph.valueInfo.filter((info) => !gone.has(info.name));
  }
  return removed;
}
