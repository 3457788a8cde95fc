import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@quantkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countCalibrationSamples, detectCalibrationLayout } from './calibration-layout.js';
import type { CalibrationInput } from './calibration-sample.js';
import { encodeNpy } from './encode-npy.js';
import { hashCalibrationDir } from './hash-calibration-dir.js';
import { type CalibrationRecord, readCalibrationDir } from './read-calibration-dir.js';
import { asyncQuantErrorOf } from '@quantkit/core/testing';

// TensorProto bytes written by hand from onnx.proto (dims = 1, data_type = 2, name = 8, raw_data = 9), so the test
// does not depend on @quantkit/onnx's encoder.
function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

function lengthDelimited(field: number, payload: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
}

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;

function tensorProto(name: string, tensor: Tensor<'float32'> | Tensor<'int64'>): Uint8Array {
  const bytes: number[] = [];
  for (const dim of tensor.shape) bytes.push(...varint(1 << 3), ...varint(dim));
  bytes.push(...varint(2 << 3), ...varint(tensor.dtype === 'float32' ? ONNX_FLOAT : ONNX_INT64));
  bytes.push(...lengthDelimited(8, new TextEncoder().encode(name)));
  const raw = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  bytes.push(...lengthDelimited(9, raw));
  return Uint8Array.from(bytes);
}

function f32(shape: number[], start: number): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: size }, (_, i) => start + i / 4) };
}

async function collect(iterable: AsyncIterable<CalibrationRecord>): Promise<CalibrationRecord[]> {
  const records: CalibrationRecord[] = [];
  for await (const record of iterable) records.push(record);
  return records;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantkit-calib-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const single: CalibrationInput[] = [{ name: 'x', dtype: 'float32', shape: [1, 4] }];

describe('readCalibrationDir: DIR/*.npy', () => {
  it('yields one sample per file in natural order, adding a missing batch dim', async () => {
    for (const k of [10, 2, 1]) await writeFile(join(dir, `sample_${k}.npy`), encodeNpy(f32([4], k)));
    await writeFile(join(dir, 'README.md'), 'ignored');
    await writeFile(join(dir, '.DS_Store'), 'ignored');
    const records = await collect(readCalibrationDir(dir, single));
    expect(records.map((r) => r.source)).toEqual([1, 2, 10].map((k) => join(dir, `sample_${k}.npy`)));
    expect(records[2]!.sample.x!.shape).toEqual([1, 4]);
    expect(Array.from(records[2]!.sample.x!.data as Float32Array)).toEqual([10, 10.25, 10.5, 10.75]);
    expect(await countCalibrationSamples(dir)).toBe(3);
    expect((await collect(readCalibrationDir(dir, single, { limit: 2 }))).length).toBe(2);
  });

  it('converts float64 files for float32 inputs and keeps batched files whole', async () => {
    const values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    await writeFile(
      join(dir, 'a.npy'),
      encodeNpy({ dtype: 'float64', shape: [2, 4], data: Float64Array.from(values) }),
    );
    const [record] = await collect(readCalibrationDir(dir, single));
    expect(record!.sample.x!.dtype).toBe('float32');
    expect(record!.sample.x!.shape).toEqual([2, 4]);
    expect(Array.from(record!.sample.x!.data as Float32Array)).toEqual(values.map(Math.fround));
  });

  it('names the file with the wrong shape or dtype', async () => {
    await writeFile(join(dir, 'a.npy'), encodeNpy(f32([1, 5], 0)));
    const shape = await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)));
    expect(shape.code).toBe('CALIBRATION_DATA');
    expect(shape.message).toBe(`${join(dir, 'a.npy')}: input "x" expects shape [1, 4], got [1, 5]`);
    await writeFile(join(dir, 'a.npy'), encodeNpy({ dtype: 'int8', shape: [1, 4], data: new Int8Array(4) }));
    const dtype = await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)));
    expect(dtype.message).toMatch(/a\.npy: input "x" expects float32 data, got int8/);
    await writeFile(join(dir, 'a.npy'), 'not numpy');
    expect((await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)))).message).toMatch(
      /a\.npy: not an NPY file/,
    );
  });

  it('refuses top-level .npy files for a multi-input model', async () => {
    await writeFile(join(dir, 'a.npy'), encodeNpy(f32([1, 4], 0)));
    const error = await asyncQuantErrorOf(collect(readCalibrationDir(dir, [{ name: 'a' }, { name: 'b' }])));
    expect(error.code).toBe('CALIBRATION_DATA');
    expect(error.message).toMatch(/single-input model, but the model has 2 inputs \("a", "b"\)/);
  });
});

describe('readCalibrationDir: DIR/<sample>/<input>.npy', () => {
  const inputs: CalibrationInput[] = [
    { name: 'image', dtype: 'float32', shape: [1, 2] },
    { name: 'ids:0', dtype: 'int64', shape: ['batch', 3] },
  ];

  it('reads one folder per sample, matching sanitized input names', async () => {
    for (const k of [1, 0]) {
      await mkdir(join(dir, `s${k}`));
      await writeFile(join(dir, `s${k}`, 'image.npy'), encodeNpy(f32([1, 2], k)));
      await writeFile(
        join(dir, `s${k}`, 'ids_0.npy'),
        encodeNpy({
          dtype: 'int32',
          shape: [2, 3],
          data: Int32Array.from({ length: 6 }, (_, i) => i * (k + 1)),
        }),
      );
    }
    const records = await collect(readCalibrationDir(dir, inputs));
    expect(records.map((r) => r.source)).toEqual([join(dir, 's0'), join(dir, 's1')]);
    const ids = records[1]!.sample['ids:0']!;
    expect(ids.dtype).toBe('int64');
    expect(Array.from(ids.data as BigInt64Array)).toEqual([0n, 2n, 4n, 6n, 8n, 10n]);
    expect(Array.from(records[1]!.sample.image!.data as Float32Array)).toEqual([1, 1.25]);
    expect((await detectCalibrationLayout(dir)).kind).toBe('npy-folders');
  });

  it('names the folder and the missing or unknown file', async () => {
    await mkdir(join(dir, 's0'));
    await writeFile(join(dir, 's0', 'image.npy'), encodeNpy(f32([1, 2], 0)));
    const missing = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(missing.message).toBe(
      `${join(dir, 's0')}: no ids_0.npy for model input "ids:0"; each sample folder holds "image.npy", "ids_0.npy"`,
    );
    await writeFile(
      join(dir, 's0', 'ids:0.npy'),
      encodeNpy({ dtype: 'int64', shape: [1, 3], data: new BigInt64Array(3) }),
    );
    await writeFile(join(dir, 's0', 'label.npy'), encodeNpy(f32([1], 0)));
    const unknown = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(unknown.message).toMatch(/label\.npy does not name a model input/);
  });
});

describe('readCalibrationDir: ONNX test data', () => {
  const inputs: CalibrationInput[] = [
    { name: 'x', dtype: 'float32', shape: [1, 3] },
    { name: 'steps', dtype: 'int64', shape: [1] },
  ];

  async function writeSet(k: number, files: Record<string, Uint8Array>): Promise<void> {
    const set = join(dir, `test_data_set_${k}`);
    await mkdir(set);
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(set, name), bytes);
  }

  it('feeds input_<i>.pb to the i-th input, sets in natural order, ignoring outputs', async () => {
    for (const k of [11, 3]) {
      await writeSet(k, {
        'input_0.pb': tensorProto('whatever', f32([1, 3], k)),
        'input_1.pb': tensorProto('steps', { dtype: 'int64', shape: [1], data: BigInt64Array.of(BigInt(k)) }),
        'output_0.pb': tensorProto('y', f32([1], 0)),
      });
    }
    const records = await collect(readCalibrationDir(dir, inputs));
    expect(records.map((r) => r.source)).toEqual([
      join(dir, 'test_data_set_3'),
      join(dir, 'test_data_set_11'),
    ]);
    expect(Array.from(records[1]!.sample.x!.data as Float32Array)).toEqual([11, 11.25, 11.5]);
    expect(Array.from(records[1]!.sample.steps!.data as BigInt64Array)).toEqual([11n]);
    expect(await countCalibrationSamples(dir)).toBe(2);
  });

  it('names the missing input file and the file with a bad shape', async () => {
    await writeSet(0, { 'input_0.pb': tensorProto('x', f32([1, 3], 0)) });
    const missing = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(missing.message).toMatch(/test_data_set_0: input_1\.pb is missing; it feeds model input "steps"/);
    const second = join(dir, 'test_data_set_0', 'input_1.pb');
    await writeFile(
      second,
      tensorProto('s', { dtype: 'int64', shape: [1, 2], data: BigInt64Array.of(1n, 2n) }),
    );
    const shape = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(shape.message).toBe(`${second}: input "steps" expects shape [1], got [1, 2]`);
    await writeFile(second, tensorProto('s', f32([1], 0)));
    const dtype = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(dtype.message).toBe(`${second}: input "steps" expects int64 data, got float32 (shape [1])`);
    await writeFile(second, tensorProto('s', { dtype: 'int64', shape: [1], data: BigInt64Array.of(1n) }));
    await writeFile(join(dir, 'test_data_set_0', 'input_2.pb'), tensorProto('s', f32([1], 0)));
    const extra = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(extra.message).toMatch(/input_2\.pb: the model has 2 input\(s\)/);
  });

  it('reports a corrupt TensorProto as calibration data naming the file', async () => {
    await writeSet(0, {
      'input_0.pb': Uint8Array.of(0x0a, 0xff, 0xff, 0xff),
      'input_1.pb': new Uint8Array(0),
    });
    const error = await asyncQuantErrorOf(collect(readCalibrationDir(dir, inputs)));
    expect(error.code).toBe('CALIBRATION_DATA');
    expect(error.message).toContain('input_0.pb');
  });
});

describe('calibration folder errors', () => {
  it('reports a missing folder as NOT_FOUND naming it', async () => {
    const missing = join(dir, 'nope');
    const error = await asyncQuantErrorOf(collect(readCalibrationDir(missing, single)));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain(missing);
    expect((await asyncQuantErrorOf(hashCalibrationDir(missing))).code).toBe('NOT_FOUND');
    expect((await asyncQuantErrorOf(countCalibrationSamples(missing))).code).toBe('NOT_FOUND');
  });

  it('lists the accepted layouts for empty or unrecognisable folders', async () => {
    const empty = await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)));
    expect(empty.code).toBe('CALIBRATION_DATA');
    expect(empty.message).toMatch(
      /it is empty.*test_data_set_\*\/input_<i>\.pb.*\*\.npy.*<sample>\/<input_name>\.npy/,
    );
    await writeFile(join(dir, 'data.csv'), '1,2');
    expect((await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)))).message).toMatch(
      /no recognisable files/,
    );
    const file = join(dir, 'data.csv');
    expect((await asyncQuantErrorOf(collect(readCalibrationDir(file, single)))).message).toMatch(/is a file/);
  });

  it('refuses mixed layouts and bad limits', async () => {
    await writeFile(join(dir, 'a.npy'), encodeNpy(f32([1, 4], 0)));
    await mkdir(join(dir, 'test_data_set_0'));
    await writeFile(join(dir, 'test_data_set_0', 'input_0.pb'), new Uint8Array(0));
    const mixed = await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)));
    // Both files are named, so the user sees which two disagree.
    expect(mixed.message).toContain(
      `${join(dir, 'test_data_set_0', 'input_0.pb')} (onnx-test-data) and ${join(dir, 'a.npy')} (npy-files)`,
    );
    await rm(join(dir, 'test_data_set_0'), { recursive: true });
    expect((await asyncQuantErrorOf(collect(readCalibrationDir(dir, single, { limit: 0 })))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('reads DIR/test_data_set_0/x.npy by its files, not its folder name', async () => {
    await mkdir(join(dir, 'test_data_set_0'));
    await writeFile(join(dir, 'test_data_set_0', 'x.npy'), encodeNpy(f32([1, 4], 3)));
    const samples = await collect(readCalibrationDir(dir, single));
    expect(samples).toHaveLength(1);
  });

  it('refuses a sample folder holding both .pb and .npy files, naming both', async () => {
    await mkdir(join(dir, 's0'));
    await writeFile(join(dir, 's0', 'input_0.pb'), new Uint8Array(0));
    await writeFile(join(dir, 's0', 'x.npy'), encodeNpy(f32([1, 4], 0)));
    const error = await asyncQuantErrorOf(collect(readCalibrationDir(dir, single)));
    expect(error.code).toBe('CALIBRATION_DATA');
    expect(error.message).toContain(
      `${join(dir, 's0', 'input_0.pb')} (ONNX test data) and ${join(dir, 's0', 'x.npy')} (.npy)`,
    );
  });

  it('follows symlinked sample folders', async () => {
    const target = await mkdtemp(join(tmpdir(), 'quantkit-calib-target-'));
    try {
      await writeFile(join(target, 'x.npy'), encodeNpy(f32([1, 4], 0)));
      await symlink(target, join(dir, 'linked'));
      expect((await collect(readCalibrationDir(dir, single))).length).toBe(1);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});

describe('hashCalibrationDir', () => {
  it('changes with content, names and new files, not with the folder location', async () => {
    await mkdir(join(dir, 'a', 'nested'), { recursive: true });
    await writeFile(join(dir, 'a', 'one.npy'), encodeNpy(f32([2], 0)));
    await writeFile(join(dir, 'a', 'nested', 'two.npy'), encodeNpy(f32([2], 1)));
    await mkdir(join(dir, 'b', 'nested'), { recursive: true });
    await writeFile(join(dir, 'b', 'nested', 'two.npy'), encodeNpy(f32([2], 1)));
    await writeFile(join(dir, 'b', 'one.npy'), encodeNpy(f32([2], 0)));
    await writeFile(join(dir, 'b', '.DS_Store'), 'x');
    const a = await hashCalibrationDir(join(dir, 'a'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashCalibrationDir(join(dir, 'b'))).toBe(a);
    await writeFile(join(dir, 'b', 'one.npy'), encodeNpy(f32([2], 5)));
    const edited = await hashCalibrationDir(join(dir, 'b'));
    expect(edited).not.toBe(a);
    await writeFile(join(dir, 'b', 'one.npy'), encodeNpy(f32([2], 0)));
    await writeFile(join(dir, 'b', 'three.npy'), new Uint8Array(0));
    const added = await hashCalibrationDir(join(dir, 'b'));
    expect(added).not.toBe(a);
    await rm(join(dir, 'b', 'three.npy'));
    await writeFile(join(dir, 'b', 'nested', 'two.npy'), new Uint8Array(0));
    await writeFile(join(dir, 'b', 'nested', 'twoo.npy'), encodeNpy(f32([2], 1)));
    await rm(join(dir, 'b', 'nested', 'two.npy'));
    expect(await hashCalibrationDir(join(dir, 'b'))).not.toBe(a);
  });

  it('terminates on symlink cycles', async () => {
    await mkdir(join(dir, 'c'));
    await writeFile(join(dir, 'c', 'one.npy'), encodeNpy(f32([2], 0)));
    await symlink(join(dir, 'c'), join(dir, 'c', 'loop'));
    expect(await hashCalibrationDir(join(dir, 'c'))).toMatch(/^[0-9a-f]{64}$/);
  });
});
