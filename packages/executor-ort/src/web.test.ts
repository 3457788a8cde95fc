import { describe, expect, it } from 'vitest';
import { expectClose, linearModel, linearReference } from './linear-test-model.js';
import { createOrtWebExecutor } from './web.js';

describe('createOrtWebExecutor (onnxruntime-web, wasm backend, in Node)', () => {
  it('runs MatMul + Add like a float reference', async () => {
    const executor = createOrtWebExecutor({
      configure: (ort) => {
        // No worker threads: keeps the test light on a 2-core machine and works without cross-origin isolation.
        ort.env.wasm.numThreads = 1;
      },
    });
    expect(executor.name).toBe('ort-web');
    const session = await executor.createSession(linearModel);
    try {
      const x = [1, -2, 0.5, 8];
      const result = await session.run({ x: { dtype: 'float32', shape: [2, 2], data: Float32Array.from(x) } });
      const expected = linearReference(x, 2);
      expect(result.y!.shape).toEqual([2, 3]);
      expectClose(result.y!.data as Float32Array, expected.y);
      expectClose(result.mm!.data as Float32Array, expected.mm);
      const only = await session.run({ x: { dtype: 'float32', shape: [2, 2], data: Float32Array.from(x) } }, ['y']);
      expect(Object.keys(only)).toEqual(['y']);
    } finally {
      await session.dispose();
    }
  });
});
