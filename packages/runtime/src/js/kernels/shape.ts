import { QuantError, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { integers, required, tensorOf } from '../tensor-utils.js';

/** Reshape (opset 5+): the shape input, with 0 copying the input's dimension (unless allowzero) and one -1. */
const reshape = jsKernel('Reshape', {
  opsets: { min: 5 },
  prepare: (node) => ({ allowZero: node.attributes.int('allowzero', 0) === 1 }),
  run: ({ allowZero }, [data, shapeInput]) => {
    const x = required(data, 'data');
    const requested = integers(required(shapeInput, 'shape'));
    const shape = requested.map((dim, axis) => (dim === 0 && !allowZero ? x.shape[axis]! : dim));
    const inferred = shape.indexOf(-1);
    if (inferred >= 0) {
      const known = sizeOf(shape.filter((_, axis) => axis !== inferred));
      shape[inferred] = known === 0 ? 0 : x.data.length / known;
    }
    if (!shape.every((dim) => Number.isInteger(dim) && dim >= 0) || sizeOf(shape) !== x.data.length) {
      throw new QuantError(
        'INVALID_MODEL',
        `cannot reshape [${x.shape.join(', ')}] to [${requested.join(', ')}]`,
      );
    }
    return [{ ...x, shape }];
  },
});

/** Shape (with opset 15's start and end). */
const shape = jsKernel('Shape', {
  prepare: (node) => ({
    start: node.attributes.int('start', 0),
    end: node.attributes.has('end') ? node.attributes.int('end') : undefined,
  }),
  run: ({ start, end }, [data]) => {
    const dims = required(data, 'data').shape;
    const rank = dims.length;
    const clamp = (value: number) => Math.min(Math.max(value < 0 ? value + rank : value, 0), rank);
    const kept = dims.slice(clamp(start), end === undefined ? rank : clamp(end));
    return [tensorOf('int64', [kept.length], BigInt64Array.from(kept, BigInt))];
  },
});

const identity = jsKernel('Identity', { run: (_, [x]) => [required(x, 'input')] });

export const shapeKernels = [reshape, shape, identity];
