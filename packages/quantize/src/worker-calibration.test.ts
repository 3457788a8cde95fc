// Runs against the built package: the worker script is dist/calibration-worker.js, loaded by path.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { quantizeFile } from '../dist/node.js';
import { cnnModel, createRandom, mlpModel } from './test-models.js';

const dir = mkdtempSync(join(tmpdir(), 'quantkit-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('calibration on worker threads', () => {
  const test = cnnModel(51);
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(test.model));
  const calib = join(dir, 'calib');
  const random = createRandom(4);
  rmSync(calib, { recursive: true, force: true });
  mkdirSync(calib);
  for (let i = 0; i < 7; i++) writeFileSync(join(calib, `s${i}.npy`), encodeNpy(test.sample(random).image!));
  const executor = createOrtExecutor(ort, { name: 'ort-node' });

  it('merges worker observers into the same model one thread writes', async () => {
    const progress: number[] = [];
    const threads: number[] = [];
    for (const [workers, name] of [
      [1, 'one.onnx'],
      [3, 'three.onnx'],
    ] as const) {
      const result = await quantizeFile(modelPath, join(dir, name), {
        mode: 'static',
        executor,
        calibrationDir: calib,
        calibrationWorkers: workers,
        maxTensorsPerPass: 2,
        onProgress: (event) => workers === 3 && progress.push(event.done),
      });
      threads.push(result.summary.calibrationThreads);
    }
    expect(threads).toEqual([1, 3]);
    expect(readFileSync(join(dir, 'three.onnx')).equals(readFileSync(join(dir, 'one.onnx')))).toBe(true);
    // Every sample run of every pass reported, across all workers.
    expect(progress.length % 7).toBe(0);
    expect(progress.length).toBeGreaterThan(7);
  });

  // An MLP with a symbolic batch dimension, so samples can be batched; one sample is an outlier, so an observer
  // that weighs batches by their order would see it.
  const mlp = mlpModel(52, 32);
  const mlpPath = join(dir, 'mlp.onnx');
  writeFileSync(mlpPath, encodeModel(mlp.model));
  const mlpCalib = join(dir, 'mlp-calib');
  mkdirSync(mlpCalib);
  for (let i = 0; i < 7; i++) {
    const sample = mlp.sample(random).x!;
    const data = Float32Array.from(sample.data as Float32Array, (v) => v * (i === 5 ? 8 : 1 + i / 7));
    writeFileSync(join(mlpCalib, `s${i}.npy`), encodeNpy({ ...sample, data }));
  }

  // Found by a reliability campaign: moving-average wrote a different model for 1, 2 and 3 workers, and the CLI
  // takes the worker count from the machine's cores. Every observer, with and without batching, must give one model.
  it.each([
    ['minmax', 1],
    ['moving-average', 1],
    ['moving-average', 2],
    ['percentile', 1],
    ['entropy', 1],
    ['mse', 2],
  ])('writes the same %s model (batch %i) for 1, 2 and 3 workers', async (method, batch) => {
    const written: Buffer[] = [];
    for (const workers of [1, 2, 3]) {
      const output = join(dir, `${method}-${batch}-${workers}.onnx`);
      const result = await quantizeFile(mlpPath, output, {
        mode: 'static',
        executor,
        calibrationDir: mlpCalib,
        calibrationMethod: method,
        calibrationBatch: batch,
        calibrationWorkers: workers,
      });
      expect(result.summary.calibrationThreads).toBe(Math.min(workers, Math.ceil(7 / batch)));
      written.push(readFileSync(output));
    }
    expect(written[1]!.equals(written[0]!), '2 workers vs 1').toBe(true);
    expect(written[2]!.equals(written[0]!), '3 workers vs 1').toBe(true);
  });
});
