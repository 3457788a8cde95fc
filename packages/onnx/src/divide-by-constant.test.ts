import { encodeModel } from './model.js';
import { floatTensor, maxAbsDiff, runOrt } from '@quantkit/test-kit';
import { describe, expect, it } from 'vitest';
import { divideByConstantAsMul } from './divide-by-constant.js';
import { createModel } from './model-builder.js';

/** x / 6 (initializer), x / c (Constant node, shared), 6 / x, x / 0 and x / y: only the first two are rewritten. */
function divisions() {
  return createModel({
    opset: 13,
    inputs: [
      ['x', 'float32', [2, 8]],
      ['y', 'float32', [2, 8]],
    ],
    outputs: [
      ['a', 'float32', [2, 8]],
      ['b', 'float32', [2, 8]],
      ['c', 'float32', [2, 8]],
      ['d', 'float32', [2, 8]],
      ['e', 'float32', [2, 8]],
      ['f', 'float32', [2, 8]],
    ],
    initializers: {
      six: { dtype: 'float32', shape: [], data: Float32Array.of(6) },
      zero: { dtype: 'float32', shape: [1], data: Float32Array.of(0) },
    },
    nodes: [
      {
        opType: 'Constant',
        outputs: ['root'],
        attributes: { value: { dtype: 'float32', shape: [1], data: Float32Array.of(Math.SQRT2) } },
      },
      { opType: 'Div', inputs: ['x', 'six'], outputs: ['a'] },
      { opType: 'Div', inputs: ['x', 'root'], outputs: ['b'] },
      { opType: 'Div', inputs: ['y', 'root'], outputs: ['c'] },
      { opType: 'Div', inputs: ['six', 'x'], outputs: ['d'] },
      { opType: 'Div', inputs: ['x', 'zero'], outputs: ['e'] },
      { opType: 'Div', inputs: ['x', 'y'], outputs: ['f'] },
    ],
  });
}

describe('divideByConstantAsMul', () => {
  it('turns division by a one-value float constant into multiplication, within one rounding in onnxruntime', async () => {
    const original = divisions();
    const model = divisions();
    expect(divideByConstantAsMul(model.graph)).toBe(3);
    expect(model.graph.nodes.map((node) => node.opType).sort()).toEqual([
      'Div',
      'Div',
      'Div',
      'Mul',
      'Mul',
      'Mul',
    ]);
    // The Constant node's value is now read by nothing, and gone; "six" is still the numerator of 6 / x.
    expect(model.graph.nodes.some((node) => node.opType === 'Constant')).toBe(false);
    expect(model.graph.initializers.has('six')).toBe(true);
    const feeds = { x: floatTensor([2, 8], 1, 4, 0.5), y: floatTensor([2, 8], 2, 4, 5) };
    const expected = await runOrt(encodeModel(original), feeds);
    const got = await runOrt(encodeModel(model), feeds);
    for (const name of ['a', 'b', 'c']) {
      const reference = expected[name]!.data as Float32Array;
      const peak = Math.max(...reference.map(Math.abs));
      expect(maxAbsDiff(got[name]!.data, reference) / peak, name).toBeLessThan(2e-7);
    }
    // Left as they were: the same values, infinities of x / 0 included.
    for (const name of ['d', 'e', 'f'])
      expect(Array.from(got[name]!.data), name).toEqual(Array.from(expected[name]!.data));
  });
});
