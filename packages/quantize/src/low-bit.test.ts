// Binary and logarithmic quantizers are built in: their stock-ONNX form runs in onnxruntime, their packed form
// round-trips, and the HiSilicon-style target plans for log codes.
import { type Tensor, dequantizeQuantized } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { decodeModel, encodeModel } from '@quantkit/onnx';
import { binaryQuantizer } from '@quantkit/quantizer-binary';
import { nnieLogQuantizer } from '@quantkit/quantizer-log';
import { checkModel, hisiliconLogTarget } from '@quantkit/targets';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('low-bit quantizers in the pipeline', () => {
  it.each([
    ['binary', 1],
    ['log', 4],
    ['log', 8],
    ['log-nnie', 8],
  ] as const)('%s (%i bits) weight-only output runs in onnxruntime-node', async (quantizer, bits) => {
    const test = mlpModel(131, 64);
    const granularity = quantizer === 'log-nnie' ? 'tensor' : 'channel';
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'weight-only',
      quantizer,
      bits,
      granularity,
      executor,
      report: { samples: [test.sample(Math.random)] },
    });
    const session = await executor.createSession(result.bytes);
    const output = (await session.run(test.sample(() => 0.25))).y!;
    await session.dispose();
    expect(output.shape).toEqual([4, 16]);
    expect([...(output.data as Float32Array)].every(Number.isFinite)).toBe(true);
    // The report's weight errors come from the same dequantization the model runs.
    expect(result.report!.layers.every((layer) => Number.isFinite(layer.weight!.sqnr))).toBe(true);
  });

  it('binary networks keep their first and last layers int8 unless told not to', async () => {
    const bytes = encodeModel(mlpModel(132, 64).model);
    const kept = await quantizeModel(bytes, { mode: 'weight-only', quantizer: 'binary', bits: 1 });
    expect(
      kept.summary.nodes
        .filter((n) => n.opType === 'Gemm')
        .map((n) => n.reason.startsWith('weights kept in int8')),
    ).toEqual([true, false, true]);
    const all = await quantizeModel(bytes, {
      mode: 'weight-only',
      quantizer: 'binary',
      bits: 1,
      keepHigherPrecision: false,
    });
    expect(
      all.summary.nodes.filter((n) => n.opType === 'Gemm').every((n) => !n.reason.startsWith('weights kept')),
    ).toBe(true);
  });

  it('packed binary weights unpack to the codes the quantizer made, at under 1/28 of the fp32 bytes', async () => {
    const test = cnnModel(133);
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'weight-only',
      quantizer: 'binary',
      bits: 1,
      format: 'packed',
      keepHigherPrecision: false,
    });
    const model = decodeModel(result.bytes);
    const conv = model.graph.nodes.find((n) => n.domain === 'ai.quantkit' && n.name === 'Conv_c2')!;
    const packedBytes = model.graph.initializers.get(conv.inputs[1]!)!.data as Uint8Array;
    const attribute = (name: string) => conv.attributes.get(name)?.value;
    const unpacked = binaryQuantizer.packing!.unpack({
      format: attribute('weight_format') as string,
      data: packedBytes,
      shape: attribute('weight_shape') as number[],
      scale: (attribute('weight_scale') as Tensor<'float32'>).data,
      attributes: Object.fromEntries(
        [...conv.attributes]
          .filter(
            ([key]) =>
              key.startsWith('weight_') && !['weight_format', 'weight_shape', 'weight_scale'].includes(key),
          )
          .map(([key, value]) => [key.slice('weight_'.length), value.value as number | string]),
      ),
    });
    const w2 = test.model.graph.initializers.get('w2') as Tensor<'float32'>;
    const direct = binaryQuantizer.quantizeWeight(w2, {
      bits: 1,
      symmetric: true,
      restrictedRange: true,
      granularity: 'channel',
      axis: 0,
    });
    expect(Array.from(unpacked.codes.data)).toEqual(Array.from(direct.codes.data));
    expect(Array.from(dequantizeQuantized(unpacked))).toEqual(Array.from(dequantizeQuantized(direct)));
    // The packed weight bytes (one bit each, rows padded to bytes); the 16 float scales ride in an attribute.
    expect(packedBytes.length).toBeLessThanOrEqual((w2.data.length * 4) / 28);
  });

  it('plans the hisilicon-log target: NNIE log codes, packed, and the target check passes', async () => {
    const result = await quantizeModel(encodeModel(mlpModel(134, 64).model), {
      mode: 'weight-only',
      target: 'hisilicon-log',
      quantizer: 'log-nnie',
    });
    const packed = result.model.graph.nodes.filter((n) => n.domain === 'ai.quantkit');
    expect(packed.length).toBe(3);
    expect(packed.every((n) => n.attributes.get('weight_format')?.value === 'log-nnie')).toBe(true);
    expect(
      checkModel(result.model, hisiliconLogTarget).filter((issue) => issue.severity === 'error'),
    ).toEqual([]);
    expect(nnieLogQuantizer.keepHigherPrecision).toBeUndefined();
  });
});
