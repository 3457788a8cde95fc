
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createLazyOrtExecutor } from './create-lazy-ort-executor.js';
import { createOrtNodeExecutor } from './create-ort-node-executor.js';
import { expectClose, linearModel, linearReference } from './linear-test-model.js';
import { asyncQuantErrorOf } from '@quantkit/core/testing';

describe('createOrtNodeExecutor', () => {
  it('imports onnxruntime-node on first use and runs the model', async () => {
    const executor = createOrtNodeExecutor();
    expect(executor.name).toBe('ort-node');
    const session = await executor.createSession(linearModel, { threads: 1 });
    try {
      const { y } = await session.run({ x: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(2, 0.5) } });
      expectClose(y!.data as Float32Array, linearReference([2, 0.5], 1).y);
    } finally {
      await session.dispose();
    }
  });
});

describe('createLazyOrtExecutor', () => {
  it('gives install advice when the package is missing, and remembers the failure', async () => {
    let attempts = 0;
    const executor = createLazyOrtExecutor(
      'ort-node',
      async () => {
        attempts++;
        throw Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from x.js"), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      },
      'onnxruntime-node',
    );
    const first = await asyncQuantErrorOf(executor.createSession(linearModel));
    expect(first.code).toBe('EXECUTOR');
    expect(first.message).toMatch(/needs onnxruntime-node, which is not installed; run "npm install onnxruntime-node"/);
    expect(first.cause).toBeInstanceOf(Error);
    expect((await asyncQuantErrorOf(executor.load())).message).toBe(first.message);
    expect(attempts).toBe(1);
  });

  it('reports other load failures and modules that are not onnxruntime', async () => {
    const broken = createLazyOrtExecutor('x', async () => Promise.reject(new Error('addon ABI mismatch')), 'onnxruntime-node');
    expect((await asyncQuantErrorOf(broken.load())).message).toBe('executor "x" could not load onnxruntime-node: addon ABI mismatch');
    const wrong = createLazyOrtExecutor('x', async () => ({ hello: 1 }), 'onnxruntime-node');
    expect((await asyncQuantErrorOf(wrong.load())).code).toBe('INVALID_ARGUMENT');
  });

  it('accepts a module namespace with only a default export and configures it once', async () => {
    let configured = 0;
    const executor = createLazyOrtExecutor('cjs', async () => ({ default: ort }), 'onnxruntime-node', {
      configure: (loaded) => {
        expect(loaded.InferenceSession).toBe(ort.InferenceSession);
        configured++;
      },
    });
    await (await executor.createSession(linearModel)).dispose();
    await (await executor.createSession(linearModel)).dispose();
    expect(configured).toBe(1);
  });
});
