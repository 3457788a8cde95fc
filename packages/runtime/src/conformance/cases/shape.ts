import type { ConformanceCase } from '../conformance-case.js';
import { int64Tensor, randomFloat } from '../random-tensors.js';

const reshapes: [string, number[], number[], number?][] = [
  ['to a given shape', [2, 3, 4], [4, 6]],
  ['with -1 inferred', [2, 3, 4], [-1, 4]],
  ['with 0 copying a dimension', [2, 3, 4], [0, 12]],
  ['with allowzero giving a size-0 dimension', [0, 3], [3, 0], 1],
  ['to a scalar', [1, 1], []],
];

const reshapeCases = reshapes.map(
  ([what, from, to, allowZero], index): ConformanceCase => ({
    name: `Reshape ${what}`,
    opType: 'Reshape',
    opset: 14,
    ...(allowZero !== undefined && { attributes: { allowzero: allowZero } }),
    inputs: [randomFloat(from, 40 + index), int64Tensor(to)],
    constantSlots: [1],
  }),
);

const shapeCases: ConformanceCase[] = [
  { name: 'Shape of a 4-D tensor', opType: 'Shape', inputs: [randomFloat([2, 3, 4, 5], 50)] },
  {
    name: 'Shape with start and end (opset 15)',
    opType: 'Shape',
    opset: 15,
    attributes: { start: 1, end: -1 },
    inputs: [randomFloat([2, 3, 4, 5], 51)],
  },
  {
    name: 'Shape with start past the rank (opset 15) is empty',
    opType: 'Shape',
    opset: 15,
    attributes: { start: 7 },
    inputs: [randomFloat([2, 3], 52)],
  },
  { name: 'Shape of a scalar', opType: 'Shape', inputs: [randomFloat([], 53)] },
];

export const shapeOpCases: readonly ConformanceCase[] = [...reshapeCases, ...shapeCases];
