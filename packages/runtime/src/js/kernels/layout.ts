import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastShape, integers, normalizeAxis, required, stridesOf } from '../tensor-utils.js';
import { gatherStrided } from './copy-strided.js';

/** Transpose: `perm` (default: the axes reversed) for any dtype. */
const transpose = jsKernel('Transpose', {
  prepare: (node) => ({
    perm: node.attributes.has('perm') ? node.attributes.ints('perm') : undefined,
  }),
  run: ({ perm }, [data]) => {
    const x = required(data, 'data');
    const rank = x.shape.length;
    const order = perm ?? x.shape.map((_, axis) => rank - 1 - axis);
    const seen = new Set(order);
    if (order.length !== rank || seen.size !== rank || order.some((axis) => !(axis >= 0 && axis < rank))) {
      throw new QuantError(
        'INVALID_MODEL',
        `perm [${order.join(', ')}] is not a permutation of the ${rank} axes of [${x.shape.join(', ')}]`,
      );
    }
    const strides = stridesOf(x.shape);
    return [
      gatherStrided(
        x,
        0,
        order.map((axis) => strides[axis]!),
        order.map((axis) => x.shape[axis]!),
      ),
    ];
  },
});

/** Flatten: a 2-D view, [product of the dims before `axis`, product of the rest]; any dtype. */
const flatten = jsKernel('Flatten', {
  prepare: (node) => ({ axis: node.attributes.int('axis', 1) }),
  run: ({ axis }, [data]) => {
    const x = required(data, 'input');
    const rank = x.shape.length;
    const split = axis < 0 ? axis + rank : axis;
    if (!(split >= 0 && split <= rank)) {
      throw new QuantError('INVALID_MODEL', `axis ${axis} is out of range for rank ${rank}`);
    }
    return [{ ...x, shape: [sizeOf(x.shape.slice(0, split)), sizeOf(x.shape.slice(split))] }];
  },
});

/** The axes of Squeeze/Unsqueeze: an attribute before opset 13, the optional second input from 13. */
function axesSource(node: KernelNode) {
  return {
    fromInput: node.opset >= 13,
    attribute: node.opset < 13 && node.attributes.has('axes') ? node.attributes.ints('axes') : undefined,
  };
}

function readAxes(
  state: { fromInput: boolean; attribute: readonly number[] | undefined },
  input: Tensor | undefined,
): readonly number[] | undefined {
  if (!state.fromInput) return state.attribute;
  return input === undefined ? undefined : integers(input);
}

/** Squeeze: drops the listed size-1 axes, or every size-1 axis when none are listed; any dtype. */
const squeeze = jsKernel('Squeeze', {
  prepare: axesSource,
  run: (state, [data, axesInput]) => {
    const x = required(data, 'data');
    const rank = x.shape.length;
    const axes = readAxes(state, axesInput);
    // An empty axes input means none were given, as in onnxruntime.
    if (axes === undefined || axes.length === 0) return [{ ...x, shape: x.shape.filter((dim) => dim !== 1) }];
    const dropped = new Set(axes.map((axis) => normalizeAxis(axis, rank)));
    for (const axis of dropped) {
      if (x.shape[axis] !== 1) {
        throw new QuantError(
          'INVALID_MODEL',
          `cannot squeeze axis ${axis} of [${x.shape.join(', ')}]: its size is not 1`,
        );
      }
    }
    return [{ ...x, shape: x.shape.filter((_, axis) => !dropped.has(axis)) }];
  },
});

/** Unsqueeze: inserts size-1 axes at the listed positions of the output; any dtype. */
const unsqueeze = jsKernel('Unsqueeze', {
  prepare: axesSource,
  run: (state, [data, axesInput]) => {
    const x = required(data, 'data');
    const axes = readAxes(state, axesInput);
    if (axes === undefined) throw new QuantError('INVALID_MODEL', 'Unsqueeze needs axes');
    const rank = x.shape.length + axes.length;
    const inserted = new Set(axes.map((axis) => normalizeAxis(axis, rank)));
    if (inserted.size !== axes.length) {
      throw new QuantError('INVALID_MODEL', `axes [${axes.join(', ')}] repeat an axis`);
    }
    const shape: number[] = [];
    let next = 0;
    for (let axis = 0; axis < rank; axis++) shape.push(inserted.has(axis) ? 1 : x.shape[next++]!);
    return [{ ...x, shape }];
  },
});

/** Strides that read a tensor of `shape` as if broadcast to `outShape` (0 along broadcast axes). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const offset = outShape.length - shape.length;
  const strides = stridesOf(shape);
  return outShape.map((_, axis) => {
    const inner = axis - offset;
    return inner < 0 || shape[inner] === 1 ? 0 : strides[inner]!;
  });
}

/** Expand: broadcasts the input to the shape input (numpy rules, both ways); any dtype. */
const expand = jsKernel('Expand', {
  run: (_, [data, shapeInput]) => {
    const x = required(data, 'input');
    const shape = broadcastShape(x.shape, integers(required(shapeInput, 'shape')));
    return [gatherStrided(x, 0, broadcastStrides(x.shape, shape), shape)];
  },
});

/** Tile: repeats the input `repeats[k]` times along each axis k; any dtype. */
const tile = jsKernel('Tile', {
  run: (_, [data, repeatsInput]) => {
    const x = required(data, 'input');
    const repeats = integers(required(repeatsInput, 'repeats'));
    if (repeats.length !== x.shape.length || repeats.some((count) => count < 0)) {
      throw new QuantError(
        'INVALID_MODEL',
        `repeats [${repeats.join(', ')}] must hold one count >= 0 per axis of [${x.shape.join(', ')}]`,
      );
    }
    // Read as [r0, d0, r1, d1, ...] with stride 0 along each repeat axis, then view as [r0 * d0, r1 * d1, ...].
    const strides = stridesOf(x.shape);
    const shape = x.shape.flatMap((dim, axis) => [repeats[axis]!, dim]);
    const tiled = gatherStrided(
      x,
      0,
      strides.flatMap((stride) => [0, stride]),
      shape,
    );
    return [{ ...tiled, shape: x.shape.map((dim, axis) => dim * repeats[axis]!) }];
  },
});

export const layoutKernels = [transpose, flatten, squeeze, unsqueeze, expand, tile];
