// A run never replaces a file it reads: the model, its external data, calibration files, overrides, caches. Found
// by a reliability campaign: a model exported as model.onnx + model.onnx.data, renamed to model_fp32.onnx and
// quantized to -o model.onnx lost its fp32 weights (the output's data file is model.onnx.data too).
import { createHash } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import { readModelFile, writeModelFile } from '@quantkit/onnx/node';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { quantizeFile } from './node.js';
import { createRandom, mlpModel } from './test-models.js';

const root = mkdtempSync(join(tmpdir(), 'quantkit-safety-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const executor = createOrtExecutor(ort, { name: 'ort-node' });
const test = mlpModel(153, 128);

let dir: string;
let counter = 0;
beforeEach(() => {
  dir = join(root, `case-${counter++}`);
  mkdirSync(dir);
});

function hashes(folder: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of readdirSync(folder, { recursive: true }) as string[]) {
    const path = join(folder, name);
    try {
      result[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
    } catch {
      result[name] = 'folder';
    }
  }
  return result;
}

async function refused(run: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(QuantError.is(error) && error.code, String(error)).toBe('OUTPUT_CONFLICT');
  expect((error as Error).message).toMatch(pattern);
}

/** model.onnx + model.onnx.data, as exporters write them, renamed to model_fp32.onnx. */
async function renamedExport(): Promise<string> {
  await writeModelFile(join(dir, 'model.onnx'), test.model, { externalData: true });
  renameSync(join(dir, 'model.onnx'), join(dir, 'model_fp32.onnx'));
  return join(dir, 'model_fp32.onnx');
}

describe('quantizeFile never replaces what it reads', () => {
  it('refuses an output whose external data file is the input model data, with and without force', async () => {
    const input = await renamedExport();
    const before = hashes(dir);
    for (const force of [false, true]) {
      await refused(
        quantizeFile(input, join(dir, 'model.onnx'), { mode: 'weight-only', force }),
        /external data of the output ".*model\.onnx\.data" would replace the external data of the input model/,
      );
    }
    expect(hashes(dir)).toEqual(before);
    // The input still loads, weights and all.
    expect((await readModelFile(input)).graph.initializers.get('w2')!.data).toEqual(
      test.model.graph.initializers.get('w2')!.data,
    );
    // Another name works, and leaves the input as it was.
    await quantizeFile(input, join(dir, 'model.int8.onnx'), { mode: 'weight-only' });
    const after = hashes(dir);
    for (const name of Object.keys(before)) expect(after[name]).toBe(before[name]);
  });

  it('refuses -o naming the input model data file, even with force', async () => {
    const input = await renamedExport();
    const before = hashes(dir);
    await refused(
      quantizeFile(input, join(dir, 'model.onnx.data'), { mode: 'weight-only', force: true }),
      /output ".*model\.onnx\.data" would replace the external data of the input model/,
    );
    expect(hashes(dir)).toEqual(before);
  });

  it('replaces an unrelated existing <output>.data only with force', async () => {
    const input = join(dir, 'a.onnx');
    await writeModelFile(input, test.model, { externalData: true });
    writeFileSync(join(dir, 'b.onnx.data'), 'precious');
    await refused(
      quantizeFile(input, join(dir, 'b.onnx'), { mode: 'weight-only' }),
      /external data of the output ".*b\.onnx\.data" already exists; pass force/,
    );
    expect(readFileSync(join(dir, 'b.onnx.data'), 'utf8')).toBe('precious');
    expect(readdirSync(dir).sort()).toEqual(['a.onnx', 'a.onnx.data', 'b.onnx.data']);
    await quantizeFile(input, join(dir, 'b.onnx'), { mode: 'weight-only', force: true });
    expect(readFileSync(join(dir, 'b.onnx.data')).length).toBeGreaterThan(1000);
  });

  it('refuses an output, report or cache that is one of the calibration files, even with force', async () => {
    const input = join(dir, 'mlp.onnx');
    writeFileSync(input, encodeModel(test.model));
    const calib = join(dir, 'calib');
    mkdirSync(join(calib, 'test_data_set_0'), { recursive: true });
    const random = createRandom(5);
    writeFileSync(join(calib, 'a.npy'), encodeNpy(test.sample(random).x!));
    writeFileSync(join(calib, 'b.npy'), encodeNpy(test.sample(random).x!));
    const before = hashes(dir);
    const base = { mode: 'static', executor, calibrationDir: calib, force: true } as const;
    await refused(
      quantizeFile(input, join(calib, 'a.npy'), base),
      /output ".*a\.npy" would replace the calibration file ".*a\.npy", which this run reads/,
    );
    await refused(
      quantizeFile(input, join(dir, 'q.onnx'), { ...base, report: join(calib, 'b.npy') }),
      /report ".*b\.npy" would replace the calibration file/,
    );
    await refused(
      quantizeFile(input, join(dir, 'q.onnx'), { ...base, saveCalibration: join(calib, 'b.npy') }),
      /calibration cache ".*b\.npy" would replace the calibration file/,
    );
    // Dynamic mode reads the folder too (to check the written model on its first sample).
    await refused(
      quantizeFile(input, join(calib, 'b.npy'), { ...base, mode: 'dynamic' }),
      /would replace the calibration file/,
    );
    expect(hashes(dir)).toEqual(before);
  });

  it('sees through symbolic and hard links to what the run reads', async () => {
    const input = await renamedExport();
    symlinkSync(join(dir, 'model_fp32.onnx'), join(dir, 'link.onnx'));
    linkSync(join(dir, 'model.onnx.data'), join(dir, 'hard.data'));
    const before = hashes(dir);
    await refused(
      quantizeFile(input, join(dir, 'link.onnx'), { mode: 'weight-only', force: true }),
      /output ".*link\.onnx" would replace the input model/,
    );
    await refused(
      quantizeFile(input, join(dir, 'hard.data'), { mode: 'weight-only', force: true }),
      /would replace the external data of the input model/,
    );
    expect(hashes(dir)).toEqual(before);
  });
});
