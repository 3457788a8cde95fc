import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPagedTensor, pagedTensor, setPagedTensorBudget } from './paged-tensor.js';

/** A paged tensor of `length` float32 values counting its reads. */
function countingTensor(length = 6) {
  let reads = 0;
  const tensor = pagedTensor('float32', [length], () => {
    reads++;
    return Float32Array.from({ length }, (_, i) => i + 1);
  });
  return { tensor, reads: () => reads };
}

let previousBudget: number;
beforeEach(() => {
  previousBudget = setPagedTensorBudget(1000); // bytes: room for two 100-value tensors, not three
});
afterEach(() => {
  setPagedTensorBudget(previousBudget);
});

describe('pagedTensor', () => {
  it('reads on first use, once for a loop over its elements, and is marked paged', () => {
    const { tensor, reads } = countingTensor();
    expect(reads()).toBe(0);
    expect(isPagedTensor(tensor)).toBe(true);
    expect(isPagedTensor({ dtype: 'float32', shape: [1], data: Float32Array.of(1) })).toBe(false);
    let sum = 0;
    for (let i = 0; i < 6; i++) sum += tensor.data[i]!;
    expect(sum).toBe(21);
    expect(reads()).toBe(1);
  });

  it('keeps recently used data within the budget and reads older data again', () => {
    const [a, b, c] = [countingTensor(100), countingTensor(100), countingTensor(100)];
    void a.tensor.data;
    void b.tensor.data;
    void a.tensor.data; // a is now the most recent; b the least
    expect([a.reads(), b.reads()]).toEqual([1, 1]);
    void c.tensor.data; // 1200 bytes: b goes
    void a.tensor.data;
    expect(a.reads()).toBe(1);
    expect([...b.tensor.data.slice(0, 3)]).toEqual([1, 2, 3]);
    expect(b.reads()).toBe(2);
    // The tensor read last stays, even alone beyond the budget.
    setPagedTensorBudget(0);
    const last = b.tensor.data;
    expect(b.tensor.data).toBe(last);
    void a.tensor.data;
    expect(a.reads()).toBe(2);
  });

  it('copies its values when spread, and the copy is an ordinary tensor', () => {
    const { tensor } = countingTensor();
    const copy = { ...tensor };
    expect(Object.keys(tensor).sort()).toEqual(['data', 'dtype', 'shape']);
    expect(copy.data).toBeInstanceOf(Float32Array);
    expect(isPagedTensor(copy)).toBe(false);
    expect(structuredClone(tensor).data).toEqual(Float32Array.from({ length: 6 }, (_, i) => i + 1));
  });
});
