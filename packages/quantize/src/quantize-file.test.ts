import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel, isPagedTensor } from '@quantkit/onnx';
import { readModelFile, writeModelFile } from '@quantkit/onnx/node';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { compareTensors } from './metrics.js';
import { quantizeFile } from './node.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, mlpModel } from './test-models.js';

const dir = mkdtempSync(join(tmpdir(), 'quantkit-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('quantizeFile', () => {
  it('reads weights from external data and writes the output the same way', async () => {
    const test = mlpModel(151, 128);
    const input = join(dir, 'external.onnx');
    await writeModelFile(input, test.model, { externalData: true });
    expect(readFileSync(input).length).toBeLessThan(10_000);
    const output = join(dir, 'external.int8.onnx');
    await quantizeFile(input, output, { mode: 'weight-only' });
    const written = await readModelFile(output);
    expect([...written.graph.initializers.values()].some((t) => t.dtype === 'int8')).toBe(true);
    // onnxruntime loads the output from its path, data file and all, and computes what the float model does.
    const session = await ort.InferenceSession.create(output);
    const feeds = test.sample(createRandom(1));
    const got = (await session.run({ x: new ort.Tensor('float32', feeds.x!.data as Float32Array, [4, 64]) }))
      .y!;
    const reference = await executor.createSession(encodeModel(test.model));
    const expected = (await reference.run(feeds)).y!;
    await reference.dispose();
    const metrics = compareTensors(expected, {
      dtype: 'float32',
      shape: [...got.dims],
      data: got.data as Float32Array,
    });
    expect(metrics.sqnr).toBeGreaterThan(30);
  });

  it('quantizes a model whose weights stay in their data file into the model a fully read one gives', async () => {
    const test = mlpModel(153, 512); // w2 (1 MiB) stays in the data file until quantized
    const input = join(dir, 'paged.onnx');
    await writeModelFile(input, test.model, { externalData: true });
    const inputFiles = [readFileSync(input), readFileSync(`${input}.data`)];
    const paged = await readModelFile(input);
    expect(isPagedTensor(paged.graph.initializers.get('w2')!)).toBe(true);
    for (const mode of ['weight-only', 'dynamic'] as const) {
      const output = join(dir, `paged.${mode}.onnx`);
      const result = await quantizeFile(input, output, { mode, executor, force: true });
      expect(result.summary.verification?.verified, mode).toBe(true);
      const eager = await readModelFile(input, { eager: true });
      const expected = await quantizeModel(eager, { mode, executor, verify: false });
      const written = await readModelFile(output, { eager: true });
      expect(Buffer.compare(encodeModel(written), expected.bytes), mode).toBe(0);
      // Sizes are the files': model plus data file.
      const size = (path: string) => statSync(path).size + statSync(`${path}.data`).size;
      expect(result.summary.sizeBefore).toBe(size(input));
      expect(result.summary.sizeAfter).toBe(size(output));
    }
    expect([readFileSync(input), readFileSync(`${input}.data`)]).toEqual(inputFiles);
  }, 30_000);

  it('never writes over a file the run reads, and checks output folders before any work', async () => {
    const input = join(dir, 'plain.onnx');
    writeFileSync(input, encodeModel(mlpModel(152, 32).model));
    const overrides = join(dir, 'overrides.json');
    writeFileSync(overrides, '{"nodes": {}}');
    const refused = (promise: Promise<unknown>, code: string, pattern: RegExp) =>
      expect(promise).rejects.toSatisfy(
        (error) => QuantError.is(error) && error.code === code && pattern.test(error.message),
      );
    await refused(
      quantizeFile(input, overrides, { mode: 'dynamic', overrides, force: true }),
      'OUTPUT_CONFLICT',
      /overrides file/,
    );
    expect(readFileSync(overrides, 'utf8')).toBe('{"nodes": {}}');
    await refused(
      quantizeFile(input, join(dir, 'missing', 'q.onnx'), { mode: 'dynamic' }),
      'IO_ERROR',
      /not an existing folder/,
    );
    await refused(
      quantizeFile(input, join(dir, 'q.onnx'), { mode: 'dynamic', saveCalibration: join(dir, 'r.json') }),
      'INVALID_ARGUMENT',
      /mode "static"/,
    );
  });
});
