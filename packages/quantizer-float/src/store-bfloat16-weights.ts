import { float32ToBfloat16Bits } from './float32-to-bfloat16-bits.js';
import { castNode } from './cast-node.js';
import { type Float16Scope, precisionsWanted } from './plan-float16-scope.js';

/**
 * Stores eligible float32 initializers as bfloat16 behind a Cast to float32, in this graph and in every body; an
 * initializer bodies read is eligible when every node reading it, here or in a body, could compute in float16.
 *
 * @example
 * storeBfloat16Weights(planFloat16Scope(graph, lists, new Map()), new Set());
 * // the Casts were added at the front: sort the graph and its bodies before writing
 */
export function storeBfloat16Weights(scope: Float16Scope, reserved: ReadonlySet<string>): void {
  const { graph } = scope.plan;
  graph.reserveNames(reserved);
  const inner = new Set([...reserved, ...graph.allNames()]);
  for (const bodies of scope.bodies.values()) for (const body of bodies) storeBfloat16Weights(body, inner);
  for (const [name, tensor] of [...graph.initializers]) {
    if (tensor.dtype !== 'float32' || graph.isInput(name) || graph.isOutput(name)) continue;
    const wants = precisionsWanted(scope, name);
    if (wants.length === 0 || wants.some((want) => want !== 'float16')) continue;
    const stored = graph.uniqueName(`${name}_bf16`);
    graph.removeInitializer(name);
    graph.addInitializer(stored, {
      dtype: 'bfloat16',
      shape: [...tensor.shape],
      data: float32ToBfloat16Bits(tensor.data as Float32Array),
    });
    graph.addNode(castNode(graph, stored, name, 'float32'), 0);
  }
}
