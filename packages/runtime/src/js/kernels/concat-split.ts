import { QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { integers, normalizeAxis, required, stridesOf, tensorOf } from '../tensor-utils.js';
import { gatherStrided } from './copy-strided.js';

/** Concat along `axis` (negative counts from the end) of inputs of one dtype; inputs may be empty. */
const concat = jsKernel('Concat', {
  prepare: (node) => ({ axis: node.attributes.int('axis', node.opset < 4 ? 1 : undefined) }),
  run: ({ axis: attribute }, inputs) => {
    const parts = inputs.filter((input): input is Tensor => input !== undefined);
    const first = parts[0];
    if (first === undefined) throw new QuantError('INVALID_MODEL', 'Concat needs at least one input');
    const rank = first.shape.length;
    const axis = normalizeAxis(attribute, rank);
    for (const part of parts) {
      const fits =
        part.dtype === first.dtype &&
        part.shape.length === rank &&
        part.shape.every((dim, index) => index === axis || dim === first.shape[index]);
      if (!fits) {
        throw new QuantError(
          'INVALID_MODEL',
          `inputs ${parts.map((p) => `${p.dtype}[${p.shape.join(', ')}]`).join(', ')} differ off axis ${axis}`,
        );
      }
    }
    const outer = sizeOf(first.shape.slice(0, axis));
    const inner = sizeOf(first.shape.slice(axis + 1));
    const total = parts.reduce((sum, part) => sum + part.shape[axis]!, 0);
    const shape = first.shape.map((dim, index) => (index === axis ? total : dim));
    const out = allocate(first.dtype, sizeOf(shape));
    const row = total * inner;
    let offset = 0;
    for (const part of parts) {
      const block = part.shape[axis]! * inner;
      const source = part.data as Uint8Array;
      for (let index = 0; index < outer; index++) {
        (out as Uint8Array).set(source.subarray(index * block, (index + 1) * block), index * row + offset);
      }
      offset += block;
    }
    return [tensorOf(first.dtype, shape, out)];
  },
});

/**
 * Split along `axis` into the node's outputs: sizes from the `split` attribute (before opset 13) or input (13+),
 * else `num_outputs` parts (opset 18; the last one smaller when the axis does not divide), else equal parts.
 */
const split = jsKernel('Split', {
  prepare: (node) => ({
    axis: node.attributes.int('axis', 0),
    outputs: node.outputs.length,
    splitAttribute:
      node.opset < 13 && node.attributes.has('split') ? node.attributes.ints('split') : undefined,
    numOutputs:
      node.opset >= 18 && node.attributes.has('num_outputs') ? node.attributes.int('num_outputs') : undefined,
  }),
  run: ({ axis: attribute, outputs, splitAttribute, numOutputs }, [input, splitInput]) => {
    const x = required(input, 'input');
    const axis = normalizeAxis(attribute, x.shape.length);
    const dim = x.shape[axis]!;
    let sizes: readonly number[];
    if (splitAttribute !== undefined) sizes = splitAttribute;
    else if (splitInput !== undefined) sizes = integers(splitInput);
    else if (numOutputs !== undefined) {
      const chunk = Math.ceil(dim / numOutputs);
      sizes = Array.from({ length: numOutputs }, (_, index) =>
        Math.max(0, Math.min(chunk, dim - chunk * index)),
      );
    } else {
      if (dim % outputs !== 0) {
        throw new QuantError(
          'INVALID_MODEL',
          `axis ${axis} of size ${dim} does not split into ${outputs} equal parts`,
        );
      }
      sizes = new Array<number>(outputs).fill(dim / outputs);
    }
    if (
      sizes.length !== outputs ||
      sizes.some((size) => size < 0) ||
      sizes.reduce((a, b) => a + b, 0) !== dim
    ) {
      throw new QuantError(
        'INVALID_MODEL',
        `split [${sizes.join(', ')}] does not cut axis ${axis} of size ${dim} into ${outputs} outputs`,
      );
    }
    const strides = stridesOf(x.shape);
    let start = 0;
    return sizes.map((size) => {
      const shape = x.shape.map((extent, index) => (index === axis ? size : extent));
      const part = gatherStrided(x, start * strides[axis]!, strides, shape);
      start += size;
      return part;
    });
  },
});

export const concatSplitKernels = [concat, split];
