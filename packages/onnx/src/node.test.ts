import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { floatTensor, maxAbsDiff, runOrt } from '@quantkit/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from './model.js';
import { createModel } from './model-builder.js';
import { readModelFile, readTensorFile, writeFileAtomic, writeModelFile } from './node.js';
import { type ModelProto, onnxTypes } from './onnx-schema.js';
import { isPagedTensor } from './paged-tensor.js';
import { encodeTensor } from './tensor-proto.js';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'quantkit-onnx-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function expectCode(promise: Promise<unknown>, code: string, text: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(QuantError.is(error), String(error)).toBe(true);
    expect((error as QuantError).code).toBe(code);
    expect((error as Error).message).toContain(text);
    return;
  }
  throw new Error(`expected QuantError ${code}`);
}

function mlp(big: number) {
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', [1, big]]],
    outputs: [['y', 'float32', [1, 8]]],
    initializers: {
      w1: floatTensor([big, big], 1),
      w2: floatTensor([big, 8], 2),
      b: floatTensor([8], 3),
    },
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { opType: 'MatMul', inputs: ['h', 'w2'], outputs: ['m'] },
      { opType: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
    ],
  });
}

describe('readModelFile / writeModelFile', () => {
  it('writes atomically and reads back', async () => {
    const path = join(folder, 'model.onnx');
    const model = mlp(16);
    await writeModelFile(path, model);
    expect(await readdir(folder)).toEqual(['model.onnx']);
    const read = await readModelFile(path);
    expect(encodeModel(read)).toEqual(encodeModel(model));
  });

  it('reports missing and invalid files by name', async () => {
    await expectCode(readModelFile(join(folder, 'missing.onnx')), 'NOT_FOUND', 'missing.onnx');
    const junk = join(folder, 'junk.onnx');
    await writeFile(junk, 'definitely not protobuf');
    await expectCode(readModelFile(junk), 'INVALID_MODEL', 'junk.onnx');
    await expectCode(writeModelFile(join(folder, 'no', 'such', 'dir.onnx'), mlp(4)), 'NOT_FOUND', 'dir.onnx');
    expect(await readdir(folder)).toEqual(['junk.onnx']);
  });

  it('round-trips external data, which onnxruntime reads too', async () => {
    const model = mlp(512); // w1 is 1 MiB: aligned in the data file
    const path = join(folder, 'big.onnx');
    await writeModelFile(path, model, { externalData: true });
    expect((await readdir(folder)).sort()).toEqual(['big.onnx', 'big.onnx.data']);
    const modelBytes = await readFile(path);
    expect(modelBytes.length).toBeLessThan(10_000);
    const proto = onnxTypes.ModelProto.toObject(onnxTypes.ModelProto.decode(modelBytes)) as ModelProto;
    const initializers = proto.graph!.initializer!;
    const w2 = initializers.find((t) => t.name === 'w2')!;
    expect(w2.data_location).toBe(1);
    const offsetOf = (name: string) =>
      Number(
        initializers.find((t) => t.name === name)!.external_data!.find((e) => e.key === 'offset')!.value,
      );
    expect(offsetOf('w1')).toBe(0);
    expect(offsetOf('w2')).toBe(512 * 512 * 4);
    // b (32 bytes) stays inline under the 1024-byte threshold.
    expect(initializers.find((t) => t.name === 'b')!.data_location ?? 0).toBe(0);

    const read = await readModelFile(path);
    expect([...read.graph.initializers.keys()]).toEqual(['w1', 'w2', 'b']);
    for (const [name, tensor] of model.graph.initializers) {
      const back = read.graph.initializers.get(name)!;
      expect(back.shape).toEqual(tensor.shape);
      expect(maxAbsDiff(back.data, tensor.data)).toBe(0);
    }
    const feeds = { x: floatTensor([1, 512], 4) };
    const fromFile = await runOrt(path, feeds);
    const inline = await runOrt(encodeModel(model), feeds);
    expect(maxAbsDiff(fromFile['y']!.data, inline['y']!.data)).toBe(0);
  });

  it('leaves tensors of 1 MiB or more in the data file until used, and writes them from it', async () => {
    const model = mlp(512); // w1: 1 MiB, w2: 16 KiB, b: inline
    const path = join(folder, 'big.onnx');
    await writeModelFile(path, model, { externalData: true });
    const read = await readModelFile(path);
    const paged = [...read.graph.initializers].filter(([, t]) => isPagedTensor(t)).map(([name]) => name);
    expect(paged).toEqual(['w1']);
    const eager = await readModelFile(path, { eager: true });
    expect([...eager.graph.initializers.values()].some(isPagedTensor)).toBe(false);
    expect(
      maxAbsDiff(read.graph.initializers.get('w1')!.data, model.graph.initializers.get('w1')!.data),
    ).toBe(0);

    // Written again (with or without external data) it gives the bytes of the model it came from.
    const copy = join(folder, 'copy.onnx');
    await writeModelFile(copy, read, { externalData: true });
    expect(Buffer.compare(await readFile(`${copy}.data`), await readFile(`${path}.data`))).toBe(0);
    expect(Buffer.compare(encodeModel(read), encodeModel(model))).toBe(0);

    // The data file must stay as it is while the model is in use: a shrunk one is an error naming it.
    await writeFile(`${path}.data`, new Uint8Array(16));
    const again = await readModelFile(copy);
    expect(isPagedTensor(again.graph.initializers.get('w1')!)).toBe(true);
    await writeFile(`${copy}.data`, new Uint8Array(16));
    let error: unknown;
    try {
      void again.graph.initializers.get('w1')!.data;
    } catch (caught) {
      error = caught;
    }
    expect(
      QuantError.is(error) && error.code === 'IO_ERROR' && error.message.includes('copy.onnx.data'),
    ).toBe(true);
  });

  it('honours a custom location and threshold, aligning large tensors', async () => {
    const model = mlp(520);
    const { w1, w2, b } = Object.fromEntries(model.graph.initializers);
    // Small tensors first, so the 1 MiB one has to be moved up to a 4096-byte boundary.
    model.graph.initializers = new Map([
      ['b', b!],
      ['w2', w2!],
      ['w1', w1!],
    ]);
    const path = join(folder, 'm.onnx');
    await writeModelFile(path, model, { externalData: { threshold: 16, location: 'weights.bin' } });
    const proto = onnxTypes.ModelProto.decode(await readFile(path)) as unknown as ModelProto;
    const entries = proto.graph!.initializer!.map((t) =>
      Object.fromEntries((t.external_data ?? []).map((e) => [e.key, e.value])),
    );
    expect(entries.map((e) => e['location'])).toEqual(['weights.bin', 'weights.bin', 'weights.bin']);
    // b: 32 bytes at 0; w2: 520*8*4 = 16640 bytes at 32 (ends at 16672); w1: 1 081 600 bytes at 5 * 4096.
    expect(entries.map((e) => Number(e['offset']))).toEqual([0, 32, 20480]);
    expect(entries.map((e) => Number(e['length']))).toEqual([32, 16640, 1081600]);
    expect((await stat(join(folder, 'weights.bin'))).size).toBe(20480 + 1081600);
    const read = await readModelFile(path);
    expect(Buffer.compare(encodeModel(read), encodeModel(model))).toBe(0);
    await expectCode(
      writeModelFile(path, model, { externalData: { location: '../escape.bin' } }),
      'INVALID_ARGUMENT',
      'escape.bin',
    );
  });

  it('refuses external data outside the model folder and reports missing data files', async () => {
    const model = mlp(16);
    const proto = onnxTypes.ModelProto.decode(encodeModel(model)) as unknown as ModelProto;
    const w1 = proto.graph!.initializer!.find((t) => t.name === 'w1')!;
    delete w1.raw_data;
    w1.data_location = 1;
    w1.external_data = [{ key: 'location', value: '../outside.bin' }];
    const path = join(folder, 'evil.onnx');
    await writeFile(path, onnxTypes.ModelProto.encode(proto).finish());
    await expectCode(readModelFile(path), 'INVALID_MODEL', '../outside.bin');
    w1.external_data = [{ key: 'location', value: 'gone.bin' }];
    await writeFile(path, onnxTypes.ModelProto.encode(proto).finish());
    await expectCode(readModelFile(path), 'NOT_FOUND', 'gone.bin');
    await writeFile(join(folder, 'gone.bin'), new Uint8Array(10));
    await expectCode(readModelFile(path), 'INVALID_MODEL', 'gone.bin');
    // decodeModel without a loader cannot resolve it.
    await expectCode(
      (async () => decodeModel(new Uint8Array(await readFile(path)), path))(),
      'UNSUPPORTED',
      'gone.bin',
    );
  });
});

describe('writeFileAtomic', () => {
  it('leaves the old file and no temporary file when writing fails', async () => {
    const path = join(folder, 'out.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    const failure = writeFileAtomic(path, async (write) => {
      await write(new Uint8Array(1000));
      throw new QuantError('INTERNAL', 'writer broke');
    });
    await expectCode(failure, 'INTERNAL', 'writer broke');
    expect(await readdir(folder)).toEqual(['out.bin']);
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, async (write) => {
      await write(new Uint8Array([4]));
      await write(new Uint8Array([5, 6]));
    });
    expect([...(await readFile(path))]).toEqual([4, 5, 6]);
  });
});

describe('readTensorFile', () => {
  it('reads ONNX test-data .pb files', async () => {
    const path = join(folder, 'input_0.pb');
    const tensor = floatTensor([1, 3], 11);
    await writeFile(path, encodeTensor('input', tensor));
    expect(await readTensorFile(path)).toEqual({ ...tensor, name: 'input' });
    await expectCode(readTensorFile(join(folder, 'input_9.pb')), 'NOT_FOUND', 'input_9.pb');
  });
});

describe('opaque tensors in external data', () => {
  it('reads a uint64 initializer from the data file into the model, so a copy elsewhere does not point back', async () => {
    const root = await mkdtemp(join(tmpdir(), 'quantkit-opaque-'));
    try {
      const a = join(root, 'a');
      const b = join(root, 'b');
      await Promise.all([mkdir(a), mkdir(b)]);
      const model = createModel({
        opset: 13,
        inputs: [['x', 'float32', [1]]],
        outputs: [['y', 'float32', [1]]],
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      });
      const bytes = new Uint8Array(2400).map((_, i) => i % 251);
      model.graph.opaqueInitializers.set('big', {
        name: 'big',
        data_type: 13,
        dims: [300],
        data_location: 1,
        external_data: [
          { key: 'location', value: 'm.onnx.data' },
          { key: 'offset', value: '0' },
          { key: 'length', value: '2400' },
        ],
      });
      await writeFile(join(a, 'm.onnx'), encodeModel(model));
      await writeFile(join(a, 'm.onnx.data'), bytes);
      const loaded = await readModelFile(join(a, 'm.onnx'));
      await writeModelFile(join(b, 'out.onnx'), loaded);
      const copy = decodeModel(new Uint8Array(await readFile(join(b, 'out.onnx'))));
      const big = copy.graph.opaqueInitializers.get('big')!;
      expect(big.data_location ?? 0).toBe(0);
      expect(Array.from(big.raw_data!)).toEqual(Array.from(bytes));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
