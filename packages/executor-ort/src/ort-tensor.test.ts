import type { Tensor } from '@quantkit/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ORT_DTYPES, fromOrtTensor, toOrtTensor } from './ort-tensor.js';
import { quantErrorOf } from '@quantkit/core/testing';

const samples: Tensor[] = [
  { dtype: 'float32', shape: [2], data: Float32Array.of(1.5, -2) },
  { dtype: 'float64', shape: [1], data: Float64Array.of(Math.PI) },
  { dtype: 'float16', shape: [2], data: Uint16Array.of(0x3c00, 0xc000) },
  { dtype: 'int64', shape: [2], data: BigInt64Array.of(-(2n ** 62n), 7n) },
  { dtype: 'int32', shape: [1, 1], data: Int32Array.of(-5) },
  { dtype: 'int16', shape: [1], data: Int16Array.of(-300) },
  { dtype: 'uint16', shape: [1], data: Uint16Array.of(65535) },
  { dtype: 'int8', shape: [3], data: Int8Array.of(-128, 0, 127) },
  { dtype: 'uint8', shape: [], data: Uint8Array.of(255) },
  { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) },
];

describe('toOrtTensor / fromOrtTensor', () => {
  it('covers every dtype it lists', () => {
    expect(new Set(samples.map((t) => t.dtype))).toEqual(new Set(ORT_DTYPES));
  });

  it('round-trips every supported dtype through ort.Tensor', () => {
    for (const tensor of samples) {
      const ortTensor = toOrtTensor(ort, tensor);
      expect(ortTensor.type).toBe(tensor.dtype);
      expect([...ortTensor.dims]).toEqual(tensor.shape);
      const back = fromOrtTensor(ortTensor);
      expect(back.dtype).toBe(tensor.dtype);
      expect(back.shape).toEqual(tensor.shape);
      expect(back.data.constructor).toBe(tensor.data.constructor);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
    }
  });

  it('refuses dtypes onnxruntime cannot take and data that does not fit', () => {
    const bf16 = quantErrorOf(() => toOrtTensor(ort, { dtype: 'bfloat16', shape: [1], data: Uint16Array.of(0) }, 'input "x"'));
    expect(bf16.code).toBe('UNSUPPORTED');
    expect(bf16.message).toMatch(/^input "x" is bfloat16.*expected "float32"/);
    const wrongArray = { dtype: 'float32', shape: [1], data: Float64Array.of(1) } as unknown as Tensor;
    expect(quantErrorOf(() => toOrtTensor(ort, wrongArray)).message).toMatch(/data is a Float64Array, expected a Float32Array/);
    expect(quantErrorOf(() => toOrtTensor(ort, { dtype: 'float32', shape: [3], data: new Float32Array(2) })).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses ort element types quantkit has no dtype for', () => {
    const strings = new ort.Tensor('string', ['a'], [1]);
    expect(quantErrorOf(() => fromOrtTensor(strings, 'output "s"')).message).toMatch(/^output "s" is string/);
    expect(quantErrorOf(() => fromOrtTensor(new ort.Tensor('uint32', Uint32Array.of(1), [1]))).code).toBe('UNSUPPORTED');
  });

  it('keeps float16 bits when a runtime hands back another 16-bit view', () => {
    const bits = Uint16Array.of(0x3c00, 0x7bff);
    const asInt16 = new Int16Array(bits.buffer);
    const tensor = fromOrtTensor({ type: 'float16', dims: [2], data: asInt16 });
    expect(Array.from(tensor.data as Uint16Array)).toEqual([0x3c00, 0x7bff]);
  });
});
