import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { createPrng } from '../random-samples.js';
import { makeTempDir, runCli, wakeWordModelPath } from '../testing/cli-harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  await copyFile(wakeWordModelPath(), join(dir, 'model.onnx'));
});
afterEach(async () => cleanup());

describe('quantkit compare', () => {
  it('finds a model identical to itself on random inputs, and says the inputs were random', async () => {
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--samples', '3'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/3 random samples \(seed 1;.*symbolic dims set to 1/);
    expect(run.stdout).toMatch(/^\s+39\s+inf\s+1\.000000\s+0\.000000/m);
  });

  it('reads --data in the calibration layout and prints one JSON object with --json', async () => {
    const data = join(dir, 'data');
    await mkdir(data);
    const next = createPrng(3);
    // One file holding a batch of 2 samples: the model's fixed batch of 1 takes it in two runs.
    await writeFile(
      join(data, 'batch.npy'),
      encodeNpy({
        dtype: 'float32',
        shape: [2, 25, 96],
        data: Float32Array.from({ length: 2 * 25 * 96 }, () => next() - 0.5),
      }),
    );
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--data', 'data', '--json'], {
      cwd: dir,
    });
    expect(run.stderr).toBe('');
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.data.kind).toBe('folder');
    expect(report.samples).toBe(2);
    // JSON has no Infinity; the CLI writes it as a string rather than a misleading null.
    expect(report.outputs).toEqual([
      { output: '39', sqnr: 'Infinity', cosine: 1, maxAbsError: 0, top1Agreement: null, samples: 2 },
    ]);
  });

  it('refuses a missing --data folder with exit 5', async () => {
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--data', 'nowhere'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.NOT_FOUND);
    expect(run.stderr).toMatch(/^quantkit: error: data folder .*nowhere does not exist\n$/);
  });

  it('refuses a candidate that is not ONNX with exit 3', async () => {
    await writeFile(join(dir, 'junk.onnx'), 'not a model');
    const run = await runCli(['compare', 'model.onnx', 'junk.onnx'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_MODEL);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('refuses --samples 0', async () => {
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--samples', '0'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stderr).toMatch(/--samples must be an integer >= 1, got "0"/);
  });
});
