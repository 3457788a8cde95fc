import type { ConformanceCase } from '../conformance-case.js';
import { int64Tensor, randomFloat } from '../random-tensors.js';

const broadcasts: [number[], number[]][] = [
  [
    [2, 3, 4],
    [2, 3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [
    [1, 8, 5, 5],
    [1, 8, 1, 1],
  ],
  [[], [3, 2]],
  [[2, 0, 3], [3]],
];

const binaryCases = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'].flatMap((opType) =>
  broadcasts.map(
    ([a, b], index): ConformanceCase => ({
      name: `${opType} broadcasts [${a}] with [${b}]`,
      opType,
      inputs: [randomFloat(a, 10 + index), randomFloat(b, 20 + index, 0.5, 2)],
    }),
  ),
);

const integerCases: ConformanceCase[] = [
  {
    name: 'Div on int64 truncates toward zero',
    opType: 'Div',
    inputs: [int64Tensor([7, -7, 9, 1]), int64Tensor([2, 2, -4, 3])],
  },
  { name: 'Add on int64 broadcasts', opType: 'Add', inputs: [int64Tensor([1, 2, 3]), int64Tensor([10])] },
];

const unaryCases = ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Neg', 'Abs', 'Floor', 'Ceil', 'Erf'].map(
  (opType): ConformanceCase => ({
    name: `${opType} on values from -6 to 6`,
    opType,
    inputs: [randomFloat([3, 50], 3, -6, 6)],
    tolerance: { abs: 1e-6, rel: 1e-6 },
  }),
);

const positiveCases = ['Log', 'Sqrt', 'Reciprocal'].map((opType): ConformanceCase => {
  const x = randomFloat([4, 25], 4, 0, 10);
  x.data[0] = 0;
  return {
    name: `${opType} on positive values and 0 (inf and NaN agree)`,
    opType,
    inputs: [x],
    tolerance: { abs: 1e-6, rel: 1e-6 },
  };
});

export const elementwiseCases: readonly ConformanceCase[] = [
  ...binaryCases,
  ...integerCases,
  ...unaryCases,
  ...positiveCases,
];
