// Runs against the built package: the worker script is dist/calibration-worker.js, loaded by path.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeNpy } from '@quantkit/calibration';
import type { ExecutorPlugin, ObserverPlugin } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../dist/index.js';
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

  // A plugin observer from a module, as --plugin loads it: min-max widened by a quarter on each side, so its model
  // differs from the built-in's, and nothing built in could stand in for it on a worker.
  const pluginPath = join(dir, 'wide-minmax.mjs');
  writeFileSync(
    pluginPath,
    `const state = (options, batches, min, max) => ({ observer: 'wide-minmax', version: 1, batches,
  options: { granularity: 'tensor', symmetric: options.symmetric ?? false }, arrays: { min: [min], max: [max] } });
function make(options, batches, min, max) {
  return {
    get batches() { return batches; },
    observe(values) {
      for (let i = 0; i < values.length; i++) { min = Math.min(min, values[i]); max = Math.max(max, values[i]); }
      batches++;
    },
    range() {
      const pad = (max - min) / 4;
      return { min: Float32Array.of(Math.min(min - pad, 0)), max: Float32Array.of(Math.max(max + pad, 0)) };
    },
    saveState: () => state(options, batches, min, max),
    merge(other) { batches += other.batches; min = Math.min(min, other.arrays.min[0]); max = Math.max(max, other.arrays.max[0]); },
  };
}
export default {
  kind: 'observer', name: 'wide-minmax', apiVersion: 1,
  create: (options = {}) => make(options, 0, Infinity, -Infinity),
  restore: (saved) => make(saved.options, saved.batches, saved.arrays.min[0], saved.arrays.max[0]),
};
`,
  );

  it('runs a plugin observer from a module on the workers, and an executor they cannot load on this thread', async () => {
    const plugin = ((await import(pathToFileURL(pluginPath).href)) as { default: ObserverPlugin }).default;
    const registry = createDefaultRegistry([plugin]);
    const quantize = async (name: string, workers: number, runner: ExecutorPlugin, withModule = true) =>
      quantizeFile(mlpPath, join(dir, name), {
        mode: 'static',
        executor: runner,
        registry,
        calibrationDir: mlpCalib,
        calibrationMethod: 'wide-minmax',
        calibrationWorkers: workers,
        ...(withModule && { pluginModules: [pluginPath] }),
      });
    const one = await quantize('wide-1.onnx', 1, executor);
    const three = await quantize('wide-3.onnx', 3, executor);
    expect(three.summary.calibrationThreads).toBe(3);
    expect(readFileSync(join(dir, 'wide-3.onnx')).equals(readFileSync(join(dir, 'wide-1.onnx')))).toBe(true);
    const builtin = await quantizeFile(mlpPath, join(dir, 'builtin.onnx'), {
      mode: 'static',
      executor,
      calibrationDir: mlpCalib,
      calibrationWorkers: 1,
    });
    // The plugin's ranges made a model of their own, so the workers cannot have used a built-in.
    expect(Buffer.from(builtin.bytes).equals(Buffer.from(one.bytes))).toBe(false);
    // Without the module the workers could not find the observer: one thread calibrates, with the same result.
    const unshared = await quantize('wide-unshared.onnx', 3, executor, false);
    expect(unshared.summary.calibrationThreads).toBe(1);
    expect(readFileSync(join(dir, 'wide-unshared.onnx')).equals(readFileSync(join(dir, 'wide-1.onnx')))).toBe(
      true,
    );
    // An executor no worker can build by name runs here, and is the one that runs.
    let sessions = 0;
    const counting: ExecutorPlugin = {
      ...executor,
      name: 'counting-executor',
      createSession: (...args) => {
        sessions++;
        return executor.createSession(...args);
      },
    };
    const injected = await quantize('wide-injected.onnx', 3, counting);
    expect(injected.summary.calibrationThreads).toBe(1);
    expect(sessions).toBeGreaterThan(0);
  });
});
