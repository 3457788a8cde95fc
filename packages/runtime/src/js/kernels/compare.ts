import { QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastIndex, broadcastShape, required, tensorOf } from '../tensor-utils.js';
import { float16ToFloat32 } from './cast.js';
import type { Elements } from './copy-strided.js';

type Comparison = 'Equal' | 'Less' | 'LessOrEqual' | 'Greater' | 'GreaterOrEqual';

/** Values to compare: float16 bits decoded (their bit patterns do not order like their values). */
function comparable(x: Tensor): ArrayLike<number> {
  return (x.dtype === 'float16' ? float16ToFloat32(x.data as Uint16Array) : x.data) as ArrayLike<number>;
}

/**
 * A comparison with numpy broadcasting, to a bool tensor. Both inputs share a dtype; JS compares int64 bigints with
 * the same operators as numbers, so one loop serves every dtype.
 */
function comparison(opType: Comparison) {
  return jsKernel(opType, {
    run: (_, [a, b]) => {
      const left = required(a, 'A');
      const right = required(b, 'B');
      if (left.dtype !== right.dtype) {
        throw new QuantError('INVALID_MODEL', `inputs are ${left.dtype} and ${right.dtype}; they must match`);
      }
      const shape = broadcastShape(left.shape, right.shape);
      const size = sizeOf(shape);
      const ia = broadcastIndex(left.shape, shape);
      const ib = broadcastIndex(right.shape, shape);
      const x = comparable(left);
      const y = comparable(right);
      const out = new Uint8Array(size);
      switch (opType) {
        case 'Equal':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i] === y[ib ? ib[i]! : i] ? 1 : 0;
          break;
        case 'Less':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! < y[ib ? ib[i]! : i]! ? 1 : 0;
          break;
        case 'LessOrEqual':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! <= y[ib ? ib[i]! : i]! ? 1 : 0;
          break;
        case 'Greater':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! > y[ib ? ib[i]! : i]! ? 1 : 0;
          break;
        case 'GreaterOrEqual':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! >= y[ib ? ib[i]! : i]! ? 1 : 0;
          break;
      }
      return [tensorOf('bool', shape, out)];
    },
  });
}

type Logic = 'And' | 'Or' | 'Xor';

function boolData(x: Tensor, what: string): Uint8Array {
  if (x.dtype !== 'bool') throw new QuantError('INVALID_MODEL', `${what} is ${x.dtype}; expected bool`);
  return x.data as Uint8Array;
}

/** A logical op on bool tensors with numpy broadcasting. */
function logic(opType: Logic) {
  return jsKernel(opType, {
    run: (_, [a, b]) => {
      const x = boolData(required(a, 'A'), 'A');
      const y = boolData(required(b, 'B'), 'B');
      const shape = broadcastShape(a!.shape, b!.shape);
      const size = sizeOf(shape);
      const ia = broadcastIndex(a!.shape, shape);
      const ib = broadcastIndex(b!.shape, shape);
      const out = new Uint8Array(size);
      switch (opType) {
        case 'And':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! & y[ib ? ib[i]! : i]!;
          break;
        case 'Or':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! | y[ib ? ib[i]! : i]!;
          break;
        case 'Xor':
          for (let i = 0; i < size; i++) out[i] = x[ia ? ia[i]! : i]! ^ y[ib ? ib[i]! : i]!;
          break;
      }
      return [tensorOf('bool', shape, out)];
    },
  });
}

const not = jsKernel('Not', {
  run: (_, [input]) => {
    const x = boolData(required(input, 'X'), 'X');
    const out = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i]! ^ 1;
    return [tensorOf('bool', input!.shape, out)];
  },
});

/** Where: X where the condition holds, else Y, the three broadcast together; X and Y of any shared dtype. */
const where = jsKernel('Where', {
  run: (_, [conditionInput, xInput, yInput]) => {
    const condition = boolData(required(conditionInput, 'condition'), 'condition');
    const x = required(xInput, 'X');
    const y = required(yInput, 'Y');
    if (x.dtype !== y.dtype) {
      throw new QuantError('INVALID_MODEL', `X is ${x.dtype} and Y is ${y.dtype}; they must match`);
    }
    const shape = broadcastShape(conditionInput!.shape, x.shape, y.shape);
    const size = sizeOf(shape);
    const ic = broadcastIndex(conditionInput!.shape, shape);
    const ix = broadcastIndex(x.shape, shape);
    const iy = broadcastIndex(y.shape, shape);
    const out = allocate(x.dtype, size);
    const target = out as unknown as Elements;
    const whenTrue = x.data as unknown as Elements;
    const whenFalse = y.data as unknown as Elements;
    for (let i = 0; i < size; i++) {
      target[i] = condition[ic ? ic[i]! : i] ? whenTrue[ix ? ix[i]! : i]! : whenFalse[iy ? iy[i]! : i]!;
    }
    return [tensorOf(x.dtype, shape, out)];
  },
});

export const compareKernels = [
  comparison('Equal'),
  comparison('Less'),
  comparison('LessOrEqual'),
  comparison('Greater'),
  comparison('GreaterOrEqual'),
  logic('And'),
  logic('Or'),
  logic('Xor'),
  not,
  where,
];
