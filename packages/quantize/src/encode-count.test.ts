// A static run encodes the model it writes and nothing else (a weight-only run of a model in external data not even that): calibration appends the values it observes to the
// input's encoding (or, after BatchNorm folding, to one encoding of the folded graph), however many passes it needs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minMaxObserver } from '@quantkit/calibration';
import { createOrtExecutor } from '@quantkit/executor-ort';
import * as onnx from '@quantkit/onnx';
import { writeModelFile } from '@quantkit/onnx/node';
import * as ort from 'onnxruntime-node';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { calibrate, graphValueNames } from './calibrate.js';
import { quantizeFile } from './node.js';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, drawSamples, mlpModel } from './test-models.js';

vi.mock('@quantkit/onnx', async (importOriginal) => {
  const original = await importOriginal<typeof onnx>();
  return { ...original, encodeModel: vi.fn(original.encodeModel) };
});

const executor = createOrtExecutor(ort, { name: 'ort-node' });
const { encodeModel } = vi.mocked(onnx);

describe('encodes per static run', () => {
  beforeEach(() => {
    encodeModel.mockClear();
  });

  it('once, the output, for a model given as bytes, with one or many calibration passes', async () => {
    const test = mlpModel(41, 64);
    const bytes = encodeModel(test.model);
    const samples = drawSamples(test, 4, 42);
    for (const maxTensorsPerPass of [64, 1]) {
      encodeModel.mockClear();
      const result = await quantizeModel(bytes, {
        mode: 'static',
        executor,
        calibrationData: samples,
        maxTensorsPerPass,
        verify: false,
      });
      expect(result.summary.nodes.some((node) => node.quantized)).toBe(true);
      expect(encodeModel).toHaveBeenCalledTimes(1);
    }
  });

  it('twice when BatchNorm was folded (the folded float graph once, for every pass) or the model came decoded', async () => {
    const test = cnnModel(43);
    const samples = drawSamples(test, 4, 44);
    const bytes = encodeModel(test.model);
    encodeModel.mockClear();
    await quantizeModel(bytes, { mode: 'static', executor, calibrationData: samples, maxTensorsPerPass: 1 });
    expect(encodeModel).toHaveBeenCalledTimes(2);
    const mlp = mlpModel(45, 64);
    encodeModel.mockClear();
    await quantizeModel(mlp.model, { mode: 'static', executor, calibrationData: drawSamples(mlp, 4, 46) });
    expect(encodeModel).toHaveBeenCalledTimes(2);
  });

  it('never, for a weight-only run of a model read with its weights left in the data file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quantkit-encodes-'));
    try {
      const input = join(dir, 'model.onnx');
      await writeModelFile(input, mlpModel(49, 512).model, { externalData: true });
      encodeModel.mockClear();
      const result = await quantizeFile(input, join(dir, 'model.int8.onnx'), {
        mode: 'weight-only',
        verify: false,
      });
      expect(result.summary.nodes.some((node) => node.quantized)).toBe(true);
      // Written tensor by tensor with external data; the model is never encoded whole.
      expect(encodeModel).toHaveBeenCalledTimes(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('observes the same ranges through the appended encoding as through a fresh encoding of each pass', async () => {
    const test = cnnModel(47);
    const samples = drawSamples(test, 4, 48);
    const { model } = test;
    const names = model.graph.nodes.flatMap((node) => node.outputs);
    const requests = names.map((name) => ({ name, observer: minMaxObserver, options: {} }));
    const options = { executor, samples, maxTensorsPerPass: 3 };
    const appended = await calibrate(model, requests, {
      ...options,
      source: { bytes: encodeModel(model), values: graphValueNames(model) },
    });
    encodeModel.mockClear();
    const fresh = await calibrate(model, requests, options);
    // Without the encoding, every pass encodes the model with its outputs exposed.
    expect(encodeModel).toHaveBeenCalledTimes(Math.ceil(names.length / 3));
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) {
      expect(appended.ranges.get(name), name).toEqual(fresh.ranges.get(name));
      expect(appended.ranges.get(name)!.max[0]).toBeGreaterThan(Number.NEGATIVE_INFINITY);
    }
  });
});
