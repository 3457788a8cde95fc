import { type Tensor, createRegistry, createSeededRandom, sizeOf } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type AttributeInit, type Model, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins } from '../../builtins.js';
import { nodeCaseModel } from '../../conformance/run-both.js';
import { randomFloat } from '../../conformance/random-tensors.js';
import { createRuntime } from '../../runtime.js';

// What onnxruntime cannot check through the conformance suite: int4 outputs (its JS API does not carry them) and
// zero points per output channel or per row, which its kernels refuse. Those are checked here by composition:
// through a DequantizeLinear onnxruntime runs, and against the same op split into per-tensor pieces.

async function runtimeRun(model: Model, feeds: Record<string, Tensor>): Promise<Tensor[]> {
  const session = await createRuntime(createRegistry([...builtinRuntimePlugins])).load(model);
  const outputs = await session.run(feeds);
  return session.outputNames.map((name) => outputs[name]!);
}

/** Runs one node through the runtime (inputs fed, or constants in `constantSlots`). */
async function runNode(
  opType: string,
  inputs: readonly (Tensor | undefined)[],
  attributes?: Record<string, AttributeInit>,
  constantSlots?: readonly number[],
): Promise<Tensor> {
  const { model, feeds } = nodeCaseModel({
    opType,
    inputs,
    ...(attributes !== undefined && { attributes }),
    ...(constantSlots !== undefined && { constantSlots }),
  });
  return (await runtimeRun(model, feeds))[0]!;
}

function codes(dtype: 'uint8' | 'int8', shape: readonly number[], seed: number): Tensor {
  const random = createSeededRandom(seed);
  const values = Array.from(
    { length: sizeOf(shape) },
    () => Math.floor(random() * 256) - (dtype === 'int8' ? 128 : 0),
  );
  return {
    dtype,
    shape: [...shape],
    data: dtype === 'int8' ? Int8Array.from(values) : Uint8Array.from(values),
  };
}

const float = (values: readonly number[], shape?: readonly number[]): Tensor => ({
  dtype: 'float32',
  shape: shape ?? (values.length === 1 ? [] : [values.length]),
  data: Float32Array.from(values),
});
const of = (dtype: 'uint8' | 'int8', values: readonly number[], shape?: readonly number[]): Tensor => ({
  dtype,
  shape: shape ?? (values.length === 1 ? [] : [values.length]),
  data: dtype === 'int8' ? Int8Array.from(values) : Uint8Array.from(values),
});

const values = (tensor: Tensor): number[] => Array.from(tensor.data as ArrayLike<number>);

/** Rows [from, to) of the leading axis of a tensor. */
function slice(tensor: Tensor, from: number, to: number): Tensor {
  const row = sizeOf(tensor.shape.slice(1));
  return {
    ...tensor,
    shape: [to - from, ...tensor.shape.slice(1)],
    data: tensor.data.slice(from * row, to * row),
  } as Tensor;
}

describe('int4 QuantizeLinear', () => {
  for (const dtype of ['int4', 'uint4'] as const) {
    it(`${dtype} codes (per tensor and blocked) dequantize as onnxruntime's do`, async () => {
      const zero = {
        dtype,
        shape: [2, 2],
        data: dtype === 'int4' ? Int8Array.of(-1, 0, 2, 3) : Uint8Array.of(8, 7, 9, 0),
      };
      const model = createModel({
        opset: 21,
        nodes: [
          {
            opType: 'QuantizeLinear',
            inputs: ['x', 'scale', 'zero'],
            outputs: ['q'],
            attributes: { axis: 1, block_size: 4 },
          },
          {
            opType: 'DequantizeLinear',
            inputs: ['q', 'scale', 'zero'],
            outputs: ['y'],
            attributes: { axis: 1, block_size: 4 },
          },
        ],
        inputs: [['x', 'float32', [2, 7]]],
        outputs: [['y', 'float32', [2, 7]]],
        initializers: { scale: float([0.1, 0.25, 0.05, 0.2], [2, 2]), zero: zero as Tensor },
      });
      const x = randomFloat([2, 7], 1, -3, 3);
      const session = await createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' }).createSession(
        encodeModel(model),
      );
      const expected = (await session.run({ x }))['y']!;
      await session.dispose();
      expect((await runtimeRun(model, { x }))[0]).toEqual(expected);
    });
  }
});

describe('zero points onnxruntime refuses', () => {
  it('QLinearConv with a different weight zero point per output channel equals one channel at a time', async () => {
    const x = codes('uint8', [1, 2, 5, 5], 10);
    const w = codes('int8', [3, 2, 3, 3], 11);
    const wScale = float([0.01, 0.02, 0.015]);
    const wZero = of('int8', [-3, 0, 5]);
    const bias: Tensor = { dtype: 'int32', shape: [3], data: Int32Array.of(300, -700, 50) };
    const common = [float([0.02]), of('uint8', [120])];
    const output = [float([0.08]), of('uint8', [110])];
    const attributes = { pads: [1, 1, 1, 1] };
    const whole = await runNode(
      'QLinearConv',
      [x, ...common, w, wScale, wZero, ...output, bias],
      attributes,
      [3, 4, 5],
    );
    const planeSize = 25;
    for (let c = 0; c < 3; c++) {
      const one = await runNode(
        'QLinearConv',
        [
          x,
          ...common,
          slice(w, c, c + 1),
          float([wScale.data[c] as number]),
          of('int8', [wZero.data[c] as number]),
          ...output,
          { dtype: 'int32', shape: [1], data: Int32Array.of(bias.data[c] as number) },
        ],
        attributes,
      );
      expect(values(one)).toEqual(values(whole).slice(c * planeSize, (c + 1) * planeSize));
    }
  });

  it('ConvInteger with a weight zero point per output channel equals one channel at a time', async () => {
    const x = codes('uint8', [1, 2, 4, 4], 20);
    const w = codes('uint8', [2, 2, 2, 2], 21);
    const whole = await runNode('ConvInteger', [x, w, of('uint8', [7]), of('uint8', [100, 140])]);
    for (let c = 0; c < 2; c++) {
      const one = await runNode('ConvInteger', [
        x,
        slice(w, c, c + 1),
        of('uint8', [7]),
        of('uint8', [c === 0 ? 100 : 140]),
      ]);
      expect(values(one)).toEqual(values(whole).slice(c * 9, (c + 1) * 9));
    }
  });

  it('MatMulInteger with a zero point per row of A equals one row at a time', async () => {
    const a = codes('int8', [3, 6], 30);
    const b = codes('int8', [6, 4], 31);
    const rows = [-4, 0, 9];
    const whole = await runNode('MatMulInteger', [a, b, of('int8', rows), of('int8', [2, -2, 0, 1])]);
    for (let r = 0; r < 3; r++) {
      const one = await runNode('MatMulInteger', [
        slice(a, r, r + 1),
        b,
        of('int8', [rows[r]!]),
        of('int8', [2, -2, 0, 1]),
      ]);
      expect(values(one)).toEqual(values(whole).slice(r * 4, (r + 1) * 4));
    }
  });
});

describe('empty inner dimension', () => {
  // onnxruntime leaves these outputs uninitialized; the sum over nothing is 0.
  it('MatMulInteger with K 0 is all zeros', async () => {
    const out = await runNode('MatMulInteger', [codes('uint8', [2, 0], 40), codes('uint8', [0, 3], 41)]);
    expect(out.shape).toEqual([2, 3]);
    expect(values(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('QLinearMatMul with K 0 is the output zero point', async () => {
    const out = await runNode('QLinearMatMul', [
      codes('uint8', [2, 0], 42),
      float([0.1]),
      of('uint8', [3]),
      codes('uint8', [0, 2], 43),
      float([0.1]),
      of('uint8', [4]),
      float([0.5]),
      of('uint8', [77]),
    ]);
    expect(values(out)).toEqual([77, 77, 77, 77]);
  });
});
