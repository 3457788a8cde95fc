import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exactReferenceCase } from './exact-reference.js';
import { nodeCaseModel } from './run-both.js';

const executor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });

describe('exactReferenceCase', () => {
  it('gives onnxruntime the exact product of u8 x s8 extremes, which its AVX2 kernel saturates', async () => {
    // Every pair of products is 255 x -128 + 255 x -128 = -65280, far outside int16.
    const k = 64;
    const spec = {
      opType: 'MatMulInteger',
      opset: 10,
      inputs: [
        createTensor('uint8', [2, k], new Uint8Array(2 * k).fill(255)),
        createTensor('int8', [k, 3], new Int8Array(k * 3).fill(-128)),
        undefined,
        createTensor('int8', [], Int8Array.of(3)),
      ],
      constantSlots: [1],
    };
    const reference = exactReferenceCase(spec);
    expect(reference.inputs[1]!.dtype).toBe('uint8');
    expect(Array.from(reference.inputs[3]!.data as Uint8Array)).toEqual([131]);
    const { model, feeds } = nodeCaseModel(reference);
    const session = await executor.createSession(encodeModel(model), { threads: 1 });
    try {
      const out = (await session.run(feeds))[session.outputNames[0]!]!;
      expect(Array.from(out.data as Int32Array)).toEqual(new Array(6).fill(k * 255 * (-128 - 3)));
    } finally {
      await session.dispose();
    }
  });

  it('gives an omitted B zero point the shape of B scale, and leaves other cases alone', () => {
    const spec = {
      opType: 'DynamicQuantizeMatMul',
      domain: 'com.microsoft',
      inputs: [
        createTensor('float32', [1, 2], Float32Array.of(1, 2)),
        createTensor('int8', [2, 3], Int8Array.of(-128, 0, 127, 1, 2, 3)),
        createTensor('float32', [3], Float32Array.of(1, 1, 1)),
      ],
    };
    const reference = exactReferenceCase(spec);
    expect(Array.from(reference.inputs[1]!.data as Uint8Array)).toEqual([0, 128, 255, 129, 130, 131]);
    expect(reference.inputs[3]!.shape).toEqual([3]);
    expect(Array.from(reference.inputs[3]!.data as Uint8Array)).toEqual([128, 128, 128]);
    const unsigned = { ...spec, inputs: [spec.inputs[0], createTensor('uint8', [2, 3], new Uint8Array(6))] };
    expect(exactReferenceCase(unsigned)).toBe(unsigned);
    expect(exactReferenceCase({ opType: 'Relu', inputs: [spec.inputs[0]] }).inputs).toEqual([spec.inputs[0]]);
  });
});
