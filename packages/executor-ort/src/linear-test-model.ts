import { expect } from 'vitest';
import { encodeTestModel } from './encode-test-model.js';

// y = x @ W + b, with the MatMul result also a graph output so fetch subsets can be checked.
const W = [0.5, -1, 2, 1.25, 3, -0.75];
const B = [0.1, -0.2, 0.3];
export const linearModel = encodeTestModel({
  inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2] }],
  outputs: [
    { name: 'mm', dtype: 'float32', shape: ['N', 3] },
    { name: 'y', dtype: 'float32', shape: ['N', 3] },
  ],
  initializers: [
    { name: 'W', shape: [2, 3], values: W },
    { name: 'b', shape: [3], values: B },
  ],
  nodes: [
    { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['mm'] },
    { opType: 'Add', inputs: ['mm', 'b'], outputs: ['y'] },
  ],
});

/** Reference in float64 from the same float32 constants the model holds. */
export function linearReference(x: readonly number[], rows: number): { mm: number[]; y: number[] } {
  const w = Array.from(Float32Array.from(W));
  const b = Array.from(Float32Array.from(B));
  const mm: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      const value = x[r * 2]! * w[c]! + x[r * 2 + 1]! * w[3 + c]!;
      mm.push(value);
      y.push(value + b[c]!);
    }
  }
  return { mm, y };
}

export function expectClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]!)));
  }
}

