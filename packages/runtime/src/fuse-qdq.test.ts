import { type DType, type Tensor, createRegistry, createSeededRandom, sizeOf } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, type NodeInit, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins } from './builtins.js';
import { exactIntegerModel } from './conformance/exact-reference.js';
import { randomFloat } from './conformance/random-tensors.js';
import { fuseQdq } from './fuse-qdq.js';
import { createRuntime } from './runtime.js';

const ortExecutor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });

async function runInOrt(model: Model, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ortExecutor.createSession(encodeModel(model), { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

async function runInRuntime(model: Model, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await createRuntime(createRegistry([...builtinRuntimePlugins])).load(model);
  return session.run(feeds);
}

function scalar(dtype: DType, value: number): Tensor {
  const data =
    dtype === 'float32'
      ? Float32Array.of(value)
      : dtype === 'int8'
        ? Int8Array.of(value)
        : Uint8Array.of(value);
  return { dtype, shape: [], data } as Tensor;
}

function codes(
  dtype: 'uint8' | 'int8' | 'int32',
  shape: readonly number[],
  seed: number,
  low: number,
  high: number,
): Tensor {
  const random = createSeededRandom(seed);
  const size = sizeOf(shape);
  const values = Array.from({ length: size }, () => low + Math.floor(random() * (high - low + 1)));
  const data =
    dtype === 'int8'
      ? Int8Array.from(values)
      : dtype === 'uint8'
        ? Uint8Array.from(values)
        : Int32Array.from(values);
  return { dtype, shape: [...shape], data } as Tensor;
}

/** Nodes quantizing float `input` and dequantizing it again, with per-tensor parameters `${prefix}_scale/_zero`. */
function qdq(input: string, prefix: string): NodeInit[] {
  return [
    {
      opType: 'QuantizeLinear',
      inputs: [input, `${prefix}_scale`, `${prefix}_zero`],
      outputs: [`${prefix}_q`],
    },
    {
      opType: 'DequantizeLinear',
      inputs: [`${prefix}_q`, `${prefix}_scale`, `${prefix}_zero`],
      outputs: [`${prefix}_dq`],
    },
  ];
}

/**
 * The codes of the model's float outputs (divided by `outputScale`) in the original model run by onnxruntime and
 * in the fused one run by the runtime: they must agree within one code, and on all but a few elements exactly;
 * onnxruntime running the fused model must agree with the runtime exactly.
 */
async function expectSameOutputs(
  model: Model,
  feeds: Record<string, Tensor>,
  outputScale: number,
): Promise<{ fused: number; fusedModel: Model }> {
  const { model: fusedModel, fused } = fuseQdq(model);
  const expected = await runInOrt(model, feeds);
  const actual = await runInRuntime(fusedModel, feeds);
  let differing = 0;
  let total = 0;
  for (const [name, tensor] of Object.entries(expected)) {
    const got = actual[name]!;
    expect(got.shape).toEqual(tensor.shape);
    for (let i = 0; i < tensor.data.length; i++) {
      const steps = Math.abs(Number(got.data[i]) - Number(tensor.data[i])) / outputScale;
      expect(steps, `${name}[${i}]`).toBeLessThan(1.001);
      if (steps > 0.001) differing += 1;
      total += 1;
    }
  }
  expect(differing).toBeLessThanOrEqual(Math.max(2, 0.02 * total));
  // The fused model is one onnxruntime runs too, to the same integer results (in the exact u8 x u8 form: its
  // u8 x s8 kernels saturate on AVX2 without VNNI).
  expect(await runInOrt(exactIntegerModel(fusedModel), feeds)).toEqual(actual);
  return { fused, fusedModel };
}

const opTypes = (model: Model) => model.graph.nodes.map((node) => node.opType);

function convModel(
  options: { perChannel?: boolean; bias?: 'int32' | 'float' | 'none'; weightAxis?: number } = {},
): Model {
  const channels = 4;
  const perChannel = options.perChannel ?? true;
  const wScale = perChannel ? randomFloat([channels], 2, 0.004, 0.012) : scalar('float32', 0.008);
  const bias = options.bias ?? 'int32';
  const nodes: NodeInit[] = [
    ...qdq('x', 'x'),
    {
      opType: 'DequantizeLinear',
      inputs: ['w_q', 'w_scale', 'w_zero'],
      outputs: ['w_dq'],
      attributes: { axis: options.weightAxis ?? 0 },
    },
    ...(bias === 'int32'
      ? [
          {
            opType: 'DequantizeLinear',
            inputs: ['b_q', 'b_scale'],
            outputs: ['b_dq'],
            attributes: { axis: 0 },
          } satisfies NodeInit,
        ]
      : []),
    {
      opType: 'Conv',
      name: 'conv',
      inputs: ['x_dq', 'w_dq', ...(bias === 'int32' ? ['b_dq'] : bias === 'float' ? ['b'] : [])],
      outputs: ['y'],
      attributes: { pads: [1, 1, 1, 1], strides: [1, 1] },
    },
    ...qdq('y', 'out'),
  ];
  const xScale = 0.02;
  const bScale = Float32Array.from(wScale.data as Float32Array, (scale) =>
    Math.fround(Math.fround(xScale) * scale),
  );
  return createModel({
    opset: 13,
    nodes,
    inputs: [['x', 'float32', [1, 3, 6, 6]]],
    outputs: [['out_dq', 'float32', [1, channels, 6, 6]]],
    initializers: {
      x_scale: scalar('float32', xScale),
      x_zero: scalar('uint8', 128),
      w_q: codes('int8', [channels, 3, 3, 3], 3, -127, 127),
      w_scale: wScale,
      w_zero: perChannel
        ? { dtype: 'int8', shape: [channels], data: new Int8Array(channels) }
        : scalar('int8', 0),
      b_q: codes('int32', [channels], 4, -2000, 2000),
      b_scale: perChannel
        ? { dtype: 'float32', shape: [channels], data: bScale }
        : scalar('float32', bScale[0]!),
      b: randomFloat([channels], 5, -0.5, 0.5),
      out_scale: scalar('float32', 0.03),
      out_zero: scalar('uint8', 100),
    },
  });
}

describe('fuseQdq', () => {
  const x = randomFloat([1, 3, 6, 6], 1, -2, 2);

  it('fuses DequantizeLinear -> Conv -> QuantizeLinear with an int32 bias into QLinearConv', async () => {
    const model = convModel();
    const { fused, fusedModel } = await expectSameOutputs(model, { x }, 0.03);
    expect(fused).toBe(1);
    expect(opTypes(fusedModel)).toEqual(['QuantizeLinear', 'QLinearConv', 'DequantizeLinear']);
    expect(fusedModel.graph.nodes[1]!.name).toBe('conv');
  });

  it('fuses a per-tensor Conv with a float bias, requantized to int32', async () => {
    const { fused, fusedModel } = await expectSameOutputs(
      convModel({ perChannel: false, bias: 'float' }),
      { x },
      0.03,
    );
    expect(fused).toBe(1);
    expect(opTypes(fusedModel)).toContain('QLinearConv');
  });

  it('fuses a Conv without bias', async () => {
    const { fused } = await expectSameOutputs(convModel({ bias: 'none' }), { x }, 0.03);
    expect(fused).toBe(1);
  });

  it('leaves a Conv whose weights are quantized along the input channels', () => {
    const model = convModel({ weightAxis: 1, bias: 'none' });
    model.graph.initializers.set('w_scale', randomFloat([3], 6, 0.004, 0.012));
    model.graph.initializers.set('w_zero', { dtype: 'int8', shape: [3], data: new Int8Array(3) });
    const { fused, model: copy } = fuseQdq(model);
    expect(fused).toBe(0);
    expect(opTypes(copy)).toContain('Conv');
  });

  it('leaves a group whose float result is read elsewhere, and does not touch its input model', () => {
    const model = convModel();
    model.graph.outputs.push({ name: 'y', dtype: 'float32' });
    const before = encodeModel(model);
    const { fused, model: copy } = fuseQdq(model);
    expect(fused).toBe(0);
    expect(opTypes(copy)).toContain('Conv');
    expect(encodeModel(model)).toEqual(before);
  });

  it('does not mutate the model it fuses', () => {
    const model = convModel();
    const before = encodeModel(model);
    const { model: copy } = fuseQdq(model);
    expect(opTypes(copy)).toContain('QLinearConv');
    expect(encodeModel(model)).toEqual(before);
  });

  function matMulModel(perColumn: boolean): Model {
    return createModel({
      opset: 13,
      nodes: [
        ...qdq('a', 'a'),
        {
          opType: 'DequantizeLinear',
          inputs: ['b_q', 'b_scale', 'b_zero'],
          outputs: ['b_dq'],
          attributes: { axis: 1 },
        },
        { opType: 'MatMul', name: 'matmul', inputs: ['a_dq', 'b_dq'], outputs: ['y'] },
        ...qdq('y', 'out'),
      ],
      inputs: [['a', 'float32', [2, 3, 16]]],
      outputs: [['out_dq', 'float32', [2, 3, 8]]],
      initializers: {
        a_scale: scalar('float32', 0.015),
        a_zero: scalar('int8', 3),
        b_q: codes('int8', [16, 8], 7, -127, 127),
        b_scale: perColumn ? randomFloat([8], 8, 0.005, 0.01) : scalar('float32', 0.007),
        b_zero: perColumn ? { dtype: 'int8', shape: [8], data: new Int8Array(8) } : scalar('int8', 0),
        out_scale: scalar('float32', 0.02),
        out_zero: scalar('int8', -10),
      },
    });
  }

  it('fuses batched MatMul with per-column weights into QLinearMatMul (int8)', async () => {
    const a = randomFloat([2, 3, 16], 9, -1.5, 1.5);
    const { fused, fusedModel } = await expectSameOutputs(matMulModel(true), { a }, 0.02);
    expect(fused).toBe(1);
    expect(opTypes(fusedModel)).toEqual(['QuantizeLinear', 'QLinearMatMul', 'DequantizeLinear']);
  });

  it('fuses Gemm (transB, float C, alpha) into com.microsoft QGemm', async () => {
    const model = createModel({
      opset: 13,
      nodes: [
        ...qdq('a', 'a'),
        { opType: 'DequantizeLinear', inputs: ['b_q', 'b_scale', 'b_zero'], outputs: ['b_dq'] },
        {
          opType: 'Gemm',
          name: 'gemm',
          inputs: ['a_dq', 'b_dq', 'c'],
          outputs: ['y'],
          attributes: {
            transB: 1,
            alpha: { type: 'float', value: 0.75 },
            beta: { type: 'float', value: 1.5 },
          },
        },
        ...qdq('y', 'out'),
      ],
      inputs: [['a', 'float32', [5, 12]]],
      outputs: [['out_dq', 'float32', [5, 6]]],
      initializers: {
        a_scale: scalar('float32', 0.02),
        a_zero: scalar('uint8', 120),
        b_q: codes('uint8', [6, 12], 10, 0, 255),
        b_scale: scalar('float32', 0.006),
        b_zero: scalar('uint8', 128),
        c: randomFloat([6], 11, -0.3, 0.3),
        out_scale: scalar('float32', 0.015),
        out_zero: scalar('uint8', 128),
      },
    });
    const a = randomFloat([5, 12], 12, -2, 2);
    const { fused, fusedModel } = await expectSameOutputs(model, { a }, 0.015);
    expect(fused).toBe(1);
    expect(opTypes(fusedModel)).toEqual(['QuantizeLinear', 'QGemm', 'DequantizeLinear']);
    expect(fusedModel.opsetImports.some((entry) => entry.domain === 'com.microsoft')).toBe(true);
  });

  it('fuses a residual block: two Convs and the Add that joins them', async () => {
    const weights = (seed: number) => codes('int8', [3, 3, 3, 3], seed, -127, 127);
    const model = createModel({
      opset: 13,
      nodes: [
        ...qdq('x', 'x'),
        { opType: 'DequantizeLinear', inputs: ['w1_q', 'w_scale'], outputs: ['w1'] },
        { opType: 'DequantizeLinear', inputs: ['w2_q', 'w_scale'], outputs: ['w2'] },
        { opType: 'Conv', inputs: ['x_dq', 'w1'], outputs: ['c1'], attributes: { pads: [1, 1, 1, 1] } },
        ...qdq('c1', 'c1'),
        { opType: 'Conv', inputs: ['c1_dq', 'w2'], outputs: ['c2'], attributes: { pads: [1, 1, 1, 1] } },
        ...qdq('c2', 'c2'),
        { opType: 'Add', inputs: ['c1_dq', 'c2_dq'], outputs: ['sum'] },
        ...qdq('sum', 'out'),
      ],
      inputs: [['x', 'float32', [1, 3, 5, 5]]],
      outputs: [['out_dq', 'float32', [1, 3, 5, 5]]],
      initializers: {
        x_scale: scalar('float32', 0.02),
        x_zero: scalar('uint8', 128),
        w1_q: weights(20),
        w2_q: weights(21),
        w_scale: scalar('float32', 0.006),
        c1_scale: scalar('float32', 0.05),
        c1_zero: scalar('uint8', 128),
        c2_scale: scalar('float32', 0.08),
        c2_zero: scalar('uint8', 128),
        out_scale: scalar('float32', 0.1),
        out_zero: scalar('uint8', 128),
      },
    });
    const input = randomFloat([1, 3, 5, 5], 22, -2, 2);
    const { fused, fusedModel } = await expectSameOutputs(model, { x: input }, 0.1);
    expect(fused).toBe(3);
    expect(opTypes(fusedModel)).toEqual([
      'QuantizeLinear',
      'QLinearConv',
      'QLinearConv',
      'QLinearAdd',
      'DequantizeLinear',
    ]);
  });

  it('fuses Mul by a quantized constant into QLinearMul', async () => {
    const model = createModel({
      opset: 13,
      nodes: [
        ...qdq('x', 'x'),
        { opType: 'DequantizeLinear', inputs: ['k_q', 'k_scale', 'k_zero'], outputs: ['k'] },
        { opType: 'Mul', inputs: ['x_dq', 'k'], outputs: ['product'] },
        ...qdq('product', 'out'),
      ],
      inputs: [['x', 'float32', [2, 4]]],
      outputs: [['out_dq', 'float32', [2, 4]]],
      initializers: {
        x_scale: scalar('float32', 0.02),
        x_zero: scalar('int8', 0),
        k_q: codes('int8', [4], 30, -127, 127),
        k_scale: scalar('float32', 0.01),
        k_zero: scalar('int8', 0),
        out_scale: scalar('float32', 0.004),
        out_zero: scalar('int8', 0),
      },
    });
    const { fused, fusedModel } = await expectSameOutputs(
      model,
      { x: randomFloat([2, 4], 31, -2, 2) },
      0.004,
    );
    expect(fused).toBe(1);
    expect(opTypes(fusedModel)).toEqual(['QuantizeLinear', 'QLinearMul', 'DequantizeLinear']);
  });

  it('leaves 16-bit activations, per-row MatMul weights and non-constant weights alone', () => {
    const sixteen = createModel({
      opset: 21,
      nodes: [
        ...qdq('x', 'x'),
        { opType: 'DequantizeLinear', inputs: ['w_q', 'w_scale'], outputs: ['w'] },
        { opType: 'MatMul', inputs: ['x_dq', 'w'], outputs: ['y'] },
        ...qdq('y', 'out'),
      ],
      inputs: [['x', 'float32', [2, 4]]],
      outputs: [['out_dq', 'float32', [2, 3]]],
      initializers: {
        x_scale: scalar('float32', 0.001),
        x_zero: { dtype: 'uint16', shape: [], data: Uint16Array.of(30000) },
        w_q: codes('int8', [4, 3], 40, -127, 127),
        w_scale: scalar('float32', 0.01),
        out_scale: scalar('float32', 0.01),
        out_zero: scalar('uint8', 0),
      },
    });
    expect(fuseQdq(sixteen).fused).toBe(0);
    const perRow = matMulModel(true);
    const dq = perRow.graph.nodes.find(
      (node) => node.opType === 'DequantizeLinear' && node.inputs[0] === 'b_q',
    )!;
    dq.attributes.set('axis', { type: 'int', value: 0 });
    perRow.graph.initializers.set('b_scale', randomFloat([16], 41, 0.005, 0.01));
    perRow.graph.initializers.set('b_zero', { dtype: 'int8', shape: [16], data: new Int8Array(16) });
    expect(fuseQdq(perRow).fused).toBe(0);
    const fed = matMulModel(false);
    const weight = fed.graph.initializers.get('b_q')!;
    fed.graph.initializers.delete('b_q');
    fed.graph.inputs.push({ name: 'b_q', dtype: weight.dtype, shape: [...weight.shape] });
    expect(fuseQdq(fed).fused).toBe(0);
  });
});
