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
import { cnnModel, createRandom } from './test-models.js';

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
});
