import { QuantError } from '@quantkit/core';
import { type GraphIndex, registerNode, unregisterNode } from './graph-index.js';
import { type Node, describeNode, subgraphsOf } from './graph-node.js';

/**
 * What the rewiring functions need of the graph that holds the node: its current index, and a way to record the
 * edit. A {@link Graph} passes its own (private) upkeep here; nothing else should call these functions.
 */
export interface IndexUpkeep {
  /** The graph's index, rebuilt first when stale. */
  ensureIndex(): GraphIndex;
  /** Records an edit made through a method (bumps the graph's version). */
  edited(index: GraphIndex): void;
}

/**
 * Makes `node` read `newName` wherever it read `oldName`, including outer-scope uses inside its subgraphs.
 * {@link Graph.replaceInput} calls this.
 *
 * @example
 * replaceNodeInput(upkeep, conv, 'x', 'x_dq');
 * @returns how many references changed.
 */
export function replaceNodeInput(upkeep: IndexUpkeep, node: Node, oldName: string, newName: string): number {
  const index = upkeep.ensureIndex();
  let changed = 0;
  for (let i = 0; i < node.inputs.length; i++) {
    if (node.inputs[i] === oldName) {
      node.inputs[i] = newName;
      changed++;
    }
  }
  for (const graph of subgraphsOf(node)) changed += graph.renameOuterScopeUse(oldName, newName);
  if (changed > 0 && index.uses.has(node)) {
    unregisterNode(index, node);
    registerNode(index, node);
    upkeep.edited(index);
  }
  return changed;
}

/**
 * Sets input `position` of `node` (padding skipped optional inputs with ''). {@link Graph.setInput} calls this.
 *
 * @example
 * setNodeInput(upkeep, conv, 2, 'bias'); // adds a bias input
 * @throws QuantError INVALID_ARGUMENT for a negative or non-integer position.
 */
export function setNodeInput(upkeep: IndexUpkeep, node: Node, position: number, name: string): void {
  if (!Number.isInteger(position) || position < 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `input position ${position} of ${describeNode(node)} is invalid`,
    );
  }
  const index = upkeep.ensureIndex();
  const registered = index.uses.has(node);
  if (registered) unregisterNode(index, node);
  while (node.inputs.length < position) node.inputs.push('');
  node.inputs[position] = name;
  if (registered) registerNode(index, node);
  upkeep.edited(index);
}

/**
 * Makes `node` write `newName` instead of its output `oldName`. {@link Graph.replaceOutput} calls this.
 *
 * @example
 * replaceNodeOutput(upkeep, producer, 'y', 'y_fp16');
 * @throws QuantError INVALID_ARGUMENT when the node has no such output.
 */
export function replaceNodeOutput(upkeep: IndexUpkeep, node: Node, oldName: string, newName: string): void {
  const index = upkeep.ensureIndex();
  const position = node.outputs.indexOf(oldName);
  if (position < 0) {
    throw new QuantError('INVALID_ARGUMENT', `${describeNode(node)} has no output "${oldName}"`);
  }
  const registered = index.uses.has(node);
  if (registered) unregisterNode(index, node);
  node.outputs[position] = newName;
  if (registered) registerNode(index, node);
  upkeep.edited(index);
}
