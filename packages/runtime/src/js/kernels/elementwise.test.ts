import { describe, it } from 'vitest';
import { expectSameAsOrt } from '../../testing/expect-same-as-ort.js';
import { int64Tensor, randomFloat } from '../../testing/random-tensors.js';

describe('elementwise kernels against onnxruntime-node', () => {
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
  for (const opType of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min']) {
    it.each(broadcasts)(`${opType} broadcasts [%s] with [%s]`, async (a, b) => {
      await expectSameAsOrt({ opType, inputs: [randomFloat(a, 1), randomFloat(b, 2, 0.5, 2)] });
    });
  }

  it('adds and divides int64 shape arithmetic exactly, truncating toward zero', async () => {
    await expectSameAsOrt({
      opType: 'Div',
      inputs: [int64Tensor([7, -7, 9, 1]), int64Tensor([2, 2, -4, 3])],
    });
    await expectSameAsOrt({ opType: 'Add', inputs: [int64Tensor([1, 2, 3]), int64Tensor([10])] });
  });

  for (const opType of ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Neg', 'Abs', 'Floor', 'Ceil', 'Erf']) {
    it(`${opType} matches on values from -6 to 6`, async () => {
      await expectSameAsOrt({ opType, inputs: [randomFloat([3, 50], 3, -6, 6)] }, { abs: 1e-6, rel: 1e-6 });
    });
  }
  for (const opType of ['Log', 'Sqrt', 'Reciprocal']) {
    it(`${opType} matches on positive values, and on 0 (inf and NaN agree)`, async () => {
      const x = randomFloat([4, 25], 4, 0, 10);
      x.data[0] = 0;
      await expectSameAsOrt({ opType, inputs: [x] }, { abs: 1e-6, rel: 1e-6 });
    });
  }
});
