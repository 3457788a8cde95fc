// A static run encodes the model it writes and nothing else: calibration appends the values it observes to the
// input's encoding (or, after BatchNorm folding, to one encoding of the folded graph), however many passes it needs.
import { createOrtExecutor } from '@quantkit/executor-ort';
import * as onnx from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { beforeEach, describe, expect, it, vi } from 'vitest';
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

  it('writes the same model as calibrating a fresh encoding of each pass would', async () => {
    const test = mlpModel(47, 64);
    const bytes = encodeModel(test.model);
    const samples = drawSamples(test, 4, 48);
    const one = await quantizeModel(bytes, { mode: 'static', executor, calibrationData: samples });
    // Given as a decoded model, the input is encoded once more, and calibration runs that encoding instead.
    const other = await quantizeModel(onnx.decodeModel(bytes), {
      mode: 'static',
      executor,
      calibrationData: samples,
    });
    expect(other.bytes).toEqual(one.bytes);
  });
});
