import { describe, expect, it } from 'vitest';
import { type Int8GemmExports, checkInt8Gemm, wasmSimdBackend } from './backend.js';

describe('wasmSimdBackend', () => {
  it('starts, and records which int8 path it chose and why', async () => {
    const handle = await wasmSimdBackend.init();
    expect(['simd', 'relaxed-simd']).toContain(handle.int8Path);
    if (handle.int8Path === 'simd') {
      expect(handle.relaxedSimd).toMatch(/not available|wrong results|slower than plain SIMD/);
    } else expect(handle.relaxedSimd).toMatch(/^available, verified and faster/);
  });

  it('passes its own int8 check on the chosen path and on plain SIMD', async () => {
    const handle = await wasmSimdBackend.init();
    expect(checkInt8Gemm(handle.heap, handle.int8)).toBeUndefined();
  });

  it('rejects an int8 GEMM that computes wrong results (as relaxed SIMD does on Node 20)', async () => {
    const handle = await wasmSimdBackend.init();
    // A GEMM that doubles its results, as V8 11's relaxed i8 dot did on this machine.
    const doubling: Int8GemmExports = {
      ...handle.int8,
      gemm(a, b, bWide, c, ldc, m, panels, kPadded) {
        handle.int8.gemm(a, b, bWide, c, ldc, m, panels, kPadded);
        const values = new Int32Array(handle.heap.buffer, c, (m * ldc) / 4);
        for (let i = 0; i < values.length; i++) values[i]! *= 2;
      },
    };
    expect(checkInt8Gemm(handle.heap, doubling)).toMatch(/^C\[0, \d+\] is -?\d+, expected -?\d+$/);
  });
});
