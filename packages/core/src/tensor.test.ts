import { describe, expect, it } from 'vitest';
import { QuantError } from './errors.js';
import { axisLayout, createTensor, sameShape, sizeOf } from './tensor.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('createTensor', () => {
  it('allocates zeroed data when none is given and copies the shape', () => {
    const shape = [2, 3];
    const tensor = createTensor('int8', shape);
    expect(tensor.data).toBeInstanceOf(Int8Array);
    expect(tensor.data).toHaveLength(6);
    shape[0] = 5;
    expect(tensor.shape).toEqual([2, 3]);
    expect(createTensor('float32', []).data).toHaveLength(1);
  });

  it('keeps given data of the right length', () => {
    const data = Float32Array.of(1, 2, 3, 4);
    expect(createTensor('float32', [2, 2], data).data).toBe(data);
    expect(createTensor('float32', [0, 4], new Float32Array(0)).data).toHaveLength(0);
  });

  it('refuses wrong lengths and invalid dimensions', () => {
    expect(refusal(() => createTensor('float32', [2, 2], new Float32Array(3)))).toBe(
      'a float32 tensor of shape [2, 2] needs 4 elements, got 3',
    );
    expect(refusal(() => createTensor('float32', [2, -1]))).toContain('invalid dimension');
    expect(refusal(() => createTensor('float32', [1.5]))).toContain('invalid dimension');
    expect(refusal(() => createTensor('float32', [Number.NaN]))).toContain('invalid dimension');
  });
});

describe('sizeOf, sameShape, axisLayout', () => {
  it('sizeOf multiplies dimensions; a scalar has one element', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([2, 0])).toBe(0);
  });

  it('sameShape compares element-wise', () => {
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([2], [2, 1])).toBe(false);
  });

  it('axisLayout splits around the axis, normalizing negative axes', () => {
    expect(axisLayout([2, 3, 4], 1)).toEqual({ outer: 2, axisSize: 3, inner: 4, axis: 1 });
    expect(axisLayout([2, 3, 4], -1)).toEqual({ outer: 6, axisSize: 4, inner: 1, axis: 2 });
    expect(axisLayout([2, 3, 4], -3)).toEqual({ outer: 1, axisSize: 2, inner: 12, axis: 0 });
    // Element (o, d, i) sits at (o * axisSize + d) * inner + i: check against row-major strides for (1, 2, 3).
    const { axisSize, inner } = axisLayout([2, 3, 4], 1);
    expect((1 * axisSize + 2) * inner + 3).toBe(1 * 12 + 2 * 4 + 3);
  });

  it('axisLayout refuses axes out of range', () => {
    expect(refusal(() => axisLayout([2, 3], 2))).toBe('axis 2 is out of range for shape [2, 3]');
    expect(refusal(() => axisLayout([2, 3], -3))).toContain('out of range');
    expect(refusal(() => axisLayout([], 0))).toContain('out of range');
    expect(refusal(() => axisLayout([2, 3], 0.5))).toContain('out of range');
  });
});
