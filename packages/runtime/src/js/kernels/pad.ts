import { QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { integers, normalizeAxis, required, stridesOf, tensorOf } from '../tensor-utils.js';
import type { Elements } from './copy-strided.js';

const MODES = ['constant', 'reflect', 'edge', 'wrap'] as const;
type PadMode = (typeof MODES)[number];

interface PadState {
  readonly mode: PadMode;
  /** Opset 2-10: pads and the constant as attributes. */
  readonly pads: readonly number[] | undefined;
  readonly value: number;
}

/**
 * For each position along a padded axis, the offset (index * stride) of the input element it shows, or -1 where
 * the constant goes. Negative pads crop.
 */
function axisMap(dim: number, begin: number, end: number, stride: number, mode: PadMode): Int32Array {
  const size = dim + begin + end;
  if (size < 0)
    throw new QuantError('INVALID_MODEL', `pads ${begin}, ${end} crop more than the axis size ${dim}`);
  const map = new Int32Array(size);
  if (dim === 0 && mode !== 'constant' && size > 0) {
    throw new QuantError('INVALID_MODEL', `${mode} padding cannot pad an empty axis`);
  }
  const period = 2 * (dim - 1);
  for (let position = 0; position < size; position++) {
    let index = position - begin;
    if (index < 0 || index >= dim) {
      switch (mode) {
        case 'constant':
          index = -1;
          break;
        case 'edge':
          index = index < 0 ? 0 : dim - 1;
          break;
        case 'wrap':
          index = ((index % dim) + dim) % dim;
          break;
        case 'reflect':
          if (period === 0) index = 0;
          else {
            index = ((index % period) + period) % period;
            if (index >= dim) index = period - index;
          }
          break;
      }
    }
    map[position] = index < 0 ? -1 : index * stride;
  }
  return map;
}

/**
 * Pad: opset 2-10 reads pads, value and mode from attributes; 11+ takes pads and constant_value as inputs and (18+)
 * the axes the pads apply to. Modes constant, reflect, edge and wrap; any dtype.
 */
const pad = jsKernel('Pad', {
  opsets: { min: 2 },
  prepare: (node): PadState => {
    const mode = node.attributes.string('mode', 'constant');
    if (!(MODES as readonly string[]).includes(mode)) {
      throw new QuantError('UNSUPPORTED', `mode "${mode}" is not one of ${MODES.join(', ')}`);
    }
    return {
      mode: mode as PadMode,
      pads: node.opset < 11 ? node.attributes.ints('pads') : undefined,
      value: node.opset < 11 ? node.attributes.float('value', 0) : 0,
    };
  },
  run: (state, [dataInput, padsInput, constantInput, axesInput]) => {
    const x = required(dataInput, 'data');
    const rank = x.shape.length;
    const given = state.pads ?? integers(required(padsInput, 'pads'));
    const axes =
      axesInput === undefined
        ? x.shape.map((_, axis) => axis)
        : integers(axesInput).map((axis) => normalizeAxis(axis, rank));
    if (given.length !== 2 * axes.length) {
      throw new QuantError(
        'INVALID_MODEL',
        `pads [${given.join(', ')}] must hold 2 values per padded axis (${axes.length} axes)`,
      );
    }
    const begins = new Array<number>(rank).fill(0);
    const ends = new Array<number>(rank).fill(0);
    axes.forEach((axis, index) => {
      begins[axis] = given[index]!;
      ends[axis] = given[index + axes.length]!;
    });
    const strides = stridesOf(x.shape);
    const maps = x.shape.map((dim, axis) =>
      axisMap(dim, begins[axis]!, ends[axis]!, strides[axis]!, state.mode),
    );
    const shape = maps.map((map) => map.length);
    const size = sizeOf(shape);
    const out = allocate(x.dtype, size);
    const constant = padValue(x, state, constantInput);
    if (state.mode === 'constant' && constant !== 0 && constant !== 0n) {
      (out as unknown as { fill(value: number | bigint): void }).fill(constant);
    }
    if (size === 0) return [tensorOf(x.dtype, shape, out)];
    if (rank === 0) {
      (out as unknown as Elements)[0] = (x.data as unknown as Elements)[0]!;
      return [tensorOf(x.dtype, shape, out)];
    }
    const source = x.data as unknown as Elements;
    const target = out as unknown as Elements;
    const inner = maps[rank - 1]!;
    const rows = size / inner.length;
    const counter = new Array<number>(rank - 1).fill(0);
    let t = 0;
    for (let row = 0; row < rows; row++) {
      let base = 0;
      for (let axis = 0; axis < rank - 1; axis++) {
        const offset = maps[axis]![counter[axis]!]!;
        if (offset < 0) {
          base = -1;
          break;
        }
        base += offset;
      }
      if (base >= 0) {
        for (let i = 0; i < inner.length; i++) {
          const offset = inner[i]!;
          if (offset >= 0) target[t + i] = source[base + offset]!;
        }
      }
      t += inner.length;
      for (let axis = rank - 2; axis >= 0; axis--) {
        counter[axis]! += 1;
        if (counter[axis]! < shape[axis]!) break;
        counter[axis] = 0;
      }
    }
    return [tensorOf(x.dtype, shape, out)];
  },
});

/** The constant for constant mode, in the data's element type (a bigint for int64). */
function padValue(x: Tensor, state: PadState, constantInput: Tensor | undefined): number | bigint {
  if (constantInput !== undefined) {
    if (constantInput.dtype !== x.dtype) {
      throw new QuantError('INVALID_MODEL', `constant_value is ${constantInput.dtype}; data is ${x.dtype}`);
    }
    return (constantInput.data as unknown as Elements)[0] ?? 0;
  }
  return x.dtype === 'int64' ? BigInt(state.value) : state.value;
}

export const padKernels = [pad];
