// Small models built to be awkward, quantized by quantkit in every mode onnxruntime runs, then run by onnxruntime-node
// and by the runtime on the same inputs: the runtime must come as close to the float model as onnxruntime does, with
// finite outputs. The awkward parts: a dead output channel (all-zero weights), a clamp before Log, a Conv region in
// an If branch, and default-domain opsets from 11 to 21.
import { type ExecutorPlugin, type Tensor, createSeededRandom, sizeOf } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { Graph, type NodeInit, createModel, createNode, encodeModel } from '@quantkit/onnx';
import { type QuantizeOptions, quantizeModel } from '@quantkit/quantize';
import { describe, expect, it } from 'vitest';
import { randomFloat } from './conformance/random-tensors.js';
import { createRuntimeExecutor } from './runtime-executor.js';

/** Gaussian-ish weights (sum of uniforms) with output channel `dead` all zero. */
function weight(shape: number[], seed: number, dead?: number): Tensor<'float32'> {
  const random = createSeededRandom(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (random() + random() + random() - 1.5) * 0.4;
  if (dead !== undefined)
    data.fill(0, dead * (data.length / shape[0]!), (dead + 1) * (data.length / shape[0]!));
  return { dtype: 'float32', shape, data };
}

const convNodes = (prefix: string, input: string, output: string): NodeInit[] => [
  {
    opType: 'Conv',
    inputs: [input, `${prefix}w1`, `${prefix}b1`],
    outputs: [`${prefix}c1`],
    attributes: { pads: [1, 1, 1, 1] },
  },
  { opType: 'Relu', inputs: [`${prefix}c1`], outputs: [`${prefix}r1`] },
  {
    opType: 'Conv',
    inputs: [`${prefix}r1`, `${prefix}w2`],
    outputs: [`${prefix}c2`],
    attributes: { strides: [2, 2] },
  },
  { opType: 'Clip', inputs: [`${prefix}c2`, `${prefix}low`, `${prefix}high`], outputs: [`${prefix}clamped`] },
  { opType: 'Log', inputs: [`${prefix}clamped`], outputs: [`${prefix}log`] },
  { opType: 'GlobalAveragePool', inputs: [`${prefix}log`], outputs: [`${prefix}gap`] },
  { opType: 'Flatten', inputs: [`${prefix}gap`], outputs: [`${prefix}flat`] },
  {
    opType: 'Gemm',
    inputs: [`${prefix}flat`, `${prefix}w3`, `${prefix}b3`],
    outputs: [output],
    attributes: { transB: 1 },
  },
];

const convWeights = (prefix: string): Record<string, Tensor> => ({
  [`${prefix}w1`]: weight([8, 3, 3, 3], 1, 5),
  [`${prefix}b1`]: weight([8], 2),
  [`${prefix}w2`]: weight([6, 8, 3, 3], 3),
  [`${prefix}low`]: { dtype: 'float32', shape: [], data: Float32Array.of(1e-3) },
  [`${prefix}high`]: { dtype: 'float32', shape: [], data: Float32Array.of(6) },
  [`${prefix}w3`]: weight([4, 6], 4, 2),
  [`${prefix}b3`]: weight([4], 5),
});

/** Conv (a dead channel) -> Relu -> Conv -> Clip(1e-3, 6) -> Log -> GlobalAveragePool -> Gemm. */
function clampedLogModel(opset: number) {
  return createModel({
    opset,
    nodes: convNodes('', 'x', 'y'),
    inputs: [['x', 'float32', [1, 3, 12, 12]]],
    outputs: [['y', 'float32', [1, 4]]],
    initializers: convWeights(''),
  });
}

/** The same network inside the then-branch of an If (the else-branch returns zeros). */
function branchedModel(opset: number) {
  const thenBranch = new Graph({
    name: 'then',
    nodes: convNodes('t_', 'x', 'then_y').map((init, index) =>
      createNode({ ...init, name: `then_${index}` }),
    ),
    outputs: [{ name: 'then_y', dtype: 'float32' }],
    initializers: convWeights('t_'),
  });
  const elseBranch = new Graph({
    name: 'else',
    nodes: [
      {
        name: 'zeros',
        domain: '',
        opType: 'Constant',
        inputs: [],
        outputs: ['else_y'],
        attributes: new Map([
          [
            'value',
            { type: 'tensor', value: { dtype: 'float32', shape: [1, 4], data: new Float32Array(4) } },
          ],
        ]),
      },
    ],
    outputs: [{ name: 'else_y', dtype: 'float32' }],
  });
  return createModel({
    opset,
    nodes: [
      {
        opType: 'If',
        inputs: ['flag'],
        outputs: ['y'],
        attributes: { then_branch: thenBranch, else_branch: elseBranch },
      },
    ],
    inputs: [
      ['x', 'float32', [1, 3, 12, 12]],
      ['flag', 'bool', []],
    ],
    outputs: [['y', 'float32', [1, 4]]],
  });
}

const MODES: Record<string, Partial<QuantizeOptions>> = {
  static: { mode: 'static' },
  'static-qoperator': { mode: 'static', format: 'qoperator' },
  dynamic: { mode: 'dynamic' },
  'weight-only': { mode: 'weight-only' },
  fp16: { mode: 'float' },
};

function sqnr(reference: Tensor, test: Tensor): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.data.length; i++) {
    const expected = Number(reference.data[i]);
    signal += expected * expected;
    noise += (expected - Number(test.data[i])) ** 2;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

async function outputsOf(executor: ExecutorPlugin, bytes: Uint8Array, feeds: Record<string, Tensor>[]) {
  const session = await executor.createSession(bytes);
  try {
    const outputs: Tensor[] = [];
    for (const feed of feeds) outputs.push((await session.run(feed))['y']!);
    return outputs;
  } finally {
    await session.dispose();
  }
}

const positive = (shape: number[], seed: number) => randomFloat(shape, seed, 0, 1);
const models = [
  ...[11, 13, 17, 21].map((opset) => ({
    name: `clamp before Log, dead channels, opset ${opset}`,
    model: clampedLogModel(opset),
    branch: false,
  })),
  { name: 'the network in an If branch, opset 17', model: branchedModel(17), branch: true },
];

describe.each(models)('$name', ({ model, branch }) => {
  const bytes = encodeModel(model);
  const feeds = [1, 2, 3].map((seed) => ({
    x: positive([1, 3, 12, 12], 100 + seed),
    ...(branch && { flag: { dtype: 'bool' as const, shape: [], data: Uint8Array.of(1) } }),
  }));
  it.each(
    Object.keys(MODES),
  )('%s: the runtime comes as close to the float model as onnxruntime-node', async (mode) => {
    const ort = createOrtNodeExecutor();
    const quantized = await quantizeModel(bytes, {
      ...MODES[mode],
      executor: ort,
      calibrationData: feeds.slice(0, 2),
    } as QuantizeOptions);
    const reference = await outputsOf(ort, bytes, feeds);
    const onOrt = await outputsOf(ort, quantized.bytes, feeds);
    const onRuntime = await outputsOf(createRuntimeExecutor(), quantized.bytes, feeds);
    for (const [index, expected] of reference.entries()) {
      expect(Array.from(onRuntime[index]!.data as Float32Array).every(Number.isFinite)).toBe(true);
      const ortSqnr = sqnr(expected, onOrt[index]!);
      const runtimeSqnr = sqnr(expected, onRuntime[index]!);
      expect(runtimeSqnr, `onnxruntime ${ortSqnr.toFixed(2)} dB`).toBeGreaterThanOrEqual(
        Math.min(ortSqnr - 0.5, 60),
      );
    }
  });
});
