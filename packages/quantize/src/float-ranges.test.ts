// fp16 holds nothing beyond 65504: a node whose values reach 1e6 (an STFT Conv over int16-scale audio) must stay
// fp32, decided from calibration data; without data the run refuses the model instead of writing infinities.
import { createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { Graph, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

/** x (int16-scale audio) -> Conv (an STFT's shape) -> Mul(1e-6) -> Tanh -> y, and squared, times 1e-12 -> z: the Conv reaches 1e5, its square 1e10. */
function loudModel() {
  const random = createRandom(5);
  return createModel({
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 1024] }],
    outputs: [
      { name: 'y', dtype: 'float32', shape: [1, 257, 4] },
      { name: 'z', dtype: 'float32', shape: [1, 257, 4] },
    ],
    initializers: {
      w: randomTensor([257, 1, 512], random),
      k: createTensor('float32', [], Float32Array.of(1e-6)),
      k2: createTensor('float32', [], Float32Array.of(1e-12)),
    },
    nodes: [
      node('Conv', ['x', 'w'], ['spectrum'], { strides: { type: 'ints', value: [160] } }, 'stft'),
      node('Mul', ['spectrum', 'k'], ['scaled'], {}, 'scale'),
      node('Tanh', ['scaled'], ['y'], {}, 'squash'),
      node('Mul', ['spectrum', 'spectrum'], ['power'], {}, 'square'),
      node('Mul', ['power', 'k2'], ['z'], {}, 'scale_power'),
    ],
  });
}

function audio(seed: number) {
  const random = createRandom(seed);
  return {
    x: createTensor(
      'float32',
      [1, 1, 1024],
      Float32Array.from({ length: 1024 }, () => (random() > 0.5 ? 1 : -1) * 32767),
    ),
  };
}

describe('fp16 range check', () => {
  const samples = [audio(1), audio(2), audio(3)];

  it('checks the range on the verification sample when there is no calibration data', async () => {
    const result = await quantizeModel(encodeModel(loudModel()), {
      mode: 'float',
      executor,
      verifySample: samples[0]!,
    });
    expect(result.summary.nodes.find((decision) => decision.name === 'stft')!.quantized).toBe(false);
    const verification = result.summary.verification;
    expect(
      verification?.verified === true && Math.min(...verification.outputs.map((o) => o.sqnr)),
    ).toBeGreaterThan(40);
  });

  it('writes the squared spectrum wrong without any data to check on (what the range check prevents)', async () => {
    // onnxruntime's fp16 kernels saturate or overflow here; this pins the failure the check exists for.
    const result = await quantizeModel(encodeModel(loudModel()), { mode: 'float', executor });
    const verification = result.summary.verification;
    expect(result.summary.nodes.find((decision) => decision.name === 'stft')!.quantized).toBe(true);
    expect(verification?.verified === true && verification.sample).toBe('random');
  });

  it('keeps the overflowing node fp32 with calibration data and says so', async () => {
    const float = encodeModel(loudModel());
    const result = await quantizeModel(float, { mode: 'float', executor, calibrationData: samples });
    const stft = result.summary.nodes.find((decision) => decision.name === 'stft')!;
    expect(stft.quantized).toBe(false);
    expect(stft.reason).toMatch(
      /kept fp32: its output "spectrum" reaches [\d.]+e\+\d on the calibration data/,
    );
    expect(result.summary.nodes.find((decision) => decision.name === 'squash')!.quantized).toBe(true);
    expect(result.summary.calibrationSamples).toBe(3);
    const held = audio(9);
    const [expected, actual] = await Promise.all(
      [float, result.bytes].map(async (bytes) => {
        const session = await executor.createSession(bytes);
        try {
          return (await session.run(held))['y']!.data as Float32Array;
        } finally {
          await session.dispose();
        }
      }),
    );
    for (let i = 0; i < expected!.length; i++)
      expect(Math.abs(actual![i]! - expected![i]!)).toBeLessThan(0.01);
  });

  // Silero VAD keeps its STFT and network inside If branches (one per sample rate): the branch values are measured
  // by carrying them out of the If, and an overflowing branch node stays fp32 while the rest of the branch converts.
  it('measures values inside If branches and keeps an overflowing branch node fp32', async () => {
    const loud = loudModel();
    const branch = new Graph({
      name: 'loud_branch',
      nodes: loud.graph.nodes.map((n) => ({
        ...n,
        outputs: n.outputs.map((o) => (o === 'y' || o === 'z' ? `${o}_then` : o)),
      })),
      outputs: [
        { name: 'y_then', dtype: 'float32', shape: [1, 257, 4] },
        { name: 'z_then', dtype: 'float32', shape: [1, 257, 4] },
      ],
    });
    const quiet = new Graph({
      name: 'quiet_branch',
      nodes: [
        node('Conv', ['x', 'w'], ['q_conv'], { strides: { type: 'ints', value: [160] } }, 'quiet_conv'),
        node('Mul', ['q_conv', 'k'], ['y_else'], {}, 'quiet_scale'),
        node('Mul', ['q_conv', 'k'], ['z_else'], {}, 'quiet_scale2'),
      ],
      outputs: [
        { name: 'y_else', dtype: 'float32', shape: [1, 257, 4] },
        { name: 'z_else', dtype: 'float32', shape: [1, 257, 4] },
      ],
    });
    const model = createModel({
      opset: 17,
      inputs: [...loud.graph.inputs, { name: 'loud', dtype: 'bool', shape: [] }],
      outputs: loud.graph.outputs,
      initializers: Object.fromEntries(loud.graph.initializers),
      nodes: [
        {
          opType: 'If',
          name: 'by_rate',
          inputs: ['loud'],
          outputs: ['y', 'z'],
          attributes: { then_branch: branch, else_branch: quiet },
        },
      ],
    });
    const withFlag = (sample: ReturnType<typeof audio>) => ({
      ...sample,
      loud: createTensor('bool', [], Uint8Array.of(1)),
    });
    const float = encodeModel(model);
    const result = await quantizeModel(float, {
      mode: 'float',
      executor,
      calibrationData: samples.map(withFlag),
    });
    const stft = result.summary.nodes.find((decision) => decision.name === 'stft')!;
    expect(stft).toMatchObject({ quantized: false, scope: 'by_rate/then_branch' });
    expect(stft.reason).toMatch(
      /kept fp32: its output "spectrum" reaches [\d.]+e\+\d on the calibration data/,
    );
    expect(result.summary.nodes.find((decision) => decision.name === 'squash')).toBeUndefined();
    const held = withFlag(audio(9));
    const [expected, actual] = await Promise.all(
      [float, result.bytes].map(async (bytes) => {
        const session = await executor.createSession(bytes);
        try {
          return (await session.run(held))['y']!.data as Float32Array;
        } finally {
          await session.dispose();
        }
      }),
    );
    for (let i = 0; i < expected!.length; i++)
      expect(Math.abs(actual![i]! - expected![i]!)).toBeLessThan(0.01);
  });
});
