import type { GraphIndex } from './graph-index.js';
import type { Node } from './graph-node.js';

/**
 * The order in which `nodes` can run: each after the producers of the names it uses (`index.uses`, which include
 * outer-scope names of its subgraphs). Stable: among nodes ready to run, the one earliest in `nodes` goes first,
 * so nodes already in execution order keep their order. When the nodes form a cycle, `order` holds only the nodes
 * that could run and `stuck` is a node on the cycle.
 *
 * @example
 * const { order, stuck } = executionOrder(graph.nodes, index);
 * if (stuck !== undefined) throw new Error(`${describeNode(stuck)} is on a cycle`);
 */
export function executionOrder(
  nodes: readonly Node[],
  index: Pick<GraphIndex, 'producers' | 'uses'>,
): { order: Node[]; stuck: Node | undefined } {
  const position = new Map<Node, number>();
  for (const [i, node] of nodes.entries()) position.set(node, i);
  const pending = new Int32Array(nodes.length);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    const producers = new Set<number>();
    for (const name of index.uses.get(node) ?? []) {
      const producer = index.producers.get(name);
      if (producer !== undefined) producers.add(position.get(producer)!);
    }
    pending[i] = producers.size;
    for (const p of producers) dependents[p]!.push(i);
  });
  const heap = new MinHeap();
  pending.forEach((count, i) => {
    if (count === 0) heap.push(i);
  });
  const order: Node[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(nodes[i]!);
    for (const d of dependents[i]!) if (--pending[d]! === 0) heap.push(d);
  }
  if (order.length === nodes.length) return { order, stuck: undefined };
  // Some node still waits: walk back through waiting producers until one repeats; that one is on a cycle
  // (the first waiting node may merely sit downstream of it).
  let current = nodes.find((_, i) => pending[i]! > 0)!;
  const seen = new Set<Node>();
  while (!seen.has(current)) {
    seen.add(current);
    for (const name of index.uses.get(current) ?? []) {
      const producer = index.producers.get(name);
      if (producer !== undefined && pending[position.get(producer)!]! > 0) {
        current = producer;
        break;
      }
    }
  }
  return { order, stuck: current };
}

/** A binary min-heap of integers (node positions) for the stable topological sort. */
class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
