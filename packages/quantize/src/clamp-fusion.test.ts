// A clamp from 0 (Relu, Clip(0, 6)) after a quantized op with a scale of its own is fused into that op's output
// quantization: saturation does the clamping. Hard-swish's Add(x, 3) -> Clip(0, 6) is the case that matters on
// real models: unfused, onnxruntime keeps a DequantizeLinear -> QuantizeLinear pair per hard-swish.
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import { ortOptimizedModel, sqnr } from '@quantkit/test-kit';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

/** Conv -> hard-swish (x * Clip(x + 3, 0, 6) / 6) -> Conv, as PaddleOCR exports it; opset 13. */
function hardSwishNet(): Model {
  const random = createRandom(91);
  const scalar = (value: number) => ({ dtype: 'float32' as const, shape: [], data: Float32Array.of(value) });
  return createModel({
    opset: 13,
    inputs: [['image', 'float32', [1, 4, 8, 8]]],
    outputs: [['y', 'float32', [1, 4, 8, 8]]],
    initializers: {
      w1: randomTensor([8, 4, 3, 3], random, 0.4),
      w2: randomTensor([4, 8, 1, 1], random, 0.4),
      three: scalar(3),
      zero: scalar(0),
      six: scalar(6),
    },
    nodes: [
      { opType: 'Conv', inputs: ['image', 'w1'], outputs: ['x'], attributes: { pads: [1, 1, 1, 1] } },
      { opType: 'Add', inputs: ['x', 'three'], outputs: ['shifted'] },
      { opType: 'Clip', inputs: ['shifted', 'zero', 'six'], outputs: ['gate'] },
      { opType: 'Mul', inputs: ['x', 'gate'], outputs: ['gated'] },
      { opType: 'Div', inputs: ['gated', 'six'], outputs: ['swish'] },
      { opType: 'Conv', inputs: ['swish', 'w2'], outputs: ['y'] },
    ],
  });
}

async function optimizedOps(bytes: Uint8Array): Promise<string[]> {
  return decodeModel(await ortOptimizedModel(bytes)).graph.nodes.map((node) => node.opType);
}

describe('clamp fusion', () => {
  it("fuses hard-swish's Clip(0, 6) into the Add before it: no Q/DQ left between integer ops, output close", async () => {
    const model = hardSwishNet();
    const bytes = encodeModel(model);
    const samples = Array.from({ length: 6 }, (_, i) => ({
      image: randomTensor([1, 4, 8, 8], createRandom(100 + i), 2),
    }));
    const result = await quantizeModel(bytes, { mode: 'static', executor, calibrationData: samples });
    const clip = result.summary.nodes.find((node) => node.opType === 'Clip')!;
    expect(clip.reason).toMatch(/^fused into Add /);
    expect(result.model.graph.nodes.map((node) => node.opType)).not.toContain('Clip');
    // onnxruntime runs the whole block on integers: Q at the input, DQ at the output, nothing in between.
    const ops = await optimizedOps(result.bytes);
    expect(ops.filter((op) => op === 'QuantizeLinear')).toHaveLength(1);
    expect(ops.filter((op) => op === 'DequantizeLinear')).toHaveLength(1);
    expect(ops).toEqual(expect.arrayContaining(['QLinearConv', 'QLinearAdd', 'QLinearMul']));
    const run = async (modelBytes: Uint8Array) => {
      const session = await executor.createSession(modelBytes);
      try {
        return (await session.run(samples[0]!))['y']!.data as Float32Array;
      } finally {
        await session.dispose();
      }
    };
    expect(sqnr(await run(bytes), await run(result.bytes))).toBeGreaterThan(25);
  });

  it("folds hard-swish's / 6 into the scale: the Mul it became is not written and nothing dead is left", async () => {
    const samples = Array.from({ length: 6 }, (_, i) => ({
      image: randomTensor([1, 4, 8, 8], createRandom(200 + i), 2),
    }));
    const result = await quantizeModel(encodeModel(hardSwishNet()), {
      mode: 'static',
      executor,
      calibrationData: samples,
    });
    const { graph } = result.model;
    // Div(6) became Mul(1/6) (divisionAsMultiplication), then a scale: only x * gate is left to multiply.
    expect(graph.nodes.filter((node) => node.opType === 'Mul')).toHaveLength(1);
    const swish = graph.producer('swish')!;
    expect(swish.opType).toBe('DequantizeLinear');
    const gated = graph.producer(graph.producer(swish.inputs[0]!)!.inputs[0]!)!;
    expect(gated.opType).toBe('Mul');
    const scaleOf = (name: string) => (graph.getConstant(name)!.data as Float32Array)[0]!;
    const gatedScale = scaleOf(graph.consumers(gated.outputs[0]!)[0]!.inputs[1]!);
    expect(scaleOf(swish.inputs[1]!)).toBe(Math.fround(gatedScale * Math.fround(1 / 6)));
    for (const node of graph.nodes) {
      const used = node.outputs.some(
        (output) => graph.consumers(output).length > 0 || graph.isOutput(output),
      );
      expect(used, `${node.opType} "${node.name}" is dead`).toBe(true);
    }
    const ops = await optimizedOps(result.bytes);
    expect(ops.filter((op) => op === 'QLinearMul')).toHaveLength(1);
    expect(ops.filter((op) => op === 'DequantizeLinear')).toHaveLength(1);
  });
});
