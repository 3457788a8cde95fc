import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { modelFingerprint, parseCalibrationCache } from './calibration-cache.js';
import { quantizeModel } from './quantize-model.js';
import { attentionModel, cnnModel, createRandom, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('calibration cache', () => {
  const test = cnnModel(21);
  const random = createRandom(5);
  const samples = Array.from({ length: 12 }, () => test.sample(random));

  it('save-then-load writes a model byte-identical to the one calibrated from data', async () => {
    const calibrated = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
      calibrationHash: 'feedbeef',
    });
    const cache = parseCalibrationCache(
      JSON.parse(JSON.stringify(calibrated.calibrationCache)),
      'ranges.json',
    );
    expect(Object.keys(cache.tensors).length).toBeGreaterThan(3);
    const fromCache = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      calibrationCache: cache,
    });
    expect(Buffer.from(fromCache.bytes).equals(Buffer.from(calibrated.bytes))).toBe(true);
  });

  it('refuses a cache made for a different model, naming the file', async () => {
    const other = await quantizeModel(encodeModel(mlpModel().model), {
      mode: 'static',
      executor,
      calibrationData: Array.from({ length: 4 }, () => mlpModel().sample(random)),
    });
    await expect(
      quantizeModel(encodeModel(test.model), {
        mode: 'static',
        calibrationCache: other.calibrationCache!,
        calibrationCacheSource: 'mlp.json',
      }),
    ).rejects.toSatisfy(
      (error) =>
        QuantError.is(error, 'CALIBRATION_DATA') &&
        /calibration cache "mlp\.json" was made for a different model/.test(String(error)),
    );
  });

  it('refuses a cache calibrated with another method', async () => {
    const calibrated = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
    });
    const tampered = JSON.parse(JSON.stringify(calibrated.calibrationCache));
    for (const entry of Object.values(tampered.tensors) as { observer: string }[])
      entry.observer = 'percentile';
    await expect(
      quantizeModel(encodeModel(test.model), {
        mode: 'static',
        calibrationCache: parseCalibrationCache(tampered),
      }),
    ).rejects.toSatisfy(
      (error) => QuantError.is(error, 'CALIBRATION_DATA') && /calibrated with percentile/.test(String(error)),
    );
  });

  it('rejects files that are not caches', () => {
    for (const value of [null, [], { kind: 'other' }, { kind: 'quantkit-calibration-cache', version: 2 }]) {
      expect(() => parseCalibrationCache(value, 'x.json')).toThrow(/x\.json/);
    }
  });

  it('fingerprints structure, not metadata', async () => {
    const a = cnnModel(1).model;
    const b = cnnModel(2).model;
    b.metadata.set('note', 'changed');
    expect(modelFingerprint(a)).toBe(modelFingerprint(b));
    expect(modelFingerprint(a)).not.toBe(modelFingerprint(attentionModel().model));
    expect(modelFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('bounded calibration passes', () => {
  it('gives the same model when at most one tensor is fetched per pass', async () => {
    const test = attentionModel(8);
    const random = createRandom(6);
    const samples = Array.from({ length: 6 }, () => test.sample(random));
    const onePass = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: samples,
    });
    const progress: number[] = [];
    const manyPasses = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: () => samples,
      maxTensorsPerPass: 1,
      calibrationTotal: samples.length,
      onProgress: (event) => progress.push(event.done),
    });
    expect(Buffer.from(manyPasses.bytes).equals(Buffer.from(onePass.bytes))).toBe(true);
    const tensors = Object.keys(onePass.calibrationCache!.tensors).length;
    expect(progress.length).toBe(tensors * samples.length);
  });

  it('explains when a one-shot iterable cannot be read twice', async () => {
    const test = mlpModel();
    const random = createRandom(7);
    function* once() {
      for (let i = 0; i < 3; i++) yield test.sample(random);
    }
    await expect(
      quantizeModel(encodeModel(test.model), {
        mode: 'static',
        executor,
        calibrationData: once(),
        maxTensorsPerPass: 1,
      }),
    ).rejects.toSatisfy(
      (error) => QuantError.is(error, 'INVALID_ARGUMENT') && /one-shot/.test(String(error)),
    );
  });
});
