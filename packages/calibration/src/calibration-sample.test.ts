import type { Tensor } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CalibrationInput, checkSample, splitBatch, splitSampleBatches } from './calibration-sample.js';
import { quantErrorOf } from '@quantkit/core/testing';

function f32(shape: number[], start = 0): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: size }, (_, i) => start + i) };
}

const image: CalibrationInput = { name: 'image', dtype: 'float32', shape: [1, 3, 'height', -1] };

describe('checkSample', () => {
  it('accepts exact and symbolic dims', () => {
    const sample = { image: f32([1, 3, 5, 7]) };
    expect(checkSample(sample, [image], 'a.npy')).toEqual(sample);
    expect(checkSample({ x: f32([2, 2]) }, [{ name: 'x' }], 'a.npy').x!.shape).toEqual([2, 2]);
    expect(checkSample({ x: f32([2, 2]) }, [{ name: 'x', shape: [null, undefined] }], 'a.npy').x!.shape).toEqual([2, 2]);
  });

  it('names file, input, expected and actual shape on a mismatch', () => {
    const error = quantErrorOf(() => checkSample({ image: f32([1, 4, 5, 7]) }, [image], 'calib/0.npy'));
    expect(error.code).toBe('CALIBRATION_DATA');
    expect(error.message).toBe('calib/0.npy: input "image" expects shape [1, 3, height, ?], got [1, 4, 5, 7]');
  });

  it('names file, input, expected and actual dtype on a mismatch', () => {
    const ints: Tensor = { dtype: 'int8', shape: [1, 3, 1, 1], data: Int8Array.of(1, 2, 3) };
    const error = quantErrorOf(() => checkSample({ image: ints }, [image], 'calib/0.npy'));
    expect(error.code).toBe('CALIBRATION_DATA');
    expect(error.message).toMatch(/calib\/0\.npy: input "image" expects float32 data, got int8/);
  });

  it('converts float64 to float32 and int32 to int64', () => {
    const values = [0.1, -2.5, 1e-8];
    const checked = checkSample(
      { x: { dtype: 'float64', shape: [3], data: Float64Array.from(values) }, ids: { dtype: 'int32', shape: [2], data: Int32Array.of(-7, 2 ** 31 - 1) } },
      [{ name: 'x', dtype: 'float32' }, { name: 'ids', dtype: 'int64' }],
      's',
    );
    expect(checked.x!.dtype).toBe('float32');
    expect(Array.from(checked.x!.data as Float32Array)).toEqual(values.map(Math.fround));
    expect(Array.from(checked.ids!.data as BigInt64Array)).toEqual([-7n, 2n ** 31n - 1n]);
  });

  it('adds a missing leading batch dim of 1, and accepts a batch the fixed dim divides', () => {
    expect(checkSample({ image: f32([3, 5, 7]) }, [image], 's').image!.shape).toEqual([1, 3, 5, 7]);
    expect(checkSample({ image: f32([4, 3, 5, 7]) }, [image], 's').image!.shape).toEqual([4, 3, 5, 7]);
    const pair: CalibrationInput = { name: 'x', shape: [2, 3] };
    expect(quantErrorOf(() => checkSample({ x: f32([3, 3]) }, [pair], 's')).code).toBe('CALIBRATION_DATA');
    expect(quantErrorOf(() => checkSample({ x: f32([3]) }, [pair], 's')).code).toBe('CALIBRATION_DATA');
  });

  it('reports missing and unknown inputs, listing the model inputs', () => {
    const inputs = [image, { name: 'mask' }];
    expect(quantErrorOf(() => checkSample({ image: f32([1, 3, 1, 1]) }, inputs, 'dir/s1')).message).toBe(
      'dir/s1: no data for model input "mask"; the model\'s inputs are "image", "mask"',
    );
    expect(quantErrorOf(() => checkSample({ image: f32([1, 3, 1, 1]), mask: f32([1]), extra: f32([1]) }, inputs, 'd')).message).toMatch(
      /"extra" is not a model input/,
    );
  });
});

describe('splitBatch', () => {
  it('splits [N, ...] into N/d chunks that concatenate back to the input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        (d, k, rest) => {
          const tensor = f32([d * k, ...rest]);
          const parts = splitBatch(tensor, [d, ...rest]);
          expect(parts.length).toBe(k);
          for (const part of parts) expect(part.shape).toEqual([d, ...rest]);
          expect(parts.flatMap((p) => Array.from(p.data as Float32Array))).toEqual(Array.from(tensor.data));
        },
      ),
    );
  });

  it('leaves batches whole for symbolic batch dims and adds a missing batch dim', () => {
    const tensor = f32([5, 2]);
    expect(splitBatch(tensor, ['batch', 2])).toEqual([tensor]);
    expect(splitBatch(f32([2]), [1, 2])[0]!.shape).toEqual([1, 2]);
  });

  it('refuses shapes it cannot split', () => {
    expect(quantErrorOf(() => splitBatch(f32([5, 2]), [2, 2], 'x.npy')).message).toMatch(/x\.npy: shape \[5, 2\] cannot be split.*\[2, 2\]/);
    expect(quantErrorOf(() => splitBatch(f32([4, 3]), [1, 2])).code).toBe('CALIBRATION_DATA');
  });
});

describe('splitSampleBatches', () => {
  it('zips the pieces of every input', () => {
    const inputs: CalibrationInput[] = [{ name: 'a', shape: [1, 2] }, { name: 'b', shape: [1] }];
    const samples = splitSampleBatches({ a: f32([3, 2]), b: f32([3], 100) }, inputs);
    expect(samples.length).toBe(3);
    expect(Array.from(samples[2]!.a!.data as Float32Array)).toEqual([4, 5]);
    expect(Array.from(samples[2]!.b!.data as Float32Array)).toEqual([102]);
  });

  it('refuses inputs with different batch sizes', () => {
    const inputs: CalibrationInput[] = [{ name: 'a', shape: [1, 2] }, { name: 'b', shape: [1] }];
    expect(quantErrorOf(() => splitSampleBatches({ a: f32([3, 2]), b: f32([2]) }, inputs, 's')).message).toMatch(
      /"a" into 3, "b" into 2/,
    );
  });
});
