import { type DType, QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';

/** The truth of a condition tensor's single element (bool, or any numeric type: nonzero is true). */
function truth(condition: Tensor, what: string): boolean {
  if (condition.data.length !== 1) {
    throw new QuantError('INVALID_MODEL', `${what} holds ${condition.data.length} values; expected 1`);
  }
  const value = condition.data[0]!;
  return value !== 0 && value !== 0n;
}

/** If: runs then_branch or else_branch (which read the outer values they need by name) and returns its outputs. */
const ifKernel = jsKernel('If', {
  prepare: (node) => ({
    thenBranch: node.attributes.graph('then_branch'),
    elseBranch: node.attributes.graph('else_branch'),
  }),
  run: ({ thenBranch, elseBranch }, [condition], context) =>
    context.runSubgraph(truth(required(condition, 'cond'), 'cond') ? thenBranch : elseBranch, []),
});

/** What a scan output is when the loop ran no iteration: its dtype and the dims after the first, where known. */
interface EmptyScan {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * The per-iteration values of a scan output stacked along a new first axis; `empty` gives the type when there are
 * none.
 */
function stack(parts: readonly Tensor[], what: string, empty: EmptyScan): Tensor {
  const first = parts[0];
  if (first === undefined) return tensorOf(empty.dtype, [0, ...empty.shape], allocate(empty.dtype, 0));
  const size = sizeOf(first.shape);
  const out = allocate(first.dtype, size * parts.length);
  parts.forEach((part, index) => {
    if (part.dtype !== first.dtype || part.shape.join() !== first.shape.join()) {
      throw new QuantError(
        'INVALID_MODEL',
        `${what} is ${part.dtype}[${part.shape.join(', ')}] in iteration ${index} but ` +
          `${first.dtype}[${first.shape.join(', ')}] in iteration 0`,
      );
    }
    (out as Uint8Array).set(part.data as Uint8Array, index * size);
  });
  return tensorOf(first.dtype, [parts.length, ...first.shape], out);
}

/**
 * Loop: runs `body` while the trip count M (when given) is not reached and the condition (when given, then as the
 * body computes it) holds. The body gets the iteration number, the condition and the loop-carried values, and
 * returns the condition, the new carried values and scan outputs; the node returns the final carried values and
 * each scan output's values stacked along a new first axis.
 */
const loop = jsKernel('Loop', {
  prepare: (node) => {
    const body = node.attributes.graph('body');
    const carried = node.inputs.length - 2;
    if (carried < 0 || body.inputNames.length !== carried + 2) {
      throw new QuantError(
        'INVALID_MODEL',
        `the body takes ${body.inputNames.length} inputs; expected 2 + ${Math.max(carried, 0)} carried values`,
      );
    }
    const scans = body.outputNames.length - 1 - carried;
    if (scans < 0) {
      throw new QuantError(
        'INVALID_MODEL',
        `the body returns ${body.outputNames.length} values; expected at least 1 + ${carried} carried values`,
      );
    }
    // With no iteration a scan output still has a type: the body's declared output's, else the node's.
    const empty = node.outputs.slice(carried, carried + scans).map((output, index): EmptyScan => {
      const declared = body.outputs[1 + carried + index];
      const bodyShape = declared?.shape;
      const shape = bodyShape ?? output.shape?.slice(1);
      const known = shape?.every((dim) => dim !== undefined) === true;
      return { dtype: declared?.dtype ?? output.dtype ?? 'float32', shape: known ? (shape as number[]) : [] };
    });
    return { body, carried, scans, empty };
  },
  run: async ({ body, carried: carriedCount, scans, empty }, [tripCount, condition, ...initial], context) => {
    const maxTrips = tripCount === undefined ? Infinity : Number(tripCount.data[0]);
    let keepGoing = condition === undefined || truth(condition, 'cond');
    let carried = initial.map((value, index) => required(value, `v_initial ${index}`));
    const scanned: Tensor[][] = Array.from({ length: scans }, () => []);
    for (let iteration = 0; iteration < maxTrips && keepGoing; iteration++) {
      const outputs = await context.runSubgraph(body, [
        tensorOf('int64', [], BigInt64Array.of(BigInt(iteration))),
        tensorOf('bool', [], Uint8Array.of(keepGoing ? 1 : 0)),
        ...carried,
      ]);
      keepGoing = truth(outputs[0]!, 'the body condition');
      carried = outputs.slice(1, 1 + carriedCount);
      for (let index = 0; index < scans; index++) scanned[index]!.push(outputs[1 + carriedCount + index]!);
    }
    return [
      ...carried,
      ...scanned.map((parts, index) => stack(parts, `scan output ${index}`, empty[index]!)),
    ];
  },
});

export const controlFlowKernels = [ifKernel, loop];
