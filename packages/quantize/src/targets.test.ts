import { QuantError, type TargetPlugin } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import { builtinTargets, checkModel } from '@quantkit/targets';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from './metrics.js';
import { quantizeModel } from './quantize-model.js';
import {
  type TestModel,
  attentionModel,
  cnnModel,
  createRandom,
  hostIntegerKernelsExact,
  mlpModel,
} from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });
const unfusedExecutor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'disabled' });
const linearTargets = builtinTargets.filter((target) => target.method !== 'log');

async function run(test: TestModel, target: TargetPlugin) {
  const random = createRandom(111);
  const calibration = Array.from({ length: 32 }, () => test.sample(random));
  const result = await quantizeModel(encodeModel(test.model), {
    mode: 'static',
    target: target.name,
    executor,
    calibrationData: calibration,
  });
  const reference = await executor.createSession(encodeModel(test.model));
  // A target's model is checked as that target runs it: fused integer kernels where this host's are exact (or the
  // weights keep to 7 bits), else the model's own arithmetic (see hostIntegerKernelsExact).
  const fused = target.weight.reduceRange || (await hostIntegerKernelsExact());
  const quantized = await (fused ? executor : unfusedExecutor).createSession(result.bytes);
  const metrics = createMetricsAccumulator();
  for (let i = 0; i < 4; i++) {
    const feeds = test.sample(random);
    const name = reference.outputNames[0]!;
    metrics.add((await reference.run(feeds))[name]!, (await quantized.run(feeds))[name]!);
  }
  await reference.dispose();
  await quantized.dispose();
  return { result, sqnr: metrics.result().sqnr };
}

describe.each(linearTargets.map((target) => [target.name, target] as const))('target %s', (_, target) => {
  it.each([
    ['CNN', () => cnnModel(112)],
    ['MLP', () => mlpModel(113, 128)],
    ['attention block', () => attentionModel(114)],
  ])('plans its types and format for the %s, which onnxruntime runs at >= 30 dB', async (__, build) => {
    const { result, sqnr } = await run(build(), target);
    const { graph } = result.model;
    expect(result.summary.recipe.target).toBe(target.name);
    expect(checkModel(result.model, target).filter((issue) => issue.severity === 'error')).toEqual([]);
    // Activation zero points have the target's activation type; weights its weight type.
    const activationDtypes = new Set<string>();
    const weightDtypes = new Set<string>();
    for (const node of graph.nodes.filter((n) => n.opType === 'DequantizeLinear')) {
      const codes = graph.initializers.get(node.inputs[0]!);
      const zero = graph.initializers.get(node.inputs[2]!);
      if (codes !== undefined && codes.dtype !== 'int32') weightDtypes.add(codes.dtype);
      if (codes === undefined && zero !== undefined) activationDtypes.add(zero.dtype);
    }
    expect([...activationDtypes]).toEqual([target.activation.dtype]);
    expect(
      [...weightDtypes].every((dtype) => dtype === target.weight.dtype || dtype === target.activation.dtype),
    ).toBe(true);
    if (target.weight.reduceRange) {
      const codes = [...graph.initializers.entries()].filter(
        ([name, t]) => name.startsWith('w') && t.dtype === 'int8',
      );
      for (const [, tensor] of codes)
        expect(Math.max(...Array.from(tensor.data as Int8Array, Math.abs))).toBeLessThanOrEqual(64);
    }
    if (target.qdqPerConsumer) {
      for (const node of graph.nodes.filter((n) => n.opType === 'DequantizeLinear')) {
        expect(graph.consumers(node.outputs[0]!).length).toBeLessThanOrEqual(1);
      }
    }
    expect(sqnr).toBeGreaterThanOrEqual(target.weight.reduceRange ? 25 : 30);
  });
});

describe('targets the pipeline cannot serve yet, or models below their opset', () => {
  it('refuses the log-domain target with the linear quantizer', async () => {
    await expect(
      quantizeModel(encodeModel(cnnModel().model), {
        mode: 'static',
        target: 'hisilicon-log',
        executor,
        calibrationData: [],
      }),
    ).rejects.toSatisfy(
      (error) => QuantError.is(error, 'UNSUPPORTED') && /log-domain|packed/.test(String(error)),
    );
  });

  it('refuses gpu-tensorrt below opset 13, naming the fix', async () => {
    await expect(
      quantizeModel(encodeModel(cnnModel(1, 11).model), {
        mode: 'static',
        target: 'gpu-tensorrt',
        executor,
        calibrationData: [],
      }),
    ).rejects.toThrow(/needs opset 13 or newer/);
  });

  it('lists the valid targets for an unknown name', async () => {
    await expect(
      quantizeModel(encodeModel(cnnModel().model), { mode: 'dynamic', target: 'tpu' }),
    ).rejects.toThrow(/x86-vnni/);
  });
});
