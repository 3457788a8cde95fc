// Outputs for the browser: the wasm backend of onnxruntime-web (run here in Node) must load and run them.
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createOrtWebExecutor } from '@quantkit/executor-ort/web';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from './metrics.js';
import type { QuantizeOptions } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { attentionModel, cnnModel, createRandom, mlpModel } from './test-models.js';

const calibrator = createOrtExecutor(ort, { name: 'ort-node' });
const web = createOrtWebExecutor({
  configure: (runtime) => {
    runtime.env.wasm.numThreads = 1;
  },
});

const cases: [string, Omit<QuantizeOptions, 'executor' | 'calibrationData'>, number][] = [
  ['static int8 QDQ', { mode: 'static' }, 30],
  ['static int8 QOperator', { mode: 'static', format: 'qoperator' }, 30],
  ['dynamic int8', { mode: 'dynamic' }, 30],
  ['weight-only int8', { mode: 'weight-only' }, 30],
  ['static a16w16', { mode: 'static', activationBits: 16, bits: 16 }, 45],
];

describe('onnxruntime-web (wasm backend)', () => {
  for (const [name, build] of [
    ['CNN', () => cnnModel(91)],
    ['MLP', () => mlpModel(92, 128)],
    ['attention block', () => attentionModel(93)],
  ] as const) {
    it.each(cases)(`${name}: %s loads and runs with the SQNR limit`, async (_, options, limit) => {
      const test = build();
      const random = createRandom(94);
      const calibration = Array.from({ length: 64 }, () => test.sample(random));
      const result = await quantizeModel(encodeModel(test.model), {
        ...options,
        executor: calibrator,
        calibrationData: calibration,
      });
      const reference = await web.createSession(encodeModel(test.model));
      const quantized = await web.createSession(result.bytes);
      const metrics = createMetricsAccumulator();
      try {
        for (let i = 0; i < 4; i++) {
          const feeds = test.sample(random);
          const output = reference.outputNames[0]!;
          metrics.add((await reference.run(feeds))[output]!, (await quantized.run(feeds))[output]!);
        }
      } finally {
        await reference.dispose();
        await quantized.dispose();
      }
      expect(metrics.result().sqnr).toBeGreaterThanOrEqual(limit);
    });
  }

  it('runs q4 MatMulNBits on a MatMul model with SQNR >= 20 dB', async () => {
    const test = attentionModel(95, 64, 8);
    const random = createRandom(96);
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'weight-only',
      granularity: 'block',
      bits: 4,
    });
    const reference = await web.createSession(encodeModel(test.model));
    const quantized = await web.createSession(result.bytes);
    const feeds = test.sample(random);
    const metrics = createMetricsAccumulator();
    metrics.add((await reference.run(feeds)).out!, (await quantized.run(feeds)).out!);
    await reference.dispose();
    await quantized.dispose();
    expect(metrics.result().sqnr).toBeGreaterThanOrEqual(20);
  });
});
