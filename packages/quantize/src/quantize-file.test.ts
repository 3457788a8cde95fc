import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import { readModelFile, writeModelFile } from '@quantkit/onnx/node';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { compareTensors } from './metrics.js';
import { quantizeFile } from './node.js';
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
