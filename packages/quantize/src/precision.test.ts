import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from './metrics.js';
import type { QuantizeOptions } from './options.js';
import { quantizeModel } from './quantize-model.js';
import { type TestModel, attentionModel, cnnModel, createRandom, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

async function sqnrOf(test: TestModel, options: Omit<QuantizeOptions, 'executor' | 'calibrationData'>) {
  const random = createRandom(12);
  // Enough samples that fresh ones rarely leave the calibrated ranges: at 16 bits, saturation, not rounding,
  // is what limits accuracy.
  const calibration = Array.from({ length: 64 }, () => test.sample(random));
  const result = await quantizeModel(encodeModel(test.model), { executor, calibrationData: calibration, ...options });
  const reference = await executor.createSession(encodeModel(test.model));
  const quantized = await executor.createSession(result.bytes);
  const metrics = createMetricsAccumulator();
  for (let i = 0; i < 6; i++) {
    const feeds = test.sample(random);
    const name = reference.outputNames[0]!;
    metrics.add((await reference.run(feeds))[name]!, (await quantized.run(feeds))[name]!);
  }
  await reference.dispose();
  await quantized.dispose();
  return { sqnr: metrics.result().sqnr, result };
}

describe('precisions beyond int8', () => {
  it.each([
    ['CNN at opset 13 (com.microsoft 16-bit Q/DQ)', () => cnnModel(71, 13)],
    ['CNN at opset 21 (ONNX 16-bit Q/DQ)', () => cnnModel(72, 21)],
    ['MLP', () => mlpModel(73, 128)],
    ['attention block', () => attentionModel(74)],
  ])('16-bit activations with 16-bit weights reach 45 dB: %s', async (_, build) => {
    const test = build();
    const { sqnr, result } = await sqnrOf(test, { mode: 'static', activationBits: 16, bits: 16 });
    expect(sqnr).toBeGreaterThanOrEqual(45);
    const dtypes = new Set([...result.model.graph.initializers.values()].map((t) => t.dtype));
    expect(dtypes.has('uint16')).toBe(true);
    const opset = result.model.opsetImports.find((entry) => entry.domain === '')!.version;
    const { graph } = result.model;
    const wide = result.model.graph.nodes.filter(
      (n) => n.opType.endsWith('uantizeLinear') && ['uint16', 'int16'].includes(graph.initializers.get(n.inputs[2]!)?.dtype ?? ''),
    );
    expect(wide.length).toBeGreaterThan(0);
    expect([...new Set(wide.map((n) => n.domain))]).toEqual(opset >= 21 ? [''] : ['com.microsoft']);
  });

  it('16-bit activations with 8-bit weights beat 8-bit activations (weights then dominate the error)', async () => {
    const a8 = await sqnrOf(cnnModel(75), { mode: 'static' });
    const a16 = await sqnrOf(cnnModel(75), { mode: 'static', activationBits: 16 });
    expect(a16.sqnr).toBeGreaterThan(a8.sqnr + 1);
  });

  it('4-bit weights are stored packed (int4) at opset 21 and in an 8-bit container below', async () => {
    const at21 = await sqnrOf(cnnModel(76, 21), { mode: 'static', bits: 4 });
    const at13 = await sqnrOf(cnnModel(76, 13), { mode: 'static', bits: 4 });
    const weightDtypes = (r: typeof at21) =>
      [...r.result.model.graph.initializers.entries()].filter(([name]) => name.endsWith('_quantized')).map(([, t]) => t.dtype);
    expect(weightDtypes(at21)).toContain('int4');
    expect(weightDtypes(at13)).not.toContain('int4');
    expect(at21.result.summary.sizeAfter).toBeLessThan(at13.result.summary.sizeAfter);
    // Same codes either way: the two models compute the same thing.
    expect(Math.abs(at21.sqnr - at13.sqnr)).toBeLessThan(0.5);
    expect(at21.sqnr).toBeGreaterThan(10);
  });
});
